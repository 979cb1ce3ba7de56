"""Models: the aggregated list, who sees which model, and workspace records (presets)."""

from typing import Any

import httpx
import pytest

from tests.daemons import client_fixture, daemon_fixture, sign_up
from tests.standins import StandIn, StandIns, provider_env, standins
from tests.support import assert_error, bearer, principals

__all__ = ["standins"]  # fixture used below

OLLAMA_MODELS = ["standin:latest", "other:7b"]
OPENAI_MODELS = ["gpt-a"]


@pytest.fixture(scope="module")
def providers(standins: StandIns) -> tuple[StandIn, StandIn]:
    return standins.ollama(models=OLLAMA_MODELS), standins.openai(models=OPENAI_MODELS)


daemon = daemon_fixture(
    env=lambda providers: {
        "DEFAULT_USER_ROLE": "user",
        **provider_env(ollama=[providers[0]], openai=[providers[1]]),
    },
    tmp="models",
)


client = client_fixture()


@pytest.fixture(scope="module")
def tokens(client: httpx.Client) -> dict[str, str]:
    signed = sign_up(client, "una", "bob")
    una, bob = signed["una"], signed["bob"]
    return {
        "admin": signed["admin"]["token"],
        "una": una["token"],
        "una_id": una["id"],
        "bob": bob["token"],
        "bob_id": bob["id"],
    }


def H(tokens: dict[str, str], who: str) -> dict[str, str]:
    return bearer(tokens[who])


def ids(client: httpx.Client, headers: dict[str, str], path: str = "/api/models") -> list[str]:
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"data"}  # no "object": "list" (spec 4.1)
    return [m["id"] for m in r.json()["data"]]


def create(client: httpx.Client, headers: dict[str, str], **form: Any) -> httpx.Response:
    form.setdefault("name", form["id"].title())
    return client.post("/api/v1/models/create", headers=headers, json=form)


def test_admin_sees_every_provider_model(client: httpx.Client, tokens: dict[str, str]) -> None:
    r = client.get("/api/models", headers=H(tokens, "admin"))
    models = {m["id"]: m for m in r.json()["data"]}
    assert set(models) == {*OLLAMA_MODELS, *OPENAI_MODELS}
    llama = models["standin:latest"]
    assert llama["owned_by"] == "ollama" and llama["ollama"]["urls"] == [0]
    assert llama["connection_type"] == "local" and llama["loaded"] is False
    gpt = models["gpt-a"]
    assert gpt["owned_by"] == "openai" and gpt["urlIdx"] == 0
    assert gpt["openai"]["owned_by"] == "standin" and gpt["connection_type"] == "external"
    assert all(m["actions"] == [] and m["filters"] == [] for m in models.values())
    assert ids(client, H(tokens, "admin"), "/api/v1/models") == list(models)
    base = client.get("/api/models/base", headers=H(tokens, "admin")).json()["data"]
    assert {m["id"] for m in base} == set(models)
    assert_error(client.get("/api/models/base", headers=H(tokens, "una")), 401)


def test_users_see_only_models_with_a_readable_record(
    client: httpx.Client, tokens: dict[str, str]
) -> None:
    admin, una = H(tokens, "admin"), H(tokens, "una")
    assert ids(client, una) == []  # base models without a record are admin-only
    public = {
        "id": "pub",
        "base_model_id": "standin:latest",
        "params": {"system": "secret prompt", "temperature": 0.1},
        "access_control": None,  # 0.6: public read
    }
    assert create(client, admin, **public).status_code == 200
    assert (
        create(
            client, admin, id="priv", base_model_id="standin:latest", access_grants=[]
        ).status_code
        == 200
    )
    r = client.post(
        "/api/v1/groups/create", headers=admin, json={"name": "team", "description": ""}
    )
    group = r.json()["id"]
    client.post(
        f"/api/v1/groups/id/{group}/users/add", headers=admin, json={"user_ids": [tokens["una_id"]]}
    )
    grant = [{"principal_type": "group", "principal_id": group, "permission": "read"}]
    assert (
        create(client, admin, id="grp", base_model_id="gpt-a", access_grants=grant).status_code
        == 200
    )
    models = {m["id"]: m for m in client.get("/api/models", headers=una).json()["data"]}
    assert set(models) == {"pub", "grp"}
    pub = models["pub"]
    assert pub["preset"] is True and pub["owned_by"] == "ollama"
    assert pub["info"]["base_model_id"] == "standin:latest"
    assert "system" not in pub["info"]["params"]  # the prompt stays with owners and admins
    assert models["grp"]["owned_by"] == "openai"
    assert ids(client, H(tokens, "bob")) == ["pub"]
    admin_view = {m["id"]: m for m in client.get("/api/models", headers=admin).json()["data"]}
    assert admin_view["pub"]["info"]["params"]["system"] == "secret prompt"
    # Using a model follows the same rule; an unreadable one is "not found".
    body = {"messages": [{"role": "user", "content": "hi"}]}
    r = client.post("/api/chat/completions", headers=una, json={**body, "model": "pub"})
    assert r.status_code == 200, r.text
    r = client.post("/api/chat/completions", headers=una, json={**body, "model": "priv"})
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})
    tags = client.get("/ollama/api/tags", headers=una).json()["models"]
    assert tags == []  # no record for the Ollama base models themselves


def test_base_model_record_renames_and_hides(client: httpx.Client, tokens: dict[str, str]) -> None:
    admin, una = H(tokens, "admin"), H(tokens, "una")
    r = create(client, admin, id="other:7b", name="Other Renamed", meta={"tags": [{"name": "big"}]})
    assert r.status_code == 200, r.text
    assert r.json()["access_control"] is None  # no access given: public (0.6 default)
    models = {m["id"]: m for m in client.get("/api/models", headers=una).json()["data"]}
    assert models["other:7b"]["name"] == "Other Renamed"
    assert (
        models["other:7b"]["info"]["id"] == "other:7b"
        and {"name": "big"} in models["other:7b"]["tags"]
    )
    assert [m["model"] for m in client.get("/ollama/api/tags", headers=una).json()["models"]] == [
        "other:7b"
    ]
    r = client.post("/api/v1/models/model/toggle", headers=admin, params={"id": "other:7b"})
    assert r.json()["is_active"] is False
    assert "other:7b" not in ids(client, admin)  # an inactive record hides the model
    client.post("/api/v1/models/model/toggle", headers=admin, params={"id": "other:7b"})
    assert "other:7b" in ids(client, admin)


def test_record_crud_and_permissions(client: httpx.Client, tokens: dict[str, str]) -> None:
    admin, una, bob = H(tokens, "admin"), H(tokens, "una"), H(tokens, "bob")
    form = {"id": "mine", "base_model_id": "standin:latest", "access_control": None}
    assert_error(create(client, una, **form), 401)  # no workspace.models permission
    defaults = client.get("/api/v1/users/default/permissions", headers=admin).json()
    defaults["workspace"]["models"] = True
    client.post("/api/v1/users/default/permissions", headers=admin, json=defaults)
    assert_error(create(client, una, id="nobase"), 401)  # users must name a base model
    r = create(client, una, **form)
    assert r.status_code == 200, r.text
    record = r.json()
    assert record["access_grants"] == []  # may not share publicly: made private
    assert record["access_control"] == {
        "read": {"group_ids": [], "user_ids": []},
        "write": {"group_ids": [], "user_ids": []},
    }
    # A taken id: Open WebUI 0.12.4 answers 401 (not 400 or 409), with this message.
    assert "model id is already registered" in assert_error(create(client, admin, **form), 401)
    assert_error(create(client, admin, id="has space", base_model_id="x"), 400)
    assert "mine" in ids(client, una) and "mine" not in ids(client, bob)
    # Bob may neither read nor change it; a write grant lets him do both.
    assert_error(client.get("/api/v1/models/model", headers=bob, params={"id": "mine"}), 401)
    update = {**form, "name": "Mine v2", "params": {"system": "S"}}
    assert_error(client.post("/api/v1/models/model/update", headers=bob, json=update), 401)
    public = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
    grants = [{"principal_type": "user", "principal_id": tokens["bob_id"], "permission": "write"}]
    r = client.post(
        "/api/v1/models/model/update",
        headers=una,
        json={**update, "access_grants": public + grants},
    )
    assert r.status_code == 200 and r.json()["name"] == "Mine v2"
    assert (
        principals(r.json()["access_grants"]) == grants
    )  # public sharing needs sharing.public_models
    r = client.get("/api/v1/models/model", headers=bob, params={"id": "mine"})
    assert r.json()["write_access"] is True and r.json()["params"] == {"system": "S"}
    # 0.6 clients name the record in the query.
    r = client.post(
        "/api/v1/models/model/update",
        headers=bob,
        params={"id": "mine"},
        json={**update, "name": "B"},
    )
    assert r.status_code == 200 and r.json()["name"] == "B"
    assert principals(r.json()["access_grants"]) == grants  # a writer cannot change who has access
    listing = client.get("/api/v1/models/list", headers=una, params={"query": "MINE"}).json()
    assert listing["total"] == 1 and listing["items"][0]["user"]["email"] == "una@example.com"
    assert listing["items"][0]["write_access"] is True
    listing = client.get(
        "/api/v1/models/list", headers=bob, params={"view_option": "created"}
    ).json()
    assert listing == {"items": [], "total": 0}
    assert_error(client.get("/api/v1/models/model", headers=una, params={"id": "nope"}), 404)
    r = client.post("/api/v1/models/model/delete", headers=bob, json={"id": "mine"})
    assert r.json() is True
    assert_error(client.post("/api/v1/models/model/delete", headers=una, json={"id": "mine"}), 401)


def test_admin_record_routes(client: httpx.Client, tokens: dict[str, str]) -> None:
    admin, una = H(tokens, "admin"), H(tokens, "una")
    assert create(client, admin, id="gone", base_model_id="gpt-a").status_code == 200
    r = client.delete("/api/v1/models/model/delete", headers=admin, params={"id": "gone"})
    assert r.json() is True
    every = client.get("/api/v1/models/all", headers=admin).json()
    base = client.get("/api/v1/models/base", headers=admin).json()
    assert {m["id"] for m in base} <= {m["id"] for m in every}
    assert all(m["base_model_id"] is None for m in base)
    for path in ("/api/v1/models/all", "/api/v1/models/base"):
        assert_error(client.get(path, headers=una), 401)
    assert_error(client.delete("/api/v1/models/delete/all", headers=una), 401)
    assert client.delete("/api/v1/models/delete/all", headers=admin).json() is True
    assert client.get("/api/v1/models/all", headers=admin).json() == []
    assert ids(client, una) == []


def test_export_import_and_sync(client: httpx.Client, tokens: dict[str, str]) -> None:
    admin, una, bob = H(tokens, "admin"), H(tokens, "una"), H(tokens, "bob")
    client.delete("/api/v1/models/delete/all", headers=admin)
    assert create(client, admin, id="helper", base_model_id="standin:latest").status_code == 200
    params = {"system": "Be terse.", "temperature": 0.2}
    form = {"id": "helper", "name": "Helper", "base_model_id": "standin:latest", "params": params}
    r = client.post("/api/v1/models/model/update", headers=admin, json=form)
    assert r.status_code == 200, r.text
    exported = client.get("/api/v1/models/export", headers=admin).json()
    assert [(m["id"], m["params"]) for m in exported] == [("helper", params)]
    # Round trip: delete everything, import the export, get the same records back.
    client.delete("/api/v1/models/delete/all", headers=admin)
    r = client.post("/api/v1/models/import", headers=admin, json={"models": exported})
    assert r.json() is True
    again = client.get("/api/v1/models/export", headers=admin).json()
    times = ("created_at", "updated_at")  # an imported record is new: its times are now
    strip = lambda ms: [{k: v for k, v in m.items() if k not in times} for m in ms]  # noqa: E731
    assert strip(again) == strip(exported)
    # An import merges over what is stored: only the name changes here; new ids are created.
    items = [{"id": "helper", "name": "Helper 2"}, {"id": "coder", "base_model_id": "gpt-a"}]
    assert client.post("/api/v1/models/import", headers=admin, json={"models": items}).json()
    records = {m["id"]: m for m in client.get("/api/v1/models/export", headers=admin).json()}
    assert records["helper"]["name"] == "Helper 2" and records["helper"]["params"] == params
    assert records["coder"]["name"] == "coder" and records["coder"]["base_model_id"] == "gpt-a"
    # A bad item refuses the whole import: nothing is written.
    bad = [{"id": "third", "base_model_id": "gpt-a"}, {"name": "no id"}]
    assert_error(client.post("/api/v1/models/import", headers=admin, json={"models": bad}), 400)
    assert "third" not in {m["id"] for m in client.get("/api/v1/models/all", headers=admin).json()}
    # Users need the permissions, and may change only records they may write.
    assert_error(client.get("/api/v1/models/export", headers=una), 401)
    assert_error(client.post("/api/v1/models/import", headers=una, json={"models": []}), 401)
    defaults = client.get("/api/v1/users/default/permissions", headers=admin).json()
    defaults["workspace"].update(models=True, models_import=True, models_export=True)
    client.post("/api/v1/users/default/permissions", headers=admin, json=defaults)
    mine = [{"id": "unas", "base_model_id": "standin:latest", "name": "Una's"}]
    assert client.post("/api/v1/models/import", headers=una, json={"models": mine}).json()
    assert [m["id"] for m in client.get("/api/v1/models/export", headers=una).json()] == ["unas"]
    assert client.get("/api/v1/models/export", headers=bob).json() == []
    theirs = [{"id": "helper", "name": "Taken over"}]
    assert_error(client.post("/api/v1/models/import", headers=bob, json={"models": theirs}), 401)
    r = client.get("/api/v1/models/model", headers=admin, params={"id": "helper"})
    assert r.json()["name"] == "Helper 2"
    # Sync (admins): the records become exactly the list.
    r = client.post("/api/v1/models/sync", headers=admin, json={"models": [records["coder"]]})
    assert [m["id"] for m in r.json()] == ["coder"]
    assert [m["id"] for m in client.get("/api/v1/models/all", headers=admin).json()] == ["coder"]
    assert_error(client.post("/api/v1/models/sync", headers=una, json={"models": []}), 401)
