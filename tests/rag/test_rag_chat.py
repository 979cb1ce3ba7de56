"""RAG end to end through /api/chat/completions and a stand-in provider: context with
<source> tags reaches the model, the stream starts with the sources event, citations are saved
on the assistant message, and nobody retrieves from another user's knowledge."""

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.corpus.make import model_env, upload, wait_done
from tests.daemons import client_fixture, daemon_fixture, sign_up
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import bearer

MODEL = "standin:latest"
VOLCANO = "Mount Quillon erupted in 1822 and its ash darkened the valley of Serre for a week."
GARDEN = "The walled garden of Ostry grows saffron, quince and seventeen kinds of heirloom beans."


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply="It erupted in 1822 [1].")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: model_env(
        provider_env(ollama=[standin], BYPASS_MODEL_ACCESS_CONTROL="true")
    ),
    tmp="ragchat",
)


client = client_fixture(timeout=60)


@pytest.fixture(scope="module")
def world(client: httpx.Client) -> dict[str, Any]:
    """An admin, two users, and a knowledge base of alice's holding two documents."""
    admin, alice, bob = sign_up(client, "alice", "bob").values()
    files = []
    for name, text in (("volcano.md", VOLCANO), ("garden.txt", GARDEN)):
        record = upload(client, alice["token"], name, text.encode(), "text/plain")
        assert wait_done(client, alice["token"], record["id"])["data"]["status"] == "completed"
        files.append(record["id"])
    # Knowledge needs the workspace permission: grant it to every user through the defaults.
    perms = client.get("/api/v1/users/default/permissions", headers=bearer(admin["token"])).json()
    perms["workspace"]["knowledge"] = True
    r = client.post("/api/v1/users/default/permissions", headers=bearer(admin["token"]), json=perms)
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/v1/knowledge/create",
        headers=bearer(alice["token"]),
        json={"name": "Lore", "description": "places"},
    )
    assert r.status_code == 200, r.text
    kb = r.json()["id"]
    for file_id in files:
        r = client.post(
            f"/api/v1/knowledge/{kb}/file/add",
            headers=bearer(alice["token"]),
            json={"file_id": file_id},
        )
        assert r.status_code == 200, r.text
    return {"admin": admin, "alice": alice, "bob": bob, "kb": kb, "files": files}


@pytest.fixture(autouse=True)
def _reset(standin: StandIn) -> None:
    standin.reset(models=[MODEL], reply="It erupted in 1822 [1].")


def events_of(response: httpx.Response) -> list[Any]:
    out = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line[6:]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def sent_prompt(standin: StandIn) -> str:
    return "\n".join(str(m.get("content")) for m in standin.chats()[-1].body["messages"])


def ask(files: list[dict[str, Any]], text: str = "When did Mount Quillon erupt?") -> Any:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], "files": files}


def test_collection_context_and_sources_event(
    client: httpx.Client, world: dict[str, Any], standin: StandIn
) -> None:
    body = ask([{"type": "collection", "id": world["kb"]}]) | {"stream": True}
    with client.stream(
        "POST", "/api/chat/completions", json=body, headers=bearer(world["alice"]["token"])
    ) as r:
        assert r.status_code == 200
        events = events_of(r)
    assert "sources" in events[0] and "choices" not in events[0]
    sources = events[0]["sources"]
    assert sources[0]["source"]["id"] == world["kb"]
    assert any("1822" in doc for doc in sources[0]["document"])
    assert len(sources[0]["metadata"]) == len(sources[0]["document"])
    prompt = sent_prompt(standin)
    assert re.search(r'<source id="1"[^>]*>[^<]*1822', prompt), prompt
    # The user's question is still there, after the context.
    assert prompt.rstrip().endswith("When did Mount Quillon erupt?")
    assert events[-1] == "[DONE]"


def test_text_item_and_json_reply_carry_sources(
    client: httpx.Client, world: dict[str, Any], standin: StandIn
) -> None:
    item = {"type": "text", "name": "memo.txt", "content": "The vault code is 4711."}
    r = client.post(
        "/api/chat/completions",
        json=ask([item], "What is the vault code?"),
        headers=bearer(world["alice"]["token"]),
    )
    assert r.status_code == 200, r.text
    assert r.json()["sources"][0]["document"] == ["The vault code is 4711."]
    assert '<source id="1" name="memo.txt"' in sent_prompt(standin)


def test_sources_are_saved_on_the_assistant_message(
    client: httpx.Client, world: dict[str, Any]
) -> None:
    h = bearer(world["alice"]["token"])
    chat = client.post(
        "/api/v1/chats/new", headers=h, json={"chat": {"title": "x", "history": {"messages": {}}}}
    ).json()
    user_id, answer_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = ask([{"type": "collection", "id": world["kb"]}]) | {
        "chat_id": chat["id"],
        "id": answer_id,
        "parent_id": user_id,
        "user_message": {"id": user_id, "parentId": None, "role": "user", "content": "Quillon?"},
        "stream": False,
    }
    del body["messages"]
    r = client.post("/api/chat/completions", json=body, headers=h)
    assert r.status_code == 200, r.text
    saved = client.get(f"/api/v1/chats/{chat['id']}", headers=h).json()
    message = saved["chat"]["history"]["messages"][answer_id]
    assert message["sources"][0]["source"]["id"] == world["kb"]
    assert message["content"] == "It erupted in 1822 [1]."


def test_preset_knowledge_is_injected_for_api_callers(
    client: httpx.Client, world: dict[str, Any], standin: StandIn
) -> None:
    admin = bearer(world["admin"]["token"])
    preset = {
        "id": f"lore-{uuid.uuid4().hex[:6]}",
        "base_model_id": MODEL,
        "name": "Lore bot",
        "meta": {"knowledge": [{"id": world["kb"], "type": "collection", "name": "Lore"}]},
        "params": {},
    }
    r = client.post("/api/v1/models/create", headers=admin, json=preset)
    assert r.status_code == 200, r.text
    body = ask([]) | {"model": preset["id"]}
    r = client.post("/api/chat/completions", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert "1822" in sent_prompt(standin)
    assert r.json()["sources"]


def test_nobody_retrieves_from_another_users_knowledge(
    client: httpx.Client, world: dict[str, Any], standin: StandIn
) -> None:
    bob = bearer(world["bob"]["token"])
    for item in (
        {"type": "collection", "id": world["kb"]},
        {"type": "file", "id": world["files"][0]},
        {"type": "collection", "id": world["kb"], "context": "full"},
    ):
        r = client.post("/api/chat/completions", json=ask([item]), headers=bob)
        assert r.status_code == 200, r.text
        assert "sources" not in r.json()
        prompt = sent_prompt(standin)
        assert "1822" not in prompt and "saffron" not in prompt
    # The owner gets the same items.
    alice = bearer(world["alice"]["token"])
    r = client.post(
        "/api/chat/completions",
        json=ask([{"type": "file", "id": world["files"][1]}], "What grows in Ostry?"),
        headers=alice,
    )
    assert "saffron" in sent_prompt(standin)
    assert r.json()["sources"]
