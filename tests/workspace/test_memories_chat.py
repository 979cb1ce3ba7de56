"""Memories in chats, seen from the stand-in provider (it logs what it received): the
`<memory_context>` block in Open WebUI's words and format; added on `features.memory` or the
user's setting (on by default, as 0.12's web UI), never when off; only the caller's own
memories; a preset's system prompt and `capabilities.memory`; never in a title request; and
the official `openai` client works with memories on."""

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc
from tests.daemons import client_fixture, daemon_fixture, sign_up
from tests.standins import StandIn, provider_env, start_openai
from tests.support import bearer

MODEL = "standin-gpt"
MEMORIES = "/api/v1/memories"
ALICE_BLOCK = """<memory_context>
[User Memory]
- food: I am vegetarian.

[Relevant Context]
- My bike is a red Brompton.
- work/falcon: Project Falcon ships on March 3.
</memory_context>"""


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_openai(models=[MODEL], reply="Noted.")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: model_env(
        provider_env(openai=[standin], BYPASS_MODEL_ACCESS_CONTROL="true")
    ),
    tmp="memories-chat",
)


client = client_fixture(timeout=60)


@pytest.fixture(scope="module")
def users(client: httpx.Client) -> dict[str, Any]:
    out = sign_up(client, "alice", "bob", email="{name}@x.io")
    alice = bearer(out["alice"]["token"])
    for body in (
        {"content": "I am vegetarian.", "type": "user", "path": "food"},
        {"content": "Project Falcon ships on March 3.", "path": "work/falcon"},
        {"content": "My bike is a red Brompton."},
    ):
        assert client.post(f"{MEMORIES}/add", headers=alice, json=body).status_code == 200
    return out


def h(users: dict[str, Any], who: str) -> dict[str, str]:
    return bearer(users[who]["token"])


def ask(
    client: httpx.Client, standin: StandIn, headers: dict[str, str], **body: Any
) -> list[dict[str, Any]]:
    """One completion; the messages the provider received."""
    body.setdefault("messages", [{"role": "user", "content": "What should I cook tonight?"}])
    standin.reset(models=[MODEL], reply="Noted.")
    r = client.post("/api/chat/completions", headers=headers, json={"model": MODEL, **body})
    assert r.status_code == 200, r.text
    return list(standin.chats()[-1].body["messages"])


def set_memory_setting(client: httpx.Client, headers: dict[str, str], value: bool | None) -> None:
    settings = client.get("/api/v1/users/user/settings", headers=headers).json() or {}
    ui = dict(settings.get("ui") or {})
    ui.pop("memory", None)
    if value is not None:
        ui["memory"] = value
    r = client.post(
        "/api/v1/users/user/settings/update", headers=headers, json={**settings, "ui": ui}
    )
    assert r.status_code == 200, r.text


def test_the_block_in_open_webuis_format(
    client: httpx.Client, standin: StandIn, users: dict[str, Any]
) -> None:
    alice = h(users, "alice")
    sent = ask(client, standin, alice, features={"memory": True})
    assert sent == [
        {"role": "system", "content": ALICE_BLOCK},
        {"role": "user", "content": "What should I cook tonight?"},
    ]
    # A system message of the request: the block is appended to it after a newline.
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What should I cook tonight?"},
    ]
    sent = ask(client, standin, alice, messages=messages, features={"memory": True})
    assert sent[0] == {"role": "system", "content": f"Be brief.\n{ALICE_BLOCK}"}
    # A block an earlier turn left there is replaced, not repeated.
    messages[0]["content"] = f"Be brief.\n{ALICE_BLOCK}"
    sent = ask(client, standin, alice, messages=messages, features={"memory": True})
    assert sent[0]["content"] == f"Be brief.\n{ALICE_BLOCK}"


def test_a_path_the_question_names_brings_its_neighbourhood(
    client: httpx.Client, standin: StandIn, users: dict[str, Any]
) -> None:
    messages = [{"role": "user", "content": "When does falcon ship?"}]
    sent = ask(client, standin, h(users, "alice"), messages=messages, features={"memory": True})
    block = sent[0]["content"]
    assert "[Memory Neighborhood]\n- work/falcon: Project Falcon ships on March 3." in block
    assert "[Relevant Context]\n- My bike is a red Brompton.\n</memory_context>" in block


def test_on_and_off(client: httpx.Client, standin: StandIn, users: dict[str, Any]) -> None:
    alice = h(users, "alice")
    question = [{"role": "user", "content": "What should I cook tonight?"}]
    try:
        set_memory_setting(client, alice, None)  # never set: on, as 0.12's web UI
        assert ask(client, standin, alice)[0]["content"] == ALICE_BLOCK
        sent = ask(client, standin, alice, features={"memory": False})
        assert sent == question  # the request's switch wins
        set_memory_setting(client, alice, False)
        assert ask(client, standin, alice) == question
        assert ask(client, standin, alice, features={"web_search": False}) == question
        sent = ask(client, standin, alice, features={"memory": True})
        assert sent[0]["content"] == ALICE_BLOCK
        set_memory_setting(client, alice, True)
        assert ask(client, standin, alice)[0]["content"] == ALICE_BLOCK
    finally:
        set_memory_setting(client, alice, None)


def test_only_the_callers_memories(
    client: httpx.Client, standin: StandIn, users: dict[str, Any]
) -> None:
    sent = ask(client, standin, h(users, "bob"), features={"memory": True})
    assert sent == [{"role": "user", "content": "What should I cook tonight?"}]
    bob = h(users, "bob")
    r = client.post(f"{MEMORIES}/add", headers=bob, json={"content": "I cook pasta on Fridays."})
    assert r.status_code == 200
    try:
        sent = ask(client, standin, bob, features={"memory": True})
        block = sent[0]["content"]
        assert "I cook pasta on Fridays." in block
        assert "vegetarian" not in block and "Falcon" not in block and "Brompton" not in block
    finally:
        client.delete(f"{MEMORIES}/delete/user", headers=bob)


def test_without_the_permission_nothing_is_added(
    client: httpx.Client, standin: StandIn, users: dict[str, Any]
) -> None:
    admin = h(users, "admin")
    tree = client.get("/api/v1/users/default/permissions", headers=admin).json()
    off = {**tree, "features": {**tree["features"], "memories": False}}
    client.post("/api/v1/users/default/permissions", headers=admin, json=off)
    try:
        sent = ask(client, standin, h(users, "alice"), features={"memory": True})
        assert sent == [{"role": "user", "content": "What should I cook tonight?"}]
    finally:
        client.post("/api/v1/users/default/permissions", headers=admin, json=tree)


def test_presets(client: httpx.Client, standin: StandIn, users: dict[str, Any]) -> None:
    admin = h(users, "admin")
    for preset_id, meta in (
        ("chef", {}),
        ("forgetful", {"capabilities": {"memory": False}}),
    ):
        r = client.post(
            "/api/v1/models/create",
            headers=admin,
            json={
                "id": preset_id,
                "name": preset_id.title(),
                "base_model_id": MODEL,
                "meta": meta,
                "params": {"system": "You are a chef."},
                "access_grants": [{"principal_type": "user", "principal_id": "*"}],
            },
        )
        assert r.status_code == 200, r.text
    alice = h(users, "alice")
    sent = ask(client, standin, alice, model="chef", features={"memory": True})
    # Open WebUI puts the preset's prompt before the request's system message, memories after.
    assert sent[0]["content"] == f"You are a chef.\n{ALICE_BLOCK}"
    sent = ask(client, standin, alice, model="forgetful", features={"memory": True})
    assert sent[0] == {"role": "system", "content": "You are a chef."}


def test_a_turn_gets_memories_and_its_title_request_does_not(
    client: httpx.Client, standin: StandIn, users: dict[str, Any]
) -> None:
    alice = h(users, "alice")
    r = client.post(
        "/api/v1/chats/new",
        headers=alice,
        json={"chat": {"title": "New Chat", "models": [MODEL], "history": {"messages": {}}}},
    )
    chat_id = r.json()["id"]
    standin.reset(models=[MODEL], reply="Noted.")
    question_id = str(uuid.uuid4())
    body = {
        "model": MODEL,
        "stream": False,
        "chat_id": chat_id,
        "id": str(uuid.uuid4()),
        "parent_id": question_id,
        "features": {"memory": True},
        "user_message": {
            "id": question_id,
            "parentId": None,
            "childrenIds": [],
            "role": "user",
            "content": "What should I cook tonight?",
            "timestamp": int(time.time()),
        },
    }
    r = client.post("/api/chat/completions", headers=alice, json=body)
    assert r.status_code == 200, r.text
    standin.wait_for(lambda: len(standin.chats()) >= 2, timeout=10)  # the answer, the title
    answer, title = standin.chats()[0].body, standin.chats()[1].body
    assert answer["messages"][0] == {"role": "system", "content": ALICE_BLOCK}
    assert "memory_context" not in str(title["messages"])


def test_the_openai_client_with_memories_on(
    daemon: DaemonProc, standin: StandIn, users: dict[str, Any], client: httpx.Client
) -> None:
    key = client.post("/api/v1/auths/api_key", headers=h(users, "alice")).json()["api_key"]
    sdk = openai.OpenAI(base_url=f"{daemon.base_url}/api", api_key=key, max_retries=0)
    question = [{"role": "user", "content": "What should I cook tonight?"}]
    standin.reset(models=[MODEL], reply="Noted.")
    reply = sdk.chat.completions.create(model=MODEL, messages=question)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == "Noted."
    assert standin.chats()[-1].body["messages"][0]["content"] == ALICE_BLOCK
    stream = sdk.chat.completions.create(
        model=MODEL,
        messages=question,  # type: ignore[arg-type]
        stream=True,
        extra_body={"features": {"memory": True}},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Noted."
    assert standin.chats()[-1].body["messages"][0]["content"] == ALICE_BLOCK
    assert "features" not in standin.chats()[-1].body  # never sent to the provider
