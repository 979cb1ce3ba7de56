"""Chat completions through a real daemon: official clients, presets, errors, cancellation."""

import json
import socket
import time
from typing import Any

import httpx
import ollama
import openai
import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import client_fixture, daemon_fixture
from tests.standins import StandIn, ollama_standin, openai_standin, provider_env
from tests.support import add_user, bearer, signup

__all__ = ["ollama_standin", "openai_standin"]  # fixtures used below

OLLAMA_MODEL, OPENAI_MODEL = "standin:latest", "standin-gpt"
REPLY = "Hello from the stand-in."
USER_MESSAGE = [{"role": "user", "content": "Say hello"}]


daemon = daemon_fixture(
    env=lambda ollama_standin, openai_standin: {
        "DEFAULT_USER_ROLE": "user",
        **provider_env(ollama=[ollama_standin], openai=[openai_standin]),
    },
    tmp="completions",
)


client = client_fixture(timeout=20)


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> dict[str, str]:
    return bearer(signup(client, "Admin", "admin@example.com")["token"])


@pytest.fixture(scope="module")
def user(client: httpx.Client, admin: dict[str, str]) -> dict[str, str]:
    return bearer(
        add_user(client, admin["Authorization"][7:], "Una", "una@example.com", "user")["token"]
    )


@pytest.fixture(scope="module")
def api_key(client: httpx.Client, admin: dict[str, str]) -> str:
    r = client.post("/api/v1/auths/api_key", headers=admin)
    assert r.status_code == 200, r.text
    key: str = r.json()["api_key"]
    assert key.startswith("sk-")
    return key


@pytest.fixture(autouse=True)
def fresh(ollama_standin: StandIn, openai_standin: StandIn) -> None:
    ollama_standin.reset()
    openai_standin.reset()


def sse(response: httpx.Response) -> list[Any]:
    events = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line[6:]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def stream_events(client: httpx.Client, headers: dict[str, str], body: dict[str, Any]) -> list[Any]:
    with client.stream("POST", "/api/chat/completions", headers=headers, json=body) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        return sse(r)


# ---- official clients -------------------------------------------------------------------------


@pytest.mark.parametrize("model", [OLLAMA_MODEL, OPENAI_MODEL])
def test_openai_client_streams(daemon: DaemonProc, api_key: str, model: str) -> None:
    oa = openai.OpenAI(base_url=f"{daemon.base_url}/api", api_key=api_key, max_retries=0)
    chunks = list(oa.chat.completions.create(model=model, messages=USER_MESSAGE, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    if model == OLLAMA_MODEL:
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 4


@pytest.mark.parametrize("model", [OLLAMA_MODEL, OPENAI_MODEL])
def test_openai_client_without_stream(daemon: DaemonProc, api_key: str, model: str) -> None:
    oa = openai.OpenAI(base_url=f"{daemon.base_url}/api", api_key=api_key, max_retries=0)
    reply = oa.chat.completions.create(model=model, messages=USER_MESSAGE)
    assert reply.object == "chat.completion"
    assert reply.choices[0].message.content == REPLY
    assert reply.usage is not None and reply.usage.total_tokens > 0


def test_ollama_client_chats(daemon: DaemonProc, admin: dict[str, str]) -> None:
    client = ollama.Client(host=f"{daemon.base_url}/ollama", headers=admin)
    reply = client.chat(model=OLLAMA_MODEL, messages=USER_MESSAGE, stream=False)
    assert reply.message.content == REPLY and reply.done
    parts = list(client.chat(model=OLLAMA_MODEL, messages=USER_MESSAGE, stream=True))
    assert "".join(p.message.content or "" for p in parts) == REPLY
    assert parts[-1].done and parts[-1].eval_count == 4
    generated = client.generate(model=OLLAMA_MODEL, prompt="hi", stream=False)
    assert generated.response == REPLY


# ---- what reaches the provider ----------------------------------------------------------------


def test_request_reaches_ollama_converted(
    client: httpx.Client, admin: dict[str, str], ollama_standin: StandIn
) -> None:
    body = {
        "model": OLLAMA_MODEL,
        "messages": USER_MESSAGE,
        "stream": True,
        "temperature": 0.3,
        "max_tokens": 50,
        "chat_id": "c1",
        "id": "m2",
        "parent_id": "m1",
        "session_id": "s1",
        "files": [{"type": "text", "content": "x"}],
    }
    events = stream_events(client, admin, body)
    assert events[-1] == "[DONE]"
    sent = ollama_standin.chats()[-1].body
    assert sent["model"] == OLLAMA_MODEL and sent["stream"] is True
    assert sent["options"] == {"temperature": 0.3, "num_predict": 50}
    assert not {"chat_id", "id", "parent_id", "session_id", "files"} & set(sent)


def test_ollama_thinking_becomes_reasoning_content(
    client: httpx.Client, admin: dict[str, str], ollama_standin: StandIn
) -> None:
    ollama_standin.set(thinking="Let me think.")
    events = stream_events(
        client, admin, {"model": OLLAMA_MODEL, "messages": USER_MESSAGE, "stream": True}
    )
    chunks = [e for e in events if isinstance(e, dict)]
    reasoning = "".join(c["choices"][0]["delta"].get("reasoning_content", "") for c in chunks)
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert (reasoning, content) == ("Let me think.", REPLY)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and "usage" in chunks[-1]


def test_preset_system_prompt_params_and_model(
    client: httpx.Client, admin: dict[str, str], ollama_standin: StandIn, openai_standin: StandIn
) -> None:
    preset = {
        "id": "helper",
        "base_model_id": OLLAMA_MODEL,
        "name": "Helper",
        "meta": {},
        "params": {
            "system": "You help {{USER_NAME}} ({{USER_EMAIL}}) on {{CURRENT_DATE}}.",
            "temperature": 0.2,
            "top_k": 7,
        },
    }
    assert client.post("/api/v1/models/create", headers=admin, json=preset).status_code == 200
    messages = [{"role": "system", "content": "Be brief."}, *USER_MESSAGE]
    r = client.post(
        "/api/chat/completions",
        headers=admin,
        json={"model": "helper", "messages": messages, "temperature": 0.9},
    )
    assert r.status_code == 200, r.text
    sent = ollama_standin.chats()[-1].body
    assert sent["model"] == OLLAMA_MODEL
    system = sent["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You help Admin (admin@example.com) on 20")
    assert system["content"].endswith(".\nBe brief.")
    assert sent["options"]["temperature"] == 0.9  # the request wins
    assert sent["options"]["top_k"] == 7  # the preset fills what was unset
    # OpenAI base: only OpenAI params are copied; request `params` beat the preset's.
    preset = {
        "id": "gpt-helper",
        "base_model_id": OPENAI_MODEL,
        "name": "GPT helper",
        "params": {"system": "Sys", "max_tokens": 3, "num_ctx": 9, "top_p": 0.1},
    }
    assert client.post("/api/v1/models/create", headers=admin, json=preset).status_code == 200
    r = client.post(
        "/api/chat/completions",
        headers=admin,
        json={"model": "gpt-helper", "messages": USER_MESSAGE, "params": {"top_p": 0.5}},
    )
    assert r.status_code == 200, r.text
    sent = openai_standin.chats()[-1].body
    assert sent["model"] == OPENAI_MODEL and sent["max_tokens"] == 3 and sent["top_p"] == 0.5
    assert "num_ctx" not in sent and "params" not in sent
    assert sent["messages"][0] == {"role": "system", "content": "Sys"}


def test_stream_response_param_forces_streaming(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    body = {"model": OLLAMA_MODEL, "messages": USER_MESSAGE, "params": {"stream_response": True}}
    r = client.post("/api/chat/completions", headers=admin, json=body)
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.text.rstrip().endswith("data: [DONE]")


# ---- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_or_forbidden_model_is_400(
    client: httpx.Client, admin: dict[str, str], user: dict[str, str], stream: bool
) -> None:
    body = {"model": "no-such-model", "messages": USER_MESSAGE, "stream": stream}
    r = client.post("/api/chat/completions", headers=admin, json=body)
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})
    # A base model with no record is admin-only (spec 4.1): same answer for a user.
    r = client.post("/api/v1/chat/completions", headers=user, json={**body, "model": OLLAMA_MODEL})
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})


@pytest.mark.parametrize("stream", [False, True])
def test_upstream_errors_keep_status_and_body(
    client: httpx.Client,
    admin: dict[str, str],
    ollama_standin: StandIn,
    openai_standin: StandIn,
    stream: bool,
) -> None:
    limited = {"error": {"message": "Slow down", "type": "rate_limit_error", "code": "rate"}}
    openai_standin.set(fail_status=429, fail_body=limited)
    body = {"model": OPENAI_MODEL, "messages": USER_MESSAGE, "stream": stream}
    r = client.post("/api/chat/completions", headers=admin, json=body)
    assert (r.status_code, r.json()) == (429, limited)
    r = client.post("/openai/chat/completions", headers=admin, json=body)
    assert (r.status_code, r.json()) == (429, limited)
    ollama_standin.set(fail_status=400, fail_body={"error": "bad options"})
    r = client.post("/api/chat/completions", headers=admin, json={**body, "model": OLLAMA_MODEL})
    assert (r.status_code, r.json()) == (400, {"detail": "Ollama: bad options"})
    r = client.post("/ollama/api/chat", headers=admin, json={**body, "model": OLLAMA_MODEL})
    assert r.status_code == 400


@pytest.mark.parametrize("model", [OLLAMA_MODEL, OPENAI_MODEL])
def test_cut_mid_stream_ends_with_error_then_done(
    client: httpx.Client,
    admin: dict[str, str],
    ollama_standin: StandIn,
    openai_standin: StandIn,
    model: str,
) -> None:
    ollama_standin.set(cut_after=2)
    openai_standin.set(cut_after=2)
    events = stream_events(
        client, admin, {"model": model, "messages": USER_MESSAGE, "stream": True}
    )
    text = "".join(
        e["choices"][0]["delta"].get("content") or "" for e in events[:-2] if isinstance(e, dict)
    )
    assert text == "Hello from "
    assert "error" in events[-2] and "choices" not in events[-2]
    assert events[-2]["error"]["message"].startswith("Chat completion stream failed")
    assert events[-1] == "[DONE]"


# ---- cancellation -----------------------------------------------------------------------------


def test_client_disconnect_closes_the_upstream_at_once(
    client: httpx.Client, admin: dict[str, str], ollama_standin: StandIn
) -> None:
    ollama_standin.set(tokens=50, token_delay=0.5)  # idle between tokens when we hang up
    body = {"model": OLLAMA_MODEL, "messages": USER_MESSAGE, "stream": True}
    with client.stream("POST", "/api/chat/completions", headers=admin, json=body) as r:
        lines = r.iter_lines()
        assert next(line for line in lines if line.startswith("data: "))
        hung_up = time.monotonic()
        r.close()
    closed = ollama_standin.wait_closed(timeout=2)
    assert closed.closed_at is not None and closed.closed_at - hung_up < 0.2
    assert closed.tokens_sent < 5


def raw_request(daemon: DaemonProc, headers: dict[str, str], path: str, body: Any) -> socket.socket:
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: {headers['Authorization']}\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", daemon.port))
    sock.sendall(head.encode() + payload)
    return sock


@pytest.mark.parametrize(
    ("path", "stream"),
    [("/api/chat/completions", True), ("/api/chat/completions", False), ("/ollama/api/chat", True)],
)
def test_disconnect_before_the_first_token_closes_the_upstream(
    daemon: DaemonProc, admin: dict[str, str], ollama_standin: StandIn, path: str, stream: bool
) -> None:
    ollama_standin.set(first_token_delay=5)  # a model still loading
    body = {"model": OLLAMA_MODEL, "messages": USER_MESSAGE, "stream": stream}
    sock = raw_request(daemon, admin, path, body)
    ollama_standin.wait_for(ollama_standin.chats)
    time.sleep(0.05)
    hung_up = time.monotonic()
    sock.close()
    closed = ollama_standin.wait_closed(timeout=2)
    assert closed.closed_at is not None and closed.closed_at - hung_up < 0.2


# ---- proxies ----------------------------------------------------------------------------------


def test_ollama_proxy_relays_ndjson_and_json(
    client: httpx.Client, admin: dict[str, str], ollama_standin: StandIn
) -> None:
    r = client.post(
        "/ollama/api/generate", headers=admin, json={"model": OLLAMA_MODEL, "prompt": "x"}
    )
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines() if line]
    assert "".join(line.get("response", "") for line in lines) == REPLY and lines[-1]["done"]
    r = client.post(
        "/ollama/api/chat",
        headers=admin,
        json={"model": OLLAMA_MODEL, "messages": USER_MESSAGE, "stream": False},
    )
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["message"]["content"] == REPLY
    assert ollama_standin.chats()[-1].body["stream"] is False
    r = client.post("/ollama/api/show", headers=admin, json={"model": OLLAMA_MODEL})
    assert r.status_code == 200 and r.json()["details"]["family"] == "standin"


def test_openai_proxy_passes_sse_through(
    client: httpx.Client, admin: dict[str, str], openai_standin: StandIn
) -> None:
    body = {"model": OPENAI_MODEL, "messages": USER_MESSAGE, "stream": True}
    with client.stream("POST", "/openai/chat/completions", headers=admin, json=body) as r:
        events = sse(r)
    assert events[-1] == "[DONE]"
    assert events[0]["id"].startswith("chatcmpl-standin-")  # the upstream's own events
    r = client.post("/openai/chat/completions", headers=admin, json={**body, "stream": False})
    assert r.json()["choices"][0]["message"]["content"] == REPLY
    r = client.post("/openai/chat/completions", headers=admin, json={**body, "model": OLLAMA_MODEL})
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})
