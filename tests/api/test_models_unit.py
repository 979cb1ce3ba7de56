"""ModelService without a daemon: the access rule, BYPASS_MODEL_ACCESS_CONTROL, resolution."""

from typing import Any

import pytest

from webui_daemon.providers.base import Connection
from webui_daemon.providers.catalog import Snapshot, merge
from webui_daemon.services.errors import WebUIError
from webui_daemon.services.models.models import ModelService
from webui_daemon.storage.models import ModelRow
from webui_daemon.storage.rows import UserRow

PUBLIC = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]


def user(role: str, uid: str = "u1") -> UserRow:
    return UserRow(uid, f"{uid}@x.io", uid, role, "", 0, 0, 0)


class FakeCatalog:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snap = snapshot

    async def snapshot(self, **_: Any) -> Snapshot:
        return self.snap


class NoGroups:
    async def for_user(self, user_id: str) -> list[Any]:
        return []


def service(*records: ModelRow, bypass: bool = False) -> ModelService:
    conn = Connection("ollama", 0, "http://a")
    snap = merge([(conn, [{"name": "base:1", "model": "base:1"}, {"name": "x:1"}])], [])

    async def permissions(_: UserRow) -> dict[str, dict[str, bool]]:
        return {}

    models = ModelService(
        None,  # type: ignore[arg-type]  # the repo is not used by these calls
        NoGroups(),  # type: ignore[arg-type]
        FakeCatalog(snap),  # type: ignore[arg-type]
        permissions=permissions,
        bypass_access=bypass,
    )
    models.records = {r.id: r for r in records}
    return models


def record(model_id: str, base: str | None, **kw: Any) -> ModelRow:
    return ModelRow(
        id=model_id,
        user_id="admin",
        name=model_id,
        created_at=1,
        updated_at=1,
        base_model_id=base,
        **kw,
    )


async def test_users_see_records_admins_everything_bypass_everyone() -> None:
    preset = record("p", "base:1", params={"system": "S", "top_k": 3}, access_grants=PUBLIC)
    models = service(preset)
    assert [m["id"] for m in await models.available(user("user"))] == ["p"]
    assert {m["id"] for m in await models.available(user("admin"))} == {"base:1", "x:1", "p"}
    everyone = service(preset, bypass=True)
    assert {m["id"] for m in await everyone.available(user("user"))} == {"base:1", "x:1", "p"}
    resolved = await everyone.resolve(user("user"), "x:1")
    assert resolved.base.id == "x:1" and resolved.params == {}


async def test_resolution_follows_preset_chains_and_checks_each_record() -> None:
    inner = record("inner", "base:1", params={"top_k": 1, "temperature": 0.5}, access_grants=PUBLIC)
    outer = record("outer", "inner", params={"top_k": 9}, access_grants=PUBLIC)
    models = service(inner, outer)
    resolved = await models.resolve(user("user"), "outer")
    assert resolved.base.id == "base:1" and resolved.record is outer
    assert resolved.params == {"top_k": 9, "temperature": 0.5}  # the outer preset wins
    private_inner = service(record("inner", "base:1"), outer)  # no grant on the inner one
    with pytest.raises(WebUIError, match="Model not found"):
        await private_inner.resolve(user("user"), "outer")
    hidden = service(record("base:1", None, is_active=False, access_grants=PUBLIC))
    with pytest.raises(WebUIError, match="Model not found"):
        await hidden.resolve(user("admin"), "base:1")
    assert "base:1" not in {m["id"] for m in await hidden.available(user("admin"))}
    with pytest.raises(WebUIError, match="Model not found"):
        await models.resolve(user("admin"), "base:1", kind="openai")
