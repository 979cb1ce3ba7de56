"""Bad input on /api/chat/completions: a 422 (wrong types for keys the daemon reads) or a 400
(image URLs it will not pass on) in Open WebUI's {"detail": ...} shape, never a 500; and what
the daemon does not read still reaches the provider as sent."""

import base64
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import client_fixture, daemon_fixture
from tests.standins import StandIn, ollama_standin, openai_standin, provider_env
from tests.support import assert_error, assert_no_traceback, bearer, signup

__all__ = ["ollama_standin", "openai_standin"]  # fixtures used below

OLLAMA_MODEL, OPENAI_MODEL = "standin:latest", "standin-gpt"
HELLO = [{"role": "user", "content": "Say hello"}]
BAD_IMAGE = (
    "An image_url must be a data: URL, an http(s) URL or a file (/api/v1/files/{id}/content)."
)
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()


daemon = daemon_fixture(
    env=lambda ollama_standin, openai_standin: provider_env(
        ollama=[ollama_standin], openai=[openai_standin]
    ),
    tmp="input",
)


client = client_fixture(timeout=20)


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> dict[str, str]:
    return bearer(signup(client, "Admin", "admin@example.com")["token"])


@pytest.fixture(autouse=True)
def fresh(ollama_standin: StandIn, openai_standin: StandIn) -> None:
    ollama_standin.reset()
    openai_standin.reset()


def image(url: Any) -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]


def user_parts(*parts: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(parts)}]


WRONG_TYPES: list[tuple[str, dict[str, Any]]] = [
    ("files of numbers", {"files": [5]}),
    ("a collection id that is a list", {"files": [{"type": "collection", "id": ["x"]}]}),
    ("files not a list", {"files": {"type": "file", "id": "x"}}),
    ("text item content not text", {"files": [{"type": "text", "content": {"a": 1}}]}),
    ("legacy collection names not a list", {"files": [{"collection_names": "kb"}]}),
    ("options a list", {"options": [1, 2]}),
    ("params a list", {"params": [1, 2]}),
    ("params a string", {"params": "temperature=1"}),
    ("variables a list", {"variables": ["x"]}),
    ("response_format a string", {"response_format": "json"}),
    ("model a number", {"model": 5}),
    ("stream a list", {"stream": [True]}),
    ("messages a string", {"messages": "hello"}),
    ("messages of numbers", {"messages": [1, 2]}),
    ("a message without a role", {"messages": [{"content": "hi"}]}),
    ("a role that is a number", {"messages": [{"role": 1, "content": "hi"}]}),
    ("content a number", {"messages": [{"role": "user", "content": 5}]}),
    ("content an object", {"messages": [{"role": "user", "content": {"text": "hi"}}]}),
    ("content parts of numbers", {"messages": user_parts(5)}),
    ("a part without a type", {"messages": user_parts({"text": "hi"})}),
    ("a text part without text", {"messages": user_parts({"type": "text"})}),
    ("a text part with a number", {"messages": user_parts({"type": "text", "text": 5})}),
    ("an image part without its URL", {"messages": user_parts({"type": "image_url"})}),
    ("an image URL that is a number", {"messages": image(5)}),
    ("tool calls a string", {"messages": [{"role": "assistant", "tool_calls": "x"}]}),
    (
        "tool call arguments a number",
        {"messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": 1}}]}]},
    ),
    ("chat id a number", {"chat_id": 5, "id": "m1"}),
    ("user message a string", {"chat_id": "c1", "id": "m1", "user_message": "hi"}),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("case", "change"), WRONG_TYPES, ids=[c for c, _ in WRONG_TYPES])
def test_wrong_types_are_a_422_with_a_detail(
    client: httpx.Client,
    admin: dict[str, str],
    ollama_standin: StandIn,
    case: str,
    change: dict[str, Any],
    stream: bool,
) -> None:
    body = {"model": OLLAMA_MODEL, "messages": HELLO, "stream": stream, **change}
    detail = assert_error(client.post("/api/chat/completions", headers=admin, json=body), 422)
    # FastAPI's list of what was wrong, each naming where in the body.
    assert isinstance(detail, list) and all(d["loc"][0] == "body" for d in detail), detail
    assert ollama_standin.chats() == []


@pytest.mark.parametrize("body", [[1, 2], "hello", 5, None])
def test_a_body_that_is_not_an_object_is_a_422(
    client: httpx.Client, admin: dict[str, str], body: Any
) -> None:
    assert_error(client.post("/api/chat/completions", headers=admin, json=body), 422)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "/etc/passwd",
        "~/.ssh/id_rsa",
        "ftp://example.com/a.png",
        "javascript:alert(1)",
        "",
    ],
)
@pytest.mark.parametrize("model", [OLLAMA_MODEL, OPENAI_MODEL])
def test_image_urls_other_than_data_and_http_are_refused(
    client: httpx.Client,
    admin: dict[str, str],
    ollama_standin: StandIn,
    openai_standin: StandIn,
    url: str,
    model: str,
) -> None:
    body = {"model": model, "messages": image(url), "stream": True}
    assert assert_error(client.post("/api/chat/completions", headers=admin, json=body), 400) == (
        BAD_IMAGE
    )
    # A bare string in place of {"url": ...} is checked the same way.
    body["messages"][0]["content"][1]["image_url"] = url
    assert_error(client.post("/api/chat/completions", headers=admin, json=body), 400)
    assert ollama_standin.chats() == [] and openai_standin.chats() == []


def test_data_and_http_images_reach_the_provider(
    client: httpx.Client, admin: dict[str, str], ollama_standin: StandIn
) -> None:
    for url, sent in [
        (PNG, PNG.split(",", 1)[1]),  # Ollama takes the bare base64
        ("https://example.com/cat.png", "https://example.com/cat.png"),
        ("HTTP://example.com/cat.png", "HTTP://example.com/cat.png"),
    ]:
        body = {"model": OLLAMA_MODEL, "messages": image(url)}
        r = client.post("/api/chat/completions", headers=admin, json=body)
        assert r.status_code == 200, r.text
        message = ollama_standin.chats()[-1].body["messages"][0]
        assert message == {"role": "user", "content": "What is this?", "images": [sent]}


def test_keys_the_daemon_does_not_read_reach_the_provider_as_sent(
    client: httpx.Client, admin: dict[str, str], openai_standin: StandIn
) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    messages = [
        {"role": "system", "content": "Be brief.", "name": "rules"},
        {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"a": 1}}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]
    body = {
        "model": OPENAI_MODEL,
        "messages": messages,
        "seed": 7,
        "tools": tools,
        "logit_bias": {"50256": -100},
        "user": "someone",
        "features": {"web_search": False},
        "files": [{"type": "web_search", "queries": ["x"]}],  # a type retrieval skips
        "variables": {"{{CITY}}": "Oslo"},
        "session_id": "s1",
        "chat_id": "local:abc",
        "id": "m1",
    }
    r = client.post("/api/chat/completions", headers=admin, json=body)
    assert r.status_code == 200, r.text
    sent = openai_standin.chats()[-1].body
    assert sent["messages"] == messages
    assert (sent["seed"], sent["tools"], sent["logit_bias"], sent["user"]) == (
        7,
        tools,
        {"50256": -100},
        "someone",
    )
    assert not {"features", "files", "variables", "session_id", "chat_id", "id"} & set(sent)


def test_null_for_what_a_client_leaves_out(client: httpx.Client, admin: dict[str, str]) -> None:
    body = {"model": OLLAMA_MODEL, "messages": HELLO, "stream": None, "params": None}
    r = client.post("/api/chat/completions", headers=admin, json=body | {"files": None})
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
    r = client.post("/api/chat/completions", headers=admin, json=body | {"model": None})
    assert assert_error(r, 400) == "Model not found"


def test_options_that_are_not_an_object_on_the_ollama_proxy(
    client: httpx.Client, admin: dict[str, str], ollama_standin: StandIn
) -> None:
    body = {"model": OLLAMA_MODEL, "messages": HELLO, "stream": False, "options": [1, 2]}
    r = client.post("/ollama/api/chat", headers=admin, json=body)
    assert assert_error(r, 400) == "`options` must be an object."
    assert ollama_standin.chats() == []


def test_nothing_was_logged_as_an_error(daemon: DaemonProc) -> None:
    assert_no_traceback(daemon)
