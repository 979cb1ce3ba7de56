"""Open WebUI 0.12's route families against a real daemon: chat list and chat keys, message
events, the task settings and task completions (stand-in provider), and the families webui
answers with empty or stored shapes (workspace lists, /api/v1/configs)."""

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import assert_error, bearer, signup, tcp, unix

MODEL = "standin:latest"
TASK_MODEL = "tasker:latest"
LIST_KEYS = [
    "id",
    "title",
    "updated_at",
    "created_at",
    "last_read_at",
    "snippet",
    "active",
    "archived",
    "pinned",
]


def _reply(body: dict[str, Any]) -> str:
    """Answer each task by what its prompt asks for; a chat with a fixed sentence."""
    last = str(body.get("messages", [{}])[-1].get("content", ""))
    if '"title"' in last:
        return json.dumps({"title": "Sky Colours"})
    if '"tags"' in last:
        return json.dumps({"tags": ["Science"]})
    if '"follow_ups"' in last:
        return json.dumps({"follow_ups": ["Why at sunset?"]})
    if '"queries"' in last:
        return json.dumps({"queries": ["sky colour physics"]})
    if "emoji" in last:
        return "😊"
    return "one two three four five six seven eight nine ten"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, TASK_MODEL], reply_fn=_reply)
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], DEFAULT_USER_ROLE="user"), tmp="owui012"
)


@pytest.fixture(autouse=True)
def _reset(standin: StandIn) -> None:
    standin.reset(models=[MODEL, TASK_MODEL], reply_fn=_reply)


@pytest.fixture(scope="module")
def admin(daemon: DaemonProc) -> Iterator[httpx.Client]:
    """The OS user on the socket: the first account, so the admin."""
    with unix(daemon) as c:
        assert c.get("/api/v1/auths/").json()["role"] == "admin"
        yield c


@pytest.fixture(scope="module")
def user(daemon: DaemonProc, admin: httpx.Client) -> Iterator[httpx.Client]:
    with tcp(daemon) as c:
        who = signup(c, "Uma", f"uma-{uuid.uuid4().hex[:6]}@example.com")
        assert who["role"] == "user"
        c.headers.update(bearer(who["token"]))
        yield c


def new_chat(client: httpx.Client, question: str = "Why is the sky blue?") -> dict[str, Any]:
    messages = {
        "u1": {
            "id": "u1",
            "parentId": None,
            "childrenIds": ["a1"],
            "role": "user",
            "content": question,
            "timestamp": 1730000000,
        },
        "a1": {
            "id": "a1",
            "parentId": "u1",
            "childrenIds": [],
            "role": "assistant",
            "content": "Rayleigh scattering.",
            "timestamp": 1730000001,
        },
    }
    doc = {"title": "Sky", "models": [MODEL], "history": {"messages": messages, "currentId": "a1"}}
    r = client.post("/api/v1/chats/new", json={"chat": doc})
    assert r.status_code == 200, r.text
    return dict(r.json())


# --- chats: 0.12's keys ------------------------------------------------------------------------


def test_chat_objects_carry_012_keys(admin: httpx.Client) -> None:
    chat = new_chat(admin)
    assert chat["variables"] == {} and chat["tasks"] is None
    assert chat["summary"] is None and chat["context_usage"] is None
    assert admin.get(f"/api/v1/chats/{chat['id']}").json()["variables"] == {}


def test_list_items_carry_last_read_at_snippet_active(admin: httpx.Client) -> None:
    chat = new_chat(admin, "Which colour is a sunset over the sea, and why?")
    listed = admin.get("/api/v1/chats/").json()
    item = next(i for i in listed if i["id"] == chat["id"])
    assert list(item) == LIST_KEYS
    assert item["last_read_at"] is None and item["snippet"] is None and item["active"] is False
    found = admin.get("/api/v1/chats/search", params={"text": "sunset"}).json()
    hit = next(i for i in found if i["id"] == chat["id"])
    assert hit["snippet"] == "Which colour is a sunset over the sea, and why?"
    assert list(hit) == LIST_KEYS


def test_snippet_cuts_long_text_around_the_match(admin: httpx.Client) -> None:
    long = "filler " * 60 + "the zanzibar word " + "tail " * 60
    chat = new_chat(admin, long)
    found = admin.get("/api/v1/chats/search", params={"text": "zanzibar"}).json()
    snippet = next(i for i in found if i["id"] == chat["id"])["snippet"]
    assert snippet.startswith("...") and snippet.endswith("...") and "zanzibar" in snippet
    assert len(snippet) <= 206


def test_a_chat_with_a_reply_being_generated_is_active(
    admin: httpx.Client, standin: StandIn
) -> None:
    standin.set(token_delay=0.1)
    chat = new_chat(admin)
    user_id = str(uuid.uuid4())
    body = {
        "model": MODEL,
        "stream": True,
        "chat_id": chat["id"],
        "id": str(uuid.uuid4()),
        "parent_id": user_id,
        "user_message": {"id": user_id, "parentId": "a1", "role": "user", "content": "More?"},
    }
    with admin.stream("POST", "/api/chat/completions", json=body) as r:
        for line in r.iter_lines():
            if '"content"' in line:
                break
        listed = admin.get("/api/v1/chats/").json()
        assert next(i for i in listed if i["id"] == chat["id"])["active"] is True
        found = admin.get("/api/v1/chats/search", params={"text": "sky"}).json()
        assert next(i for i in found if i["id"] == chat["id"])["active"] is True
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = admin.get("/api/v1/chats/").json()
        if not next(i for i in listed if i["id"] == chat["id"])["active"]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the chat stayed active after its reply ended")


def test_a_json_reply_from_ollama_has_token_details(admin: httpx.Client) -> None:
    body = {"model": MODEL, "messages": HISTORY[:1], "stream": False}
    reply = admin.post("/api/chat/completions", json=body).json()
    assert reply["usage"]["completion_tokens_details"] == {
        "reasoning_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    }
    assert reply["usage"]["completion_tokens"] > 0


# --- message events ----------------------------------------------------------------------------


def _event(client: httpx.Client, chat_id: str, kind: str, data: dict[str, Any]) -> Any:
    r = client.post(f"/api/v1/chats/{chat_id}/messages/a1/event", json={"type": kind, "data": data})
    assert r.status_code == 200, r.text
    return r.json()


def test_message_events_are_kept_as_012_keeps_them(admin: httpx.Client, user: httpx.Client) -> None:
    chat = new_chat(admin)
    cid = chat["id"]
    assert _event(admin, cid, "status", {"description": "Searching", "done": False}) is True
    assert _event(admin, cid, "message", {"content": " More."}) is True
    assert _event(admin, cid, "citation", {"source": {"name": "doc"}}) is True
    assert _event(admin, cid, "files", {"files": [{"id": "f1"}]}) is True
    assert _event(admin, cid, "chat:message:delta", {"content": "ignored"}) is True
    a1 = admin.get(f"/api/v1/chats/{cid}").json()["chat"]["history"]["messages"]["a1"]
    assert a1["content"] == "Rayleigh scattering. More."
    assert a1["statusHistory"] == [{"description": "Searching", "done": False}]
    assert a1["sources"] == [{"source": {"name": "doc"}}]
    assert a1["files"] == [{"id": "f1"}]
    assert _event(admin, cid, "replace", {"content": "Replaced."}) is True
    a1 = admin.get(f"/api/v1/chats/{cid}").json()["chat"]["history"]["messages"]["a1"]
    assert a1["content"] == "Replaced."
    # A message not in the chat: accepted, nothing saved (0.12's emitter finds no message).
    r = admin.post(f"/api/v1/chats/{cid}/messages/nope/event", json={"type": "x", "data": {}})
    assert r.json() is True
    # Someone else's chat or a missing one: 401, as 0.12.
    assert_error(
        user.post(f"/api/v1/chats/{cid}/messages/a1/event", json={"type": "x", "data": {}}), 401
    )
    missing = admin.post("/api/v1/chats/missing/messages/a1/event", json={"type": "x", "data": {}})
    assert_error(missing, 401)
    assert (
        admin.post(f"/api/v1/chats/{cid}/messages/a1/event", json={"type": "x"}).status_code == 422
    )


# --- tasks -------------------------------------------------------------------------------------

CONFIG_KEYS = {
    "TASK_MODEL",
    "TASK_MODEL_EXTERNAL",
    "TASK_MODEL_PARAMS",
    "TITLE_GENERATION_PROMPT_TEMPLATE",
    "IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE",
    "ENABLE_AUTOCOMPLETE_GENERATION",
    "AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH",
    "AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE",
    "TAGS_GENERATION_PROMPT_TEMPLATE",
    "FOLLOW_UP_GENERATION_PROMPT_TEMPLATE",
    "ENABLE_FOLLOW_UP_GENERATION",
    "ENABLE_TAGS_GENERATION",
    "ENABLE_TITLE_GENERATION",
    "ENABLE_SEARCH_QUERY_GENERATION",
    "ENABLE_RETRIEVAL_QUERY_GENERATION",
    "QUERY_GENERATION_PROMPT_TEMPLATE",
    "TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE",
    "ENABLE_VOICE_MODE_PROMPT",
    "VOICE_MODE_PROMPT_TEMPLATE",
}
HISTORY = [
    {"role": "user", "content": "Why is the sky blue?"},
    {"role": "assistant", "content": "Rayleigh scattering."},
]


def _content(reply: dict[str, Any]) -> str:
    assert reply["object"] == "chat.completion", reply
    return str(reply["choices"][0]["message"]["content"])


def test_task_completions_ask_the_chat_model(admin: httpx.Client, standin: StandIn) -> None:
    body = {"model": MODEL, "messages": HISTORY, "chat_id": "c1"}
    title = admin.post("/api/v1/tasks/title/completions", json=body)
    assert title.status_code == 200, title.text
    assert json.loads(_content(title.json())) == {"title": "Sky Colours"}
    asked = standin.chats()[-1]
    assert asked.body["model"] == MODEL and not asked.body.get("stream")
    assert "Rayleigh scattering." in asked.messages[-1]["content"]
    tags = admin.post("/api/v1/tasks/tags/completions", json=body).json()
    assert json.loads(_content(tags)) == {"tags": ["Science"]}
    follow = admin.post("/api/v1/tasks/follow_up/completions", json=body).json()
    assert json.loads(_content(follow)) == {"follow_ups": ["Why at sunset?"]}
    queries = admin.post("/api/v1/tasks/queries/completions", json=body | {"type": "retrieval"})
    assert json.loads(_content(queries.json())) == {"queries": ["sky colour physics"]}
    assert time.strftime("%Y-") in standin.chats()[-1].messages[-1]["content"]  # CURRENT_DATE
    emoji = admin.post("/api/v1/tasks/emoji/completions", json={"model": MODEL, "prompt": "Yay!"})
    assert _content(emoji.json()) == "😊"
    assert "Yay!" in standin.chats()[-1].messages[-1]["content"]
    unknown = admin.post("/api/v1/tasks/tags/completions", json=body | {"model": "no-such"})
    assert unknown.status_code in (400, 404)
    assert admin.post("/api/v1/tasks/title/completions", json={"messages": []}).status_code == 422


def test_task_config_read_update_and_the_task_model(
    admin: httpx.Client, user: httpx.Client, standin: StandIn
) -> None:
    config = user.get("/api/v1/tasks/config").json()
    assert set(config) == CONFIG_KEYS
    assert config["ENABLE_TITLE_GENERATION"] is True and config["TASK_MODEL"] == ""
    update = config | {
        "TASK_MODEL": TASK_MODEL,
        "ENABLE_TAGS_GENERATION": False,
        "TITLE_GENERATION_PROMPT_TEMPLATE": 'Name it as JSON {"title": ...}: {{MESSAGES:END:1}}',
    }
    assert_error(user.post("/api/v1/tasks/config/update", json=update), 401)
    try:
        saved = admin.post("/api/v1/tasks/config/update", json=update)
        assert saved.status_code == 200, saved.text
        assert saved.json()["TASK_MODEL"] == TASK_MODEL
        assert user.get("/api/v1/tasks/config").json()["ENABLE_TAGS_GENERATION"] is False
        body = {"model": MODEL, "messages": HISTORY}
        admin.post("/api/v1/tasks/title/completions", json=body).raise_for_status()
        asked = standin.chats()[-1]
        assert asked.body["model"] == TASK_MODEL
        prompt = asked.messages[-1]["content"]
        assert prompt.startswith("Name it as JSON") and prompt.endswith(
            "ASSISTANT: Rayleigh scattering."
        )
        assert "Why is the sky blue?" not in prompt  # END:1: the last message only
        off = admin.post("/api/v1/tasks/tags/completions", json=body)
        assert off.status_code == 200 and off.json() == {"detail": "Tags generation is disabled"}
    finally:
        admin.post("/api/v1/tasks/config/update", json=config).raise_for_status()
    assert user.get("/api/v1/tasks/config").json() == config


# --- families answered with empty or stored shapes ---------------------------------------------


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/api/v1/prompts/", []),
        ("/api/v1/prompts/list", {"items": [], "total": 0}),
        ("/api/v1/prompts/tags", []),
        ("/api/v1/notes/", []),
        ("/api/v1/memories/", []),
        ("/api/v1/tools/", []),
        ("/api/v1/tools/list", []),
        ("/api/v1/functions/", []),
        ("/api/v1/configs/banners", []),
    ],
)
def test_unimplemented_lists_answer_empty(user: httpx.Client, path: str, shape: Any) -> None:
    r = user.get(path)
    assert r.status_code == 200 and r.json() == shape


@pytest.mark.parametrize(
    ("path", "feature"),
    [
        ("/api/v1/tools/create", "Tools"),
        ("/api/v1/functions/create", "Functions"),
    ],
)
def test_creating_python_code_is_refused(user: httpx.Client, path: str, feature: str) -> None:
    detail = assert_error(user.post(path, json={}), 400)
    assert detail.startswith(f"{feature} are Python code run inside the server")


@pytest.mark.parametrize(
    ("method", "path", "feature"),
    [
        ("GET", "/api/v1/channels/", "Channels"),
        ("POST", "/api/v1/channels/create", "Channels"),
        ("GET", "/api/v1/evaluations/feedbacks/all", "Evaluations (arena, feedback)"),
        ("POST", "/api/v1/images/generations", "Image generation"),
        ("POST", "/api/v1/audio/transcriptions", "Audio (speech to text, text to speech)"),
        ("GET", "/api/v1/auths/mfa/status", "Multi-factor authentication"),
        ("GET", "/api/v1/scim/v2/Users", "SCIM provisioning"),
        ("DELETE", "/api/v1/skills/id/x/delete", "Skills"),
        ("GET", "/api/v1/calendars", "Calendars"),
    ],
)
def test_families_not_served_say_so(
    user: httpx.Client, daemon: DaemonProc, method: str, path: str, feature: str
) -> None:
    """Never an unexplained 404: a family this daemon has not answers 403 naming it, after
    checking who asks (401 without a token)."""
    detail = assert_error(user.request(method, path), 403)
    assert detail == f"{feature} is not available in this webui daemon yet."
    with tcp(daemon) as anonymous:
        assert anonymous.request(method, path).status_code == 401


def test_configs_pages_and_export_import(admin: httpx.Client, user: httpx.Client) -> None:
    assert admin.get("/api/v1/configs/tool_servers").json() == {"TOOL_SERVER_CONNECTIONS": []}
    assert set(admin.get("/api/v1/configs/models").json()) == {
        "DEFAULT_MODELS",
        "DEFAULT_PINNED_MODELS",
        "MODEL_ORDER_LIST",
        "DEFAULT_MODEL_METADATA",
        "DEFAULT_MODEL_PARAMS",
    }
    for path in ("/api/v1/configs/models", "/api/v1/configs/export", "/api/v1/functions/list"):
        assert_error(user.get(path), 401)
    banner = {
        "id": "b1",
        "type": "info",
        "title": "Hello",
        "content": "Maintenance at noon",
        "dismissible": True,
        "timestamp": 1800000000,
    }
    set_banners = admin.post("/api/v1/configs/banners", json={"banners": [banner]})
    assert set_banners.status_code == 200, set_banners.text
    assert user.get("/api/v1/configs/banners").json() == [banner | {"i18n": None}]
    tips = {"suggestions": [{"title": ["Explain", "a thing"], "content": "Explain X"}]}
    assert admin.post("/api/v1/configs/suggestions", json=tips).json() == tips | {"i18n": {}}
    exported = admin.get("/api/v1/configs/export").json()
    assert exported["ui.banners"] == [banner | {"i18n": None}]
    imported = admin.post(
        "/api/v1/configs/import",
        json={"config": {"ui.banners": [], "task.tags.enable": True, "not.ours": 1}},
    ).json()
    assert imported["ui.banners"] == [] and "not.ours" not in imported
    assert user.get("/api/v1/configs/banners").json() == []


def test_user_status_is_the_callers_own_record_also_for_an_api_key(
    user: httpx.Client, daemon: DaemonProc
) -> None:
    me = user.get("/api/v1/auths/").json()
    key = user.post("/api/v1/auths/api_key").json()["api_key"]
    with tcp(daemon) as c:
        for headers in (dict(user.headers), bearer(key)):
            r = c.get("/api/v1/users/user/status", headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            assert (body["id"], body["email"], body["role"]) == (me["id"], me["email"], "user")
            assert "api_key" not in body and "password" not in body
        assert c.get("/api/v1/users/user/status").status_code == 401  # nobody
