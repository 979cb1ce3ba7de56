"""/api/v1/memories against a real daemon (the shared local embedding model): add, list, update,
query by meaning, reset, delete one and all; each user sees only their own; bad input (empty,
bad path, oversized, nothing to update); the permission and the ENABLE_MEMORIES switch; and a
failing embedder leaves no row behind."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.corpus.make import model_env
from tests.daemon_proc import start_daemon
from tests.daemons import client_fixture, daemon_fixture, users_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import assert_error, bearer, signup, tcp

MEMORIES = "/api/v1/memories"
NOT_FOUND = "We could not find what you're looking for :/"
EMBED_MODEL = "nomic-embed-text:latest"


daemon = daemon_fixture(env=lambda: model_env({"WEBUI_MEMORY_MAX_CHARS": "500"}), tmp="memories")


client = client_fixture(timeout=60)


users = users_fixture("alice", "bob", email="{name}@x.io")


def h(users: dict[str, Any], who: str) -> dict[str, str]:
    return bearer(users[who]["token"])


def add(client: httpx.Client, headers: dict[str, str], content: str, **extra: Any) -> Any:
    r = client.post(f"{MEMORIES}/add", headers=headers, json={"content": content, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def listed(client: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get(f"{MEMORIES}/", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json())


def test_add_list_update_delete(client: httpx.Client, users: dict[str, Any]) -> None:
    alice = h(users, "alice")
    made = add(client, alice, "  I am vegetarian.  ", type="user", path="/food//diet/")
    assert made["content"] == "I am vegetarian."  # trimmed, as Open WebUI
    assert made["type"] == "user" and made["path"] == "food/diet"
    assert made["user_id"] == users["alice"]["id"]
    assert made["meta"] == {"created_by": "manual"}
    assert made["created_at"] == made["updated_at"] > 0
    plain = add(client, alice, "My bike is a red Brompton.")
    assert plain["type"] == "context" and plain["path"] is None
    assert [m["id"] for m in listed(client, alice)] == [made["id"], plain["id"]]

    r = client.post(
        f"{MEMORIES}/{plain['id']}/update", headers=alice, json={"content": "My bike is blue."}
    )
    assert r.status_code == 200, r.text
    assert r.json()["content"] == "My bike is blue." and r.json()["type"] == "context"
    r = client.post(f"{MEMORIES}/{made['id']}/update", headers=alice, json={"path": ""})
    assert r.status_code == 200 and r.json()["path"] is None  # "" clears the path
    assert r.json()["content"] == "I am vegetarian."

    r = client.delete(f"{MEMORIES}/{plain['id']}", headers=alice)
    assert r.status_code == 200 and r.json() is True
    assert client.delete(f"{MEMORIES}/{plain['id']}", headers=alice).json() is False
    assert [m["id"] for m in listed(client, alice)] == [made["id"]]

    r = client.delete(f"{MEMORIES}/delete/user", headers=alice)
    assert r.status_code == 200 and r.json() is True
    assert listed(client, alice) == []


def test_query_by_meaning(client: httpx.Client, users: dict[str, Any]) -> None:
    bob = h(users, "bob")
    client.delete(f"{MEMORIES}/delete/user", headers=bob)
    r = client.post(f"{MEMORIES}/query", headers=bob, json={"content": "anything"})
    assert assert_error(r, 404) == "No memories found for user"
    cat = add(client, bob, "My cat is called Felix and she sleeps all day.")
    add(client, bob, "I climb mountains in the Alps every summer.")
    add(client, bob, "My favourite programming language is Rust.")
    r = client.post(f"{MEMORIES}/query", headers=bob, json={"content": "What pet do I have?"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["ids"] == [[cat["id"]]]  # k defaults to 1
    assert result["documents"] == [[cat["content"]]]
    assert result["metadatas"][0][0]["type"] == "context"
    r = client.post(f"{MEMORIES}/query", headers=bob, json={"content": "hiking holidays", "k": 3})
    scores = r.json()["distances"][0]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert "Alps" in r.json()["documents"][0][0]
    # A path is embedded with the content, and comes back on the first line.
    filed = add(client, bob, "Standup is at 9:30.", path="work/team")
    r = client.post(f"{MEMORIES}/query", headers=bob, json={"content": "team standup time"})
    assert r.json()["ids"] == [[filed["id"]]]
    assert r.json()["documents"] == [["work/team\nStandup is at 9:30."]]
    # Reset re-embeds everything: the same answers afterwards.
    assert client.post(f"{MEMORIES}/reset", headers=bob).json() is True
    r = client.post(f"{MEMORIES}/query", headers=bob, json={"content": "What pet do I have?"})
    assert r.json()["ids"] == [[cat["id"]]]


def test_each_user_sees_only_their_own(client: httpx.Client, users: dict[str, Any]) -> None:
    alice, bob = h(users, "alice"), h(users, "bob")
    secret = add(client, alice, "My locker code is 4711-zulu.", type="user")
    mine = add(client, bob, "My locker is number 12.")
    assert secret["id"] not in {m["id"] for m in listed(client, bob)}
    # Another user's memory: 404 on update, false on delete (as Open WebUI), never its text.
    r = client.post(
        f"{MEMORIES}/{secret['id']}/update", headers=bob, json={"content": "overwritten"}
    )
    assert assert_error(r, 404) == NOT_FOUND and "4711-zulu" not in r.text
    r = client.delete(f"{MEMORIES}/{secret['id']}", headers=bob)
    assert r.status_code == 200 and r.json() is False
    # Bob's search never finds Alice's memory, however close it is.
    r = client.post(
        f"{MEMORIES}/query", headers=bob, json={"content": "locker code 4711-zulu", "k": 50}
    )
    assert secret["id"] not in r.json()["ids"][0] and "4711-zulu" not in r.text
    assert mine["id"] in r.json()["ids"][0]
    # Bob clearing his memories leaves Alice's.
    client.delete(f"{MEMORIES}/delete/user", headers=bob)
    assert [m["content"] for m in listed(client, alice)] == ["My locker code is 4711-zulu."]
    # The admin's list is the admin's own too.
    assert secret["id"] not in {m["id"] for m in listed(client, h(users, "admin"))}


def test_bad_input(client: httpx.Client, users: dict[str, Any]) -> None:
    alice = h(users, "alice")
    before = listed(client, alice)
    r = client.post(f"{MEMORIES}/add", headers=alice, json={"content": "   "})
    assert assert_error(r, 400) == "Memory content cannot be empty"
    r = client.post(f"{MEMORIES}/add", headers=alice, json={"content": "x", "path": "a/../b"})
    assert assert_error(r, 400) == "Invalid memory path"
    r = client.post(f"{MEMORIES}/add", headers=alice, json={"content": "y" * 501})
    detail = assert_error(r, 413)
    assert "500" in detail and "501" in detail
    r = client.post(f"{MEMORIES}/add", headers=alice, json={"content": "x", "type": "secret"})
    assert r.status_code == 422
    r = client.post(f"{MEMORIES}/query", headers=alice, json={"content": "x", "k": 0})
    assert r.status_code == 422
    assert listed(client, alice) == before  # nothing stored by a refused request
    one = add(client, alice, "I drink my coffee black.")
    r = client.post(f"{MEMORIES}/{one['id']}/update", headers=alice, json={})
    assert assert_error(r, 400) == "No memory update provided"
    r = client.post(f"{MEMORIES}/{one['id']}/update", headers=alice, json={"content": "z" * 501})
    assert assert_error(r, 413)
    r = client.post(f"{MEMORIES}/no-such-id/update", headers=alice, json={"content": "x"})
    assert assert_error(r, 404) == NOT_FOUND
    assert next(m for m in listed(client, alice) if m["id"] == one["id"])["content"] == (
        "I drink my coffee black."
    )
    assert client.get(f"{MEMORIES}/").status_code == 401


def test_permission(client: httpx.Client, users: dict[str, Any]) -> None:
    admin, alice = h(users, "admin"), h(users, "alice")
    tree = client.get("/api/v1/users/default/permissions", headers=admin).json()
    assert tree["features"]["memories"] is True
    off = {**tree, "features": {**tree["features"], "memories": False}}
    assert client.post("/api/v1/users/default/permissions", headers=admin, json=off).is_success
    try:
        for r in (
            client.get(f"{MEMORIES}/", headers=alice),
            client.post(f"{MEMORIES}/add", headers=alice, json={"content": "x"}),
            client.post(f"{MEMORIES}/query", headers=alice, json={"content": "x"}),
            client.delete(f"{MEMORIES}/delete/user", headers=alice),
        ):
            assert_error(r, 403)
        assert client.get(f"{MEMORIES}/", headers=admin).status_code == 200  # admins always
    finally:
        client.post("/api/v1/users/default/permissions", headers=admin, json=tree)
    assert client.get(f"{MEMORIES}/", headers=alice).status_code == 200


# ---- a daemon whose embedder fails, and one with memories switched off -------------------


@pytest.fixture(scope="module")
def embedder() -> Iterator[StandIn]:
    s = start_ollama(models=[EMBED_MODEL])
    yield s
    s.stop()


def test_failed_embedding_stores_nothing(
    tmp_path_factory: pytest.TempPathFactory, embedder: StandIn
) -> None:
    env = provider_env(
        ollama=[embedder],
        RAG_EMBEDDING_ENGINE="ollama",
        RAG_EMBEDDING_MODEL=EMBED_MODEL,
        RAG_OLLAMA_BASE_URL=embedder.url,
        DEFAULT_USER_ROLE="user",
    )
    proc = start_daemon(tmp_path_factory.mktemp("memories-embed"), env=env)
    try:
        with tcp(proc, timeout=30) as c:
            me = bearer(signup(c, "Admin", "admin@example.com")["token"])
            kept = add(c, me, "My train leaves at 7:12.")
            embedder.remove_model(EMBED_MODEL)  # the embedding endpoint now answers 404
            r = c.post(f"{MEMORIES}/add", headers=me, json={"content": "I like tea."})
            assert "Embedding failed" in assert_error(r, 503)
            r = c.post(f"{MEMORIES}/{kept['id']}/update", headers=me, json={"content": "8:00"})
            assert_error(r, 503)
            assert [(m["id"], m["content"]) for m in listed(c, me)] == [
                (kept["id"], "My train leaves at 7:12.")
            ]
            embedder.add_model(EMBED_MODEL)
            again = add(c, me, "I like tea.")
            r = c.post(f"{MEMORIES}/query", headers=me, json={"content": "I like tea.", "k": 2})
            assert r.json()["ids"][0][0] == again["id"]
    finally:
        proc.stop()


def test_memories_switched_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    proc = start_daemon(tmp_path_factory.mktemp("memories-off"), env={"ENABLE_MEMORIES": "false"})
    try:
        with tcp(proc) as c:
            me = bearer(signup(c, "Admin", "admin@example.com")["token"])
            assert assert_error(c.get(f"{MEMORIES}/", headers=me), 404) == NOT_FOUND
            r = c.post(f"{MEMORIES}/add", headers=me, json={"content": "x"})
            assert_error(r, 404)
            assert c.get("/api/config", headers=me).json()["features"]["enable_memories"] is False
    finally:
        proc.stop()
