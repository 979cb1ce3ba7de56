"""Server-side turns: answers stream into the chat, survive clients leaving, re-attach, stop."""

import json
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc, start_daemon
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import assert_error, bearer, signup, tcp, unix

MODEL = "standin:latest"
TITLE = "Stand-in small talk"


def _reply(body: dict[str, Any]) -> str:
    """Answer title requests with a title, everything else with a fixed sentence."""
    last = str(body.get("messages", [{}])[-1].get("content", ""))
    if "concise title" in last:
        return json.dumps({"title": TITLE})
    return "one two three four five six seven eight nine ten"


FULL = "one two three four five six seven eight nine ten"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply_fn=_reply)
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], DEFAULT_USER_ROLE="user"), tmp="turns"
)


@pytest.fixture(autouse=True)
def _reset(standin: StandIn) -> None:
    standin.reset(models=[MODEL], reply_fn=_reply)


def new_chat(client: httpx.Client, **headers: str) -> str:
    r = client.post(
        "/api/v1/chats/new",
        headers=headers,
        json={"chat": {"title": "New Chat", "models": [MODEL], "history": {"messages": {}}}},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def turn_body(chat_id: str, text: str = "Hello?", stream: bool = True) -> dict[str, Any]:
    user_id = str(uuid.uuid4())
    return {
        "model": MODEL,
        "stream": stream,
        "chat_id": chat_id,
        "id": str(uuid.uuid4()),
        "parent_id": user_id,
        "user_message": {
            "id": user_id,
            "parentId": None,
            "childrenIds": [],
            "role": "user",
            "content": text,
            "timestamp": int(time.time()),
        },
    }


def sse_payloads(lines: Iterator[str]) -> Iterator[Any]:
    for line in lines:
        if line.startswith("data: "):
            data = line[len("data: ") :]
            yield "[DONE]" if data == "[DONE]" else json.loads(data)


def text_of(events: list[Any]) -> str:
    out = []
    for event in events:
        if isinstance(event, dict):
            for choice in event.get("choices") or []:
                out.append((choice.get("delta") or {}).get("content") or "")
    return "".join(out)


def read_tokens(response: httpx.Response, count: int) -> None:
    """Read the stream until `count` content chunks arrived (then the caller hangs up)."""
    seen = 0
    for line in response.iter_lines():
        seen += '"content"' in line
        if seen >= count:
            return
    raise AssertionError(f"the stream ended before {count} tokens")


def message(client: httpx.Client, chat_id: str, message_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/chats/{chat_id}")
    assert r.status_code == 200, r.text
    return dict(r.json()["chat"]["history"]["messages"][message_id])


def wait_message(
    client: httpx.Client, chat_id: str, message_id: str, timeout: float = 10
) -> dict[str, Any]:
    """The message once it is marked done (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = message(client, chat_id, message_id)
        if m.get("done"):
            return m
        time.sleep(0.05)
    raise AssertionError(f"message not done within {timeout}s: {m}")


def test_turn_streams_into_the_chat_and_titles_it(daemon: DaemonProc, standin: StandIn) -> None:
    with unix(daemon) as c:
        chat_id = new_chat(c)
        body = turn_body(chat_id, "Say ten words")
        with c.stream("POST", "/api/chat/completions", json=body) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            events = list(sse_payloads(r.iter_lines()))
        assert events[-1] == "[DONE]"
        assert text_of(events) == FULL
        # The provider got the conversation built from the chat (the user message).
        sent = standin.chats()[0].body["messages"]
        assert sent[-1] == {"role": "user", "content": "Say ten words"}

        saved = wait_message(c, chat_id, body["id"])
        assert saved["content"] == FULL
        assert saved["role"] == "assistant"
        assert saved["parentId"] == body["parent_id"]
        assert saved["usage"]["completion_tokens"] > 0
        assert not saved.get("interrupted")
        chat = c.get(f"/api/v1/chats/{chat_id}").json()
        assert chat["chat"]["history"]["currentId"] == body["id"]
        assert [m["role"] for m in chat["chat"]["messages"]] == ["user", "assistant"]
        # The title is generated in the background after the first exchange.
        deadline = time.monotonic() + 10
        while c.get(f"/api/v1/chats/{chat_id}").json()["title"] != TITLE:
            assert time.monotonic() < deadline, "no title generated"
            time.sleep(0.05)


def test_follow_up_sends_the_whole_branch_and_the_chat_system_prompt(
    daemon: DaemonProc, standin: StandIn
) -> None:
    with unix(daemon) as c:
        r = c.post(
            "/api/v1/chats/new",
            json={"chat": {"title": "Sys", "system": "Be brief.", "history": {"messages": {}}}},
        )
        chat_id = r.json()["id"]
        first = turn_body(chat_id, "first", stream=False)
        assert c.post("/api/chat/completions", json=first).status_code == 200
        second = turn_body(chat_id, "second", stream=False)
        second["user_message"]["parentId"] = first["id"]
        r = c.post("/api/chat/completions", json=second)
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"] == FULL
        sent = standin.chats()[-1].body["messages"]
        assert [(m["role"], m["content"]) for m in sent] == [
            ("system", "Be brief."),
            ("user", "first"),
            ("assistant", FULL),
            ("user", "second"),
        ]


def test_answer_survives_the_client_leaving(daemon: DaemonProc, standin: StandIn) -> None:
    standin.set(token_delay=0.05)
    with unix(daemon) as c:
        chat_id = new_chat(c)
        body = turn_body(chat_id)
        with c.stream("POST", "/api/chat/completions", json=body) as r:
            read_tokens(r, 1)
        saved = wait_message(c, chat_id, body["id"])
        assert saved["content"] == FULL
        assert not saved.get("interrupted")


def test_reattach_gets_what_was_generated_then_the_rest(
    daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(token_delay=0.08)
    with unix(daemon) as c:
        chat_id = new_chat(c)
        body = turn_body(chat_id)
        with c.stream("POST", "/api/chat/completions", json=body) as r:
            read_tokens(r, 3)
        tasks = c.get(f"/api/tasks/chat/{chat_id}").json()
        assert tasks == {"task_ids": [body["id"]]}
        url = f"/api/v1/chats/{chat_id}/messages/{body['id']}/stream"
        with c.stream("GET", url) as r:
            assert r.status_code == 200
            events = list(sse_payloads(r.iter_lines()))
        assert events[-1] == "[DONE]"
        # The first event holds everything so far (more than one token), then live tokens.
        assert len(text_of(events[:1]).split()) >= 2
        assert text_of(events) == FULL
        # Attaching after the end replays the stored answer.
        with c.stream("GET", url) as r:
            assert text_of(list(sse_payloads(r.iter_lines()))) == FULL
        assert c.get(f"/api/tasks/chat/{chat_id}").json() == {"task_ids": []}


def test_stop_closes_the_upstream_and_keeps_the_partial_answer(
    daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(token_delay=0.1)
    with unix(daemon) as c:
        chat_id = new_chat(c)
        body = turn_body(chat_id)
        with c.stream("POST", "/api/chat/completions", json=body) as r:
            read_tokens(r, 2)
        url = f"/api/v1/chats/{chat_id}/messages/{body['id']}/stream"
        with c.stream("GET", url) as attached:
            stop_at = time.monotonic()
            stopped = c.post(f"/api/tasks/chat/{chat_id}/stop").json()
            assert stopped == {"status": True, "message": f"Task {body['id']} stopped."}
            live = list(sse_payloads(attached.iter_lines()))
        # A client following the answer learns it was stopped from the last chunk.
        assert live[-1] == "[DONE]" and live[-2]["interrupted"] is True
        closed = standin.wait_closed()
        assert closed.closed_at is not None
        assert closed.closed_at - stop_at < 0.2
        saved = message(c, chat_id, body["id"])
        assert saved["done"] is True
        assert saved["interrupted"] is True
        assert saved["content"] and FULL.startswith(saved["content"])
        assert saved["content"] != FULL
        # Attaching later replays it, still marked interrupted.
        with c.stream("GET", url) as again:
            replay = list(sse_payloads(again.iter_lines()))
        assert text_of(replay) == saved["content"] and replay[-2]["interrupted"] is True


def test_upstream_cut_keeps_partial_answer_and_error(daemon: DaemonProc, standin: StandIn) -> None:
    standin.set(cut_after=3)
    with unix(daemon) as c:
        chat_id = new_chat(c)
        body = turn_body(chat_id)
        with c.stream("POST", "/api/chat/completions", json=body) as r:
            events = list(sse_payloads(r.iter_lines()))
        assert events[-1] == "[DONE]"
        assert any(isinstance(e, dict) and "error" in e for e in events)
        saved = wait_message(c, chat_id, body["id"])
        assert saved["content"] == text_of(events)
        assert saved["content"] and saved["content"] != FULL
        assert saved["error"]["content"]
        url = f"/api/v1/chats/{chat_id}/messages/{body['id']}/stream"
        with c.stream("GET", url) as r:
            replay = list(sse_payloads(r.iter_lines()))
        assert replay[-2] == {"error": {"message": saved["error"]["content"]}}


def test_upstream_error_before_first_token_keeps_its_status(
    daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(fail_status=429, fail_body={"error": "slow down"})
    with unix(daemon) as c:
        chat_id = new_chat(c)
        body = turn_body(chat_id)
        r = c.post("/api/chat/completions", json=body)
        assert r.status_code == 429, r.text
        saved = wait_message(c, chat_id, body["id"])
        assert saved["error"]["content"]
        assert saved["content"] == ""


@pytest.mark.parametrize("stream", [True, False])
def test_unknown_model_is_saved_as_the_answer_error(daemon: DaemonProc, stream: bool) -> None:
    """A turn that fails before it starts keeps the question and records the failure in the
    answer, as one that fails mid-stream does (not a question left without an answer)."""
    with unix(daemon) as c:
        chat_id = new_chat(c)
        body = turn_body(chat_id, stream=stream) | {"model": "no-such-model"}
        assert assert_error(c.post("/api/chat/completions", json=body), 400) == "Model not found"
        chat = c.get(f"/api/v1/chats/{chat_id}").json()["chat"]
        messages = chat["history"]["messages"]
        question = messages[body["parent_id"]]
        assert question["content"] == "Hello?"
        answer = messages[body["id"]]
        assert answer["role"] == "assistant" and answer["parentId"] == body["parent_id"]
        assert answer["error"] == {"content": "Model not found"}
        assert answer["done"] is True and answer["content"] == ""
        assert answer["model"] == "no-such-model"
        assert question["childrenIds"] == [body["id"]]
        assert chat["history"]["currentId"] == body["id"]
        # Nothing is running for it, and re-attaching replays the error.
        assert c.get(f"/api/tasks/chat/{chat_id}").json() == {"task_ids": []}
        url = f"/api/v1/chats/{chat_id}/messages/{body['id']}/stream"
        with c.stream("GET", url) as r:
            replay = list(sse_payloads(r.iter_lines()))
        assert replay[-2:] == [{"error": {"message": "Model not found"}}, "[DONE]"]


def test_a_running_answer_is_not_overwritten_by_a_second_request(
    daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(token_delay=0.05)
    with unix(daemon) as c:
        chat_id = new_chat(c)
        body = turn_body(chat_id)
        with c.stream("POST", "/api/chat/completions", json=body) as r:
            read_tokens(r, 1)
            again = c.post("/api/chat/completions", json=body | {"model": "no-such-model"})
            assert assert_error(again, 400) == "That message is already being generated."
        saved = wait_message(c, chat_id, body["id"])
        assert saved["content"] == FULL and "error" not in saved


def test_other_users_cannot_touch_a_turn(daemon: DaemonProc, standin: StandIn) -> None:
    standin.set(token_delay=0.05)
    with unix(daemon) as owner, tcp(daemon) as other:
        mallory = signup(other, "Mallory", f"m-{uuid.uuid4().hex[:6]}@example.com")
        assert mallory["role"] == "user"
        token = mallory["token"]
        chat_id = new_chat(owner)
        body = turn_body(chat_id)
        h = bearer(token)
        # Someone else's chat id is ignored, as Open WebUI 0.6 does: nothing lands in it.
        other.post("/api/chat/completions", json=body, headers=h)
        untouched = owner.get(f"/api/v1/chats/{chat_id}").json()["chat"]["history"]["messages"]
        assert untouched == {}
        with owner.stream("POST", "/api/chat/completions", json=body) as r:
            read_tokens(r, 1)
        assert other.get(f"/api/tasks/chat/{chat_id}", headers=h).status_code == 401
        assert other.post(f"/api/tasks/chat/{chat_id}/stop", headers=h).status_code == 401
        assert other.post(f"/api/tasks/stop/{body['id']}", headers=h).json() == {
            "status": False,
            "message": f"Task with ID {body['id']} not found.",  # Open WebUI's words
        }
        url = f"/api/v1/chats/{chat_id}/messages/{body['id']}/stream"
        assert other.get(url, headers=h).status_code == 401
        saved = wait_message(owner, chat_id, body["id"])
        assert saved["content"] == FULL and not saved.get("interrupted")


def test_daemon_stop_saves_partial_answer_marked_interrupted(
    tmp_path: Path, standin: StandIn
) -> None:
    standin.set(token_delay=0.1)
    proc = start_daemon(tmp_path, env=provider_env(ollama=[standin]))
    try:
        with unix(proc) as c:
            chat_id = new_chat(c)
            body = turn_body(chat_id)
            with c.stream("POST", "/api/chat/completions", json=body) as r:
                read_tokens(r, 2)
                started = time.monotonic()
                assert proc.stop(signal.SIGTERM) == 0
                assert time.monotonic() - started < 5  # no wait for the answer to finish
    finally:
        proc.stop()
    proc = start_daemon(tmp_path, env=provider_env(ollama=[standin]))
    try:
        with unix(proc) as c:
            saved = message(c, chat_id, body["id"])
            assert saved["interrupted"] is True and saved["done"] is True
            assert saved["content"] and saved["content"] != FULL
            assert FULL.startswith(saved["content"])
    finally:
        proc.stop()


def test_chat_completed_echoes_the_body(daemon: DaemonProc) -> None:
    body = {"model": MODEL, "id": "m1", "chat_id": "c1", "messages": [{"role": "user"}]}
    with unix(daemon) as c:
        r = c.post("/api/chat/completed", json=body)
        assert r.status_code == 200 and r.json() == body
        assert_error(c.post("/api/chat/completed", json={"model": MODEL}), 400)
