"""Tools in chats over time: a continued chat replays earlier calls and results to the model
(server-side and client-side turns), a re-attaching client gets the tool events, and
`tool_approval_mode: "ask"` (webui chat --confirm) waits for the owner's answer."""

import fcntl
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chat.test_turns import message, wait_message
from tests.cli_chat_support import chat_env
from tests.cli_support import webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, openai_standin, provider_env
from tests.support import PASSWORD, assert_error, bearer, tcp, unix
from tests.tools.tool_procs import ToolServerProc, openapi_server

__all__ = ["openai_standin", "openapi_server"]  # fixtures used below

MODEL = "standin-gpt"
TOOL = "server:weather"
APPROVAL_TIMEOUT_S = 2.0
REJECTED = "Error: tool call rejected by user."
NOT_APPROVED = "Error: tool call was not approved."
FORECAST = {"city": "Oslo", "forecast": "Sunny in Oslo, 21 degrees"}


def _seed(proc: DaemonProc, openapi_server: ToolServerProc) -> None:
    with unix(proc) as c:  # the socket's user is the admin
        connection = {
            "url": openapi_server.url,
            "path": "openapi.json",
            "config": {"enable": True},
            "info": {"id": "weather", "name": "Weather"},
        }
        r = c.post("/api/v1/configs/tool_servers", json={"TOOL_SERVER_CONNECTIONS": [connection]})
        assert r.status_code == 200, r.text


daemon = daemon_fixture(
    env=lambda openai_standin: provider_env(
        openai=[openai_standin],
        WEBUI_TOOL_APPROVAL_TIMEOUT=str(APPROVAL_TIMEOUT_S),
        BYPASS_MODEL_ACCESS_CONTROL="true",
    ),
    tmp="toolturns",
    setup=_seed,
)


@pytest.fixture
def api(daemon: DaemonProc, openai_standin: StandIn) -> Iterator[httpx.Client]:
    openai_standin.reset(use_tools=True, tool_arguments={"city": "Oslo"}, reply="Here.")
    with unix(daemon, timeout=30) as c:
        yield c


def new_chat(c: httpx.Client) -> str:
    r = c.post("/api/v1/chats/new", json={"chat": {"title": "Weather", "models": [MODEL]}})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def turn_body(chat_id: str, question: str, parent: str | None = None, **extra: Any) -> Any:
    asked = str(uuid.uuid4())
    return {
        "model": MODEL,
        "stream": True,
        "chat_id": chat_id,
        "id": str(uuid.uuid4()),
        "parent_id": asked,
        "user_message": {
            "id": asked,
            "parentId": parent,
            "childrenIds": [],
            "role": "user",
            "content": question,
            "timestamp": int(time.time()),
        },
        **extra,
    }


def tool_events(lines: list[str]) -> list[dict[str, Any]]:
    return [
        json.loads(line[len(": webui.tool ") :])
        for line in lines
        if line.startswith(": webui.tool ")
    ]


def text_of(lines: list[str]) -> str:
    out = []
    for line in lines:
        if line.startswith("data: {"):
            for choice in json.loads(line[6:]).get("choices") or []:
                out.append((choice.get("delta") or {}).get("content") or "")
    return "".join(out)


def run_turn(c: httpx.Client, body: dict[str, Any]) -> list[str]:
    with c.stream("POST", "/api/chat/completions", json=body) as r:
        assert r.status_code == 200, r.read()
        return [line for line in r.iter_lines() if line]


def asked_with(standin: StandIn, question: str) -> list[dict[str, Any]]:
    """The messages of the last model request whose last question was `question`."""
    for request in reversed(standin.chats()):
        users = [m for m in request.messages if m.get("role") == "user"]
        if users and users[-1].get("content") == question:
            return request.messages
    raise AssertionError(f"no request asked {question!r}")


def assert_replayed(messages: list[dict[str, Any]], first: str, second: str) -> None:
    """The first exchange as the model gave it: its call, the result, then the answer."""
    roles = [m["role"] for m in messages]
    assert roles == ["user", "assistant", "tool", "assistant", "user"], messages
    assert messages[0]["content"] == first and messages[4]["content"] == second
    (called,) = messages[1]["tool_calls"]
    assert called["function"]["name"] == "get_forecast"
    assert json.loads(called["function"]["arguments"]) == {"city": "Oslo"}
    assert messages[2]["tool_call_id"] == called["id"]
    assert json.loads(messages[2]["content"]) == FORECAST
    assert messages[3]["content"] == f"Here. Tool results: {json.dumps(FORECAST)}"


# ---- history ----------------------------------------------------------------------------------


def test_a_continued_chat_gives_the_model_the_earlier_calls_and_results(
    api: httpx.Client, openai_standin: StandIn
) -> None:
    chat_id = new_chat(api)
    first = turn_body(chat_id, "Weather in Oslo?", tool_ids=[TOOL])
    run_turn(api, first)
    wait_message(api, chat_id, first["id"])
    second = turn_body(chat_id, "And tomorrow?", parent=first["id"])
    second["user_message"]["parentId"] = first["id"]
    text = text_of(run_turn(api, second))
    assert text == "Here."  # no tools this time: a plain answer
    assert_replayed(
        asked_with(openai_standin, "And tomorrow?"), "Weather in Oslo?", "And tomorrow?"
    )


def test_client_side_turns_replay_them_too(
    daemon: DaemonProc, api: httpx.Client, openai_standin: StandIn, tmp_path: Path
) -> None:
    env = chat_env(daemon, tmp_path)
    made = webui("chat", "-m", MODEL, "--tool", TOOL, "--json", "Weather in Oslo?", env=env)
    assert made.returncode == 0, made.stderr
    # The same chat, continued by a client that saves its own turns (as against Open WebUI).
    env["WEBUI_CLIENT_TURNS"] = "1"
    went_on = webui("chat", "-c", "--json", "And tomorrow?", env=env)
    assert went_on.returncode == 0, went_on.stderr
    assert_replayed(
        asked_with(openai_standin, "And tomorrow?"), "Weather in Oslo?", "And tomorrow?"
    )
    assert json.loads(went_on.stdout)["chat_id"] == json.loads(made.stdout)["chat_id"]


# ---- re-attach --------------------------------------------------------------------------------


def test_re_attaching_gets_the_tool_events_so_far_and_after(
    api: httpx.Client, openai_standin: StandIn
) -> None:
    openai_standin.reset(
        tool_calls=[
            {"name": "get_forecast", "arguments": {"city": "Oslo"}},
            {"name": "slow", "arguments": {"seconds": 1.0}},
        ],
        reply="Done.",
    )
    chat_id = new_chat(api)
    body = turn_body(chat_id, "Weather?", tool_ids=[TOOL])
    with api.stream("POST", "/api/chat/completions", json=body) as r:
        seen = []
        for line in r.iter_lines():
            seen.append(line)
            if '"function_call_output"' in line:
                break  # the first result is in; the slow call runs: hang up
    path = f"/api/v1/chats/{chat_id}/messages/{body['id']}/stream"
    with api.stream("GET", path) as r:
        attached = [line for line in r.iter_lines() if line]
    events = [
        (e["type"], e["name"] if "name" in e else e["call_id"], e["status"])
        for e in tool_events(attached)
    ]
    calls = {e["name"]: e["call_id"] for e in tool_events(attached) if "name" in e}
    assert events == [  # as saved so far, in the order they came: both calls asked ...
        ("function_call", "get_forecast", "completed"),
        ("function_call", "slow", "in_progress"),
        ("function_call_output", calls["get_forecast"], "completed"),
        ("function_call_output", calls["slow"], "completed"),  # ... then live: the slow one
    ]
    assert text_of(attached).startswith("Done. Tool results:")
    assert attached[-1] == "data: [DONE]"

    # Finished: the saved message streams the same way, calls and results in order.
    with api.stream("GET", path) as r:
        stored = [line for line in r.iter_lines() if line]
    kinds = [(e["type"], e["status"]) for e in tool_events(stored)]
    assert (
        kinds == [("function_call", "completed")] * 2 + [("function_call_output", "completed")] * 2
    )
    assert text_of(stored) == text_of(attached)


# ---- asking before each call ------------------------------------------------------------------


def ask_body(chat_id: str) -> dict[str, Any]:
    return turn_body(chat_id, "Weather?", tool_ids=[TOOL], params={"tool_approval_mode": "ask"})


def until_pending(lines: Iterator[str], seen: list[str]) -> dict[str, Any]:
    for line in lines:
        seen.append(line)
        for event in tool_events([line]):
            if event["status"] == "pending":
                return event
    raise AssertionError(f"no call waited for approval: {seen}")


def resolve(c: httpx.Client, chat_id: str, message_id: str, call_id: str, action: str) -> Any:
    return c.post(
        f"/api/v1/chats/{chat_id}/messages/{message_id}/resolve",
        json={"call_id": call_id, "action": action},
    )


def test_an_approved_call_runs_and_only_the_owner_may_answer(
    daemon: DaemonProc,
    api: httpx.Client,
    openapi_server: ToolServerProc,
) -> None:
    r = api.post(
        "/api/v1/auths/add",
        json={
            "name": "Eve",
            "email": f"eve{uuid.uuid4().hex[:6]}@example.com",
            "password": PASSWORD,
            "role": "user",
        },
    )
    assert r.status_code == 200, r.text
    eve = bearer(r.json()["token"])
    before = len(openapi_server.calls())
    chat_id = new_chat(api)
    body = ask_body(chat_id)
    seen: list[str] = []
    with api.stream("POST", "/api/chat/completions", json=body) as r:
        lines = r.iter_lines()
        pending = until_pending(lines, seen)
        assert (pending["name"], json.loads(pending["arguments"])) == (
            "get_forecast",
            {"city": "Oslo"},
        )
        assert len(openapi_server.calls()) == before  # nothing ran before the answer
        with tcp(daemon, headers=eve) as other:  # not Eve's chat: as if it did not exist
            assert_error(resolve(other, chat_id, body["id"], pending["call_id"], "approve"), 401)
        assert_error(resolve(api, chat_id, body["id"], "call_nope", "approve"), 404)
        ok = resolve(api, chat_id, body["id"], pending["call_id"], "approve")
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"status": True, "chat_id": chat_id, "message_id": body["id"]}
        seen.extend(line for line in lines if line)
    again = resolve(api, chat_id, body["id"], pending["call_id"], "reject")
    assert_error(again, 404)  # answered once, and done
    statuses = [(e["type"], e["status"]) for e in tool_events(seen)]
    assert statuses == [
        ("function_call", "queued"),
        ("function_call", "pending"),
        ("function_call", "in_progress"),
        ("function_call_output", "completed"),
    ]
    assert text_of(seen) == f"Here. Tool results: {json.dumps(FORECAST)}"
    assert len(openapi_server.calls()) == before + 1


def test_a_rejected_call_tells_the_model_and_the_answer_goes_on(
    api: httpx.Client, openai_standin: StandIn, openapi_server: ToolServerProc
) -> None:
    before = len(openapi_server.calls())
    chat_id = new_chat(api)
    body = ask_body(chat_id)
    seen: list[str] = []
    with api.stream("POST", "/api/chat/completions", json=body) as r:
        lines = r.iter_lines()
        pending = until_pending(lines, seen)
        assert resolve(api, chat_id, body["id"], pending["call_id"], "reject").status_code == 200
        seen.extend(line for line in lines if line)
    assert text_of(seen) == f"Here. Tool results: {REJECTED}"
    assert len(openapi_server.calls()) == before  # never run
    saved = wait_message(api, chat_id, body["id"])
    assert [(i["type"], i["status"]) for i in saved["output"]] == [
        ("function_call", "rejected"),
        ("function_call_output", "rejected"),
        ("message", "completed"),
    ]
    assert saved["output"][1]["output"][0]["text"] == REJECTED


def test_no_answer_in_time_is_a_no(api: httpx.Client) -> None:
    chat_id = new_chat(api)
    body = ask_body(chat_id)
    started = time.monotonic()
    lines = run_turn(api, body)
    waited = time.monotonic() - started
    assert APPROVAL_TIMEOUT_S <= waited < APPROVAL_TIMEOUT_S + 5
    assert text_of(lines) == f"Here. Tool results: {NOT_APPROVED}"
    assert message(api, chat_id, body["id"])["output"][1]["status"] == "rejected"


def test_without_a_saved_chat_nobody_can_approve(api: httpx.Client) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Weather?"}],
        "tool_ids": [TOOL],
        "params": {"tool_approval_mode": "ask"},
    }
    r = api.post("/api/chat/completions", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == f"Here. Tool results: {NOT_APPROVED}"


def test_confirm_needs_a_terminal_and_tools(daemon: DaemonProc, tmp_path: Path) -> None:
    env = chat_env(daemon, tmp_path)
    for args, wanted in (
        (["--tool", TOOL, "--confirm", "Weather?"], "--confirm asks on a terminal"),
        (["--confirm", "Weather?"], "use it with --tool"),
        (["--tool", TOOL, "--confirm", "--temporary", "Weather?"], "no --temporary"),
    ):
        result = webui("chat", "-m", MODEL, *args, env=env)
        assert result.returncode == 1, result.stderr
        assert wanted in result.stderr and "Traceback" not in result.stderr
    assert not any(c.get("title") == "Weather?" for c in get_chat_list(daemon))


def get_chat_list(daemon: DaemonProc) -> list[dict[str, Any]]:
    with unix(daemon) as c:
        return list(c.get("/api/v1/chats/").json())


def on_a_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its controlling terminal (and stdin, stdout,
    stderr); type `answer` when it asks. Its exit code and all it wrote."""
    master, slave = pty.openpty()

    def own_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [sys.executable, "-m", "webui_tui.cli.main", *args],
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=own_terminal,
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:
                break  # the other side closed: the CLI is done
            if not data:
                break
            seen += data
        if not answered and b"[y/N]" in seen:
            os.write(master, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(10)
    os.close(master)
    return code, seen.decode(errors="replace")


def last_answer(daemon: DaemonProc) -> dict[str, Any]:
    with unix(daemon) as c:
        chats = c.get("/api/v1/chats/").json()
        chat = c.get(f"/api/v1/chats/{chats[0]['id']}").json()["chat"]
    history = chat["history"]
    return dict(history["messages"][history["currentId"]])


@pytest.mark.parametrize(("typed", "status"), [("y", "completed"), ("n", "rejected")])
def test_confirm_asks_on_the_terminal(
    daemon: DaemonProc, api: httpx.Client, tmp_path: Path, typed: str, status: str
) -> None:
    env = chat_env(daemon, tmp_path) | {"TERM": "dumb"}
    question = f"Weather, {typed}?"
    code, shown = on_a_terminal(
        ["chat", "-m", MODEL, "--tool", TOOL, "--confirm", question], env, typed
    )
    assert code == 0, shown
    assert '? run get_forecast(city="Oslo")? [y/N]' in shown
    saved = last_answer(daemon)
    assert [(i["type"], i["status"]) for i in saved["output"][:2]] == [
        ("function_call", status),
        ("function_call_output", status),
    ]
    result = saved["output"][1]["output"][0]["text"]
    assert result == (json.dumps(FORECAST) if typed == "y" else REJECTED)
    assert saved["content"] == f"Here. Tool results: {result}"
    assert saved["content"] in shown.replace("\r\n", "\n")
