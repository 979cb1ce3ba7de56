"""Open WebUI 0.12's access updates: `POST /api/v1/models/model/access/update` and
`POST /api/v1/knowledge/{id}/access/update` (who may call, what they may grant, and that a
grant or its removal takes effect at once)."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.corpus.make import model_env
from tests.daemons import client_fixture, daemon_fixture, sign_up
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import assert_error, bearer, principals

MODELS = ["standin:latest", "other:7b", "third:1b"]
MODEL_ACCESS = "/api/v1/models/model/access/update"
SHARING_REFUSED = "You do not have permission to share with the requested audience"
ACCESS_PROHIBITED = (
    "You do not have permission to access this resource. "
    "Please contact your administrator for assistance."
)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=MODELS, reply="Hi.")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: model_env(provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false")),
    tmp="access",
)


client = client_fixture()


@pytest.fixture(scope="module")
def who(client: httpx.Client) -> dict[str, Any]:
    admin, una, bob = sign_up(client, "una", "bob").values()
    return {
        "admin": bearer(admin["token"]),
        "admin_id": admin["id"],
        "una": bearer(una["token"]),
        "una_id": una["id"],
        "bob": bearer(bob["token"]),
        "bob_id": bob["id"],
    }


def grant(kind: str, principal: str, permission: str = "read") -> dict[str, str]:
    return {"principal_type": kind, "principal_id": principal, "permission": permission}


def model_ids(client: httpx.Client, headers: dict[str, str]) -> list[str]:
    r = client.get("/api/models", headers=headers)
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["data"]]


def set_defaults(client: httpx.Client, who: dict[str, Any], **changes: dict[str, bool]) -> None:
    tree = client.get("/api/v1/users/default/permissions", headers=who["admin"]).json()
    for section, values in changes.items():
        tree[section].update(values)
    r = client.post("/api/v1/users/default/permissions", headers=who["admin"], json=tree)
    assert r.status_code == 200, r.text


def test_an_admin_grants_a_provider_model_and_takes_it_back(
    client: httpx.Client, who: dict[str, Any]
) -> None:
    assert "standin:latest" not in model_ids(client, who["una"])  # no record: admins only
    body = {
        "id": "standin:latest",
        "name": "Standin",
        "access_grants": [grant("user", who["una_id"])],
    }
    r = client.post(MODEL_ACCESS, headers=who["admin"], json=body)
    assert r.status_code == 200, r.text
    record = r.json()
    # A minimal record, owned by the admin, with 0.12's grants (and the 0.6 form beside them).
    assert record["id"] == "standin:latest" and record["name"] == "Standin"
    assert record["user_id"] == who["admin_id"] and record["base_model_id"] is None
    assert record["params"] == {} and record["is_active"] is True
    assert principals(record["access_grants"]) == [grant("user", who["una_id"])]
    assert record["access_control"]["read"]["user_ids"] == [who["una_id"]]
    # At once: Una sees and uses it, Bob does not.
    assert "standin:latest" in model_ids(client, who["una"])
    assert "standin:latest" not in model_ids(client, who["bob"])
    chat = {"model": "standin:latest", "messages": [{"role": "user", "content": "hi"}]}
    r = client.post("/api/chat/completions", headers=who["una"], json={**chat, "stream": False})
    assert r.status_code == 200, r.text
    # The record keeps its name; the provider model keeps its place in the admin's list.
    admin_view = {
        m["id"]: m for m in client.get("/api/models", headers=who["admin"]).json()["data"]
    }
    assert admin_view["standin:latest"]["name"] == "Standin"

    # Replaced whole: an empty list takes every grant away.
    r = client.post(
        MODEL_ACCESS, headers=who["admin"], json={"id": "standin:latest", "access_grants": []}
    )
    assert r.status_code == 200, r.text
    assert r.json()["access_grants"] == [] and r.json()["name"] == "Standin"
    assert "standin:latest" not in model_ids(client, who["una"])
    r = client.post("/api/chat/completions", headers=who["una"], json={**chat, "stream": False})
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})


def test_group_and_public_grants(client: httpx.Client, who: dict[str, Any]) -> None:
    admin = who["admin"]
    group = client.post(
        "/api/v1/groups/create", headers=admin, json={"name": "gpu", "description": ""}
    ).json()
    client.post(
        f"/api/v1/groups/id/{group['id']}/users/add",
        headers=admin,
        json={"user_ids": [who["bob_id"]]},
    )
    twice = [grant("group", group["id"]), grant("group", group["id"])]
    r = client.post(MODEL_ACCESS, headers=admin, json={"id": "other:7b", "access_grants": twice})
    assert r.status_code == 200, r.text
    assert principals(r.json()["access_grants"]) == [grant("group", group["id"])]  # each grant once
    assert "other:7b" in model_ids(client, who["bob"])
    assert "other:7b" not in model_ids(client, who["una"])
    public = [grant("user", "*")]
    r = client.post(MODEL_ACCESS, headers=admin, json={"id": "other:7b", "access_grants": public})
    assert r.status_code == 200, r.text
    assert r.json()["access_control"] is None  # public read, in the 0.6 form
    assert "other:7b" in model_ids(client, who["una"])


def test_who_may_change_a_models_access(client: httpx.Client, who: dict[str, Any]) -> None:
    una, bob = who["una"], who["bob"]
    # No record yet: only an admin may make one (403, as 0.12).
    r = client.post(MODEL_ACCESS, headers=una, json={"id": "third:1b", "access_grants": []})
    assert assert_error(r, 403) == ACCESS_PROHIBITED
    assert "third:1b" not in model_ids(client, una)
    # Una may make presets; Bob, not the owner and no writer, may not change hers (400, 0.12).
    set_defaults(client, who, workspace={"models": True})
    form = {"id": "una-preset", "name": "Una's", "base_model_id": "standin:latest"}
    r = client.post("/api/v1/models/create", headers=una, json={**form, "access_grants": []})
    assert r.status_code == 200, r.text
    to_bob = {"id": "una-preset", "access_grants": [grant("user", who["bob_id"])]}
    r = client.post(MODEL_ACCESS, headers=bob, json=to_bob)
    assert assert_error(r, 400) == ACCESS_PROHIBITED
    assert "una-preset" not in model_ids(client, bob)
    # The owner may, once sharing is allowed: grants beyond it refuse the whole update.
    r = client.post(MODEL_ACCESS, headers=una, json=to_bob)
    assert assert_error(r, 403) == SHARING_REFUSED
    set_defaults(client, who, sharing={"models": True})
    r = client.post(MODEL_ACCESS, headers=una, json=to_bob)
    assert r.status_code == 200, r.text
    assert "una-preset" in model_ids(client, bob)
    public = {"id": "una-preset", "access_grants": [grant("user", "*")]}
    r = client.post(MODEL_ACCESS, headers=una, json=public)
    assert assert_error(r, 403) == SHARING_REFUSED  # public needs sharing.public_models
    record = client.get("/api/v1/models/model", headers=una, params={"id": "una-preset"}).json()
    assert principals(record["access_grants"]) == [grant("user", who["bob_id"])]
    # A writer may change the grants too (0.12).
    writer = {"id": "una-preset", "access_grants": [grant("user", who["bob_id"], "write")]}
    assert client.post(MODEL_ACCESS, headers=una, json=writer).status_code == 200
    r = client.post(MODEL_ACCESS, headers=bob, json={"id": "una-preset", "access_grants": []})
    assert r.status_code == 200, r.text
    set_defaults(client, who, workspace={"models": False}, sharing={"models": False})


def test_model_access_bodies_are_typed(client: httpx.Client, who: dict[str, Any]) -> None:
    admin = who["admin"]
    bad = [
        {"access_grants": []},  # no id
        {"id": "has space", "access_grants": []},
        {"id": "third:1b"},  # no grants
        {"id": "third:1b", "access_grants": [{"principal_type": "robot", "principal_id": "x"}]},
        {"id": "third:1b", "access_grants": [grant("user", "u", "own")]},
    ]
    for body in bad:
        r = client.post(MODEL_ACCESS, headers=admin, json=body)
        assert r.status_code == 422, (body, r.text)
    assert client.post(MODEL_ACCESS, json={"id": "x", "access_grants": []}).status_code == 401


def test_knowledge_access_update(client: httpx.Client, who: dict[str, Any]) -> None:
    una, bob = who["una"], who["bob"]
    set_defaults(client, who, workspace={"knowledge": True})
    r = client.post("/api/v1/knowledge/create", headers=una, json={"name": "Una's notes"})
    assert r.status_code == 200, r.text
    kb = r.json()
    path = f"/api/v1/knowledge/{kb['id']}/access/update"
    to_bob = {"access_grants": [grant("user", who["bob_id"])]}
    assert client.get(f"/api/v1/knowledge/{kb['id']}", headers=bob).status_code == 401
    # Not the owner, no grant: 400 as 0.12; the owner without sharing.knowledge: 403.
    assert assert_error(client.post(path, headers=bob, json=to_bob), 400) == ACCESS_PROHIBITED
    assert assert_error(client.post(path, headers=una, json=to_bob), 403) == SHARING_REFUSED
    # An admin may; the answer is the knowledge base with its files; Bob reads it at once.
    r = client.post(path, headers=who["admin"], json=to_bob)
    assert r.status_code == 200, r.text
    assert principals(r.json()["access_grants"]) == [grant("user", who["bob_id"])]
    assert r.json()["files"] == [] and r.json()["user_id"] == who["una_id"]
    assert client.get(f"/api/v1/knowledge/{kb['id']}", headers=bob).status_code == 200
    # A reader may not change who has access.
    assert client.post(path, headers=bob, json={"access_grants": []}).status_code == 400
    # The owner takes it back once sharing is allowed; Bob loses access at once.
    set_defaults(client, who, sharing={"knowledge": True})
    r = client.post(path, headers=una, json={"access_grants": []})
    assert r.status_code == 200, r.text
    assert r.json()["access_grants"] == []
    assert client.get(f"/api/v1/knowledge/{kb['id']}", headers=bob).status_code == 401
    missing = client.post(
        "/api/v1/knowledge/no-such-kb/access/update", headers=who["admin"], json=to_bob
    )
    assert assert_error(missing, 404)
    assert client.post(path, headers=una, json={"access_grants": "all"}).status_code == 422
    set_defaults(client, who, workspace={"knowledge": False}, sharing={"knowledge": False})
