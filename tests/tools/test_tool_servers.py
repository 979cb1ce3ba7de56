"""Tool servers run by the daemon: admins' config (+ verify), the tools list with access, the
loop for a completion with `tool_ids` (OpenAPI, MCP over HTTP and stdio), saved in the chat as
Open WebUI 0.12 saves it, bad tool servers and bad tool calls, and Python code refused."""

import json
import socket
import time
import uuid
from typing import Any

import httpx
import openai
import pytest

from tests.chat.test_turns import message, wait_message
from tests.daemon_proc import DaemonProc
from tests.daemons import client_fixture, daemon_fixture, sign_up
from tests.standins import StandIn, closed_port_url, openai_standin, provider_env
from tests.support import assert_error, bearer
from tests.tools.tool_procs import (
    STDIO_COMMAND,
    ToolServerProc,
    mcp_http_server,
    openapi_server,
    start_tool_server,
)

__all__ = ["mcp_http_server", "openai_standin", "openapi_server"]  # fixtures used below

MODEL = "standin-gpt"
QUESTION = [{"role": "user", "content": "What is the weather in Oslo?"}]
TIMEOUT_S = 1.5
MAX_ROUNDS = 3


daemon = daemon_fixture(
    env=lambda openai_standin: provider_env(
        openai=[openai_standin],
        DEFAULT_USER_ROLE="user",
        AIOHTTP_CLIENT_TIMEOUT_TOOL_SERVER=str(TIMEOUT_S),
        WEBUI_TOOL_RESULT_MAX_BYTES="100000",
        CHAT_RESPONSE_MAX_TOOL_CALL_ITERATIONS=str(MAX_ROUNDS),
        BYPASS_MODEL_ACCESS_CONTROL="true",
    ),
    tmp="tools",
)


client = client_fixture(timeout=30)


@pytest.fixture(scope="module")
def who(client: httpx.Client) -> dict[str, Any]:
    admin, una, bob = sign_up(client, "una", "bob").values()
    return {
        "admin": bearer(admin["token"]),
        "una": bearer(una["token"]),
        "una_id": una["id"],
        "bob": bearer(bob["token"]),
        "admin_token": admin["token"],
    }


@pytest.fixture(scope="module")
def group_id(client: httpx.Client, who: dict[str, Any]) -> str:
    group = client.post(
        "/api/v1/groups/create", headers=who["admin"], json={"name": "weather", "description": ""}
    ).json()
    r = client.post(
        f"/api/v1/groups/id/{group['id']}/users/add",
        headers=who["admin"],
        json={"user_ids": [who["una_id"]]},
    )
    assert r.status_code == 200, r.text
    return str(group["id"])


def connections(openapi: ToolServerProc, mcp: ToolServerProc, group: str) -> list[dict[str, Any]]:
    grant = {"principal_type": "group", "principal_id": group, "permission": "read"}
    return [
        {  # server:0, for the weather group
            "url": openapi.url,
            "path": "openapi.json",
            "type": "openapi",
            "auth_type": "none",
            "config": {"enable": True, "access_grants": [grant]},
        },
        {  # server:mcp:weather, admins only
            "url": mcp.url,
            "type": "mcp",
            "auth_type": "none",
            "config": {"enable": True},
            "info": {"id": "weather", "name": "Weather MCP", "description": "Forecasts"},
        },
        {  # server:mcp:local: a stdio server the daemon starts
            "type": "mcp",
            "command": STDIO_COMMAND,
            "config": {"enable": True},
            "info": {"id": "local", "name": "Local MCP"},
        },
        {  # server:keyed: the same OpenAPI server, with a bearer key
            "url": openapi.url,
            "path": "openapi.json",
            "auth_type": "bearer",
            "key": "tool-key",
            "config": {"enable": True},
            "info": {"id": "keyed"},
        },
        {  # server:sess: the caller's own session
            "url": openapi.url,
            "path": "/openapi.json",
            "auth_type": "session",
            "config": {"enable": True},
            "info": {"id": "sess"},
        },
        {  # server:off: switched off
            "url": openapi.url,
            "config": {"enable": False},
            "info": {"id": "off"},
        },
    ]


@pytest.fixture(scope="module")
def configured(
    client: httpx.Client,
    who: dict[str, Any],
    group_id: str,
    openapi_server: ToolServerProc,
    mcp_http_server: ToolServerProc,
) -> list[dict[str, Any]]:
    wanted = connections(openapi_server, mcp_http_server, group_id)
    r = client.post(
        "/api/v1/configs/tool_servers",
        headers=who["admin"],
        json={"TOOL_SERVER_CONNECTIONS": wanted},
    )
    assert r.status_code == 200, r.text
    return wanted


@pytest.fixture(autouse=True)
def tool_model(openai_standin: StandIn) -> None:
    openai_standin.reset(use_tools=True, tool_arguments={"city": "Oslo"}, reply="Here you go.")


def complete(client: httpx.Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    body = {"model": MODEL, "messages": QUESTION, **body}
    r = client.post("/api/chat/completions", headers=headers, json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def items(reply: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [i for i in reply.get("output") or [] if i["type"] == kind]


def result_text(item: dict[str, Any]) -> str:
    return str(item["output"][0]["text"])


# ---- admins' config ---------------------------------------------------------------------------


def test_config_is_for_admins_and_kept(
    client: httpx.Client, who: dict[str, Any], configured: list[dict[str, Any]]
) -> None:
    assert_error(client.get("/api/v1/configs/tool_servers", headers=who["una"]), 401)
    denied = client.post(
        "/api/v1/configs/tool_servers",
        headers=who["una"],
        json={"TOOL_SERVER_CONNECTIONS": [{"url": "http://169.254.169.254", "path": "x"}]},
    )
    assert_error(denied, 401)
    assert_error(
        client.post("/api/v1/configs/tool_servers/verify", headers=who["una"], json={"url": "x"}),
        401,
    )
    saved = client.get("/api/v1/configs/tool_servers", headers=who["admin"]).json()
    assert [c["url"] for c in saved["TOOL_SERVER_CONNECTIONS"]] == [
        c.get("url", "") for c in configured
    ]
    assert saved["TOOL_SERVER_CONNECTIONS"][2]["command"] == STDIO_COMMAND


def test_verify(
    client: httpx.Client,
    who: dict[str, Any],
    openapi_server: ToolServerProc,
    mcp_http_server: ToolServerProc,
) -> None:
    verify = "/api/v1/configs/tool_servers/verify"
    r = client.post(
        verify, headers=who["admin"], json={"url": openapi_server.url, "path": "openapi.json"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["info"]["title"] == "Weather tools" and "/forecast" in r.json()["paths"]
    r = client.post(verify, headers=who["admin"], json={"url": mcp_http_server.url, "type": "mcp"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] is True
    assert {s["name"] for s in r.json()["specs"]} == {"get_forecast", "add", "fail"}
    down = client.post(
        verify, headers=who["admin"], json={"url": closed_port_url(), "path": "openapi.json"}
    )
    assert assert_error(down, 400) == "Failed to connect to the tool server"
    down = client.post(verify, headers=who["admin"], json={"url": closed_port_url(), "type": "mcp"})
    assert assert_error(down, 400) == "Failed to create MCP client"


def test_tools_list_follows_access(
    client: httpx.Client, who: dict[str, Any], configured: list[dict[str, Any]]
) -> None:
    def ids(headers: dict[str, str]) -> list[str]:
        r = client.get("/api/v1/tools/", headers=headers)
        assert r.status_code == 200, r.text
        return [t["id"] for t in r.json()]

    assert ids(who["admin"]) == [
        "server:0",
        "server:mcp:weather",
        "server:mcp:local",
        "server:keyed",
        "server:sess",
    ]
    assert ids(who["una"]) == ["server:0"]  # in the group the grant names
    assert ids(who["bob"]) == []
    listed = client.get("/api/v1/tools/", headers=who["una"]).json()[0]
    assert (listed["name"], listed["meta"]["description"]) == (
        "Weather tools",
        "Forecasts and test helpers.",
    )
    specs = client.get("/api/v1/tools/id/server:mcp:local/specs", headers=who["admin"]).json()
    assert {s["name"] for s in specs["specs"]} == {"get_forecast", "add", "fail"}
    assert_error(client.get("/api/v1/tools/id/server:mcp:local/specs", headers=who["bob"]), 404)


def test_python_tools_and_functions_are_refused(client: httpx.Client, who: dict[str, Any]) -> None:
    code = {"id": "t", "name": "t", "content": "import os\nos.system('id')", "meta": {}}
    for path in ("/api/v1/tools/create", "/api/v1/functions/create"):
        detail = assert_error(client.post(path, headers=who["admin"], json=code), 400)
        assert "never runs users' code" in detail and "webui tools add" in detail
    assert client.get("/api/v1/functions/", headers=who["admin"]).json() == []
    assert client.get("/api/v1/tools/list", headers=who["admin"]).json() == []


# ---- the loop ---------------------------------------------------------------------------------


def test_openai_client_gets_the_loop_streamed(
    daemon: DaemonProc,
    who: dict[str, Any],
    configured: list[dict[str, Any]],
    openai_standin: StandIn,
    openapi_server: ToolServerProc,
) -> None:
    oa = openai.OpenAI(base_url=f"{daemon.base_url}/api", api_key=who["una"]["Authorization"][7:])
    chunks = list(
        oa.chat.completions.create(
            model=MODEL,
            messages=QUESTION,
            stream=True,
            extra_body={"tool_ids": ["server:0"]},  # type: ignore[arg-type]
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    forecast = {"city": "Oslo", "forecast": "Sunny in Oslo, 21 degrees"}
    assert text == f"Here you go. Tool results: {json.dumps(forecast)}"
    assert all(not c.choices[0].delta.tool_calls for c in chunks if c.choices)  # run, not relayed
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    first, second = openai_standin.chats()[-2:]
    offered = {t["function"]["name"] for t in first.body["tools"]}
    assert offered == {"get_forecast", "echo", "whoami", "slow", "garbage", "huge"}
    assert second.messages[-1]["role"] == "tool"
    assert {"op": "get_forecast", "city": "Oslo"} in openapi_server.calls()


def test_stream_carries_tool_events_as_comments(
    client: httpx.Client, who: dict[str, Any], configured: list[dict[str, Any]]
) -> None:
    body = {"model": MODEL, "messages": QUESTION, "stream": True, "tool_ids": ["server:0"]}
    with client.stream("POST", "/api/chat/completions", headers=who["una"], json=body) as r:
        lines = [line for line in r.iter_lines() if line]
    events = [
        json.loads(line[len(": webui.tool ") :])
        for line in lines
        if line.startswith(": webui.tool ")
    ]
    assert [(e["type"], e["status"]) for e in events] == [
        ("function_call", "in_progress"),
        ("function_call_output", "completed"),
    ]
    assert events[0]["name"] == "get_forecast" and json.loads(events[0]["arguments"]) == {
        "city": "Oslo"
    }
    assert events[1]["call_id"] == events[0]["call_id"]
    first_text = next(i for i, line in enumerate(lines) if '"content":"Here' in line)
    assert lines.index(next(line for line in lines if "function_call_output" in line)) < first_text
    assert lines[-1] == "data: [DONE]"


def test_not_streamed_reply_lists_the_calls(
    client: httpx.Client, who: dict[str, Any], configured: list[dict[str, Any]]
) -> None:
    reply = complete(client, who["una"], tool_ids=["server:0"])
    assert reply["choices"][0]["message"]["content"].startswith("Here you go. Tool results: {")
    assert reply["choices"][0]["finish_reason"] == "stop"
    (called,) = items(reply, "function_call")
    (result,) = items(reply, "function_call_output")
    assert (called["name"], called["status"], result["status"]) == (
        "get_forecast",
        "completed",
        "completed",
    )
    assert json.loads(result_text(result))["forecast"] == "Sunny in Oslo, 21 degrees"


@pytest.mark.parametrize("tool_id", ["server:mcp:weather", "server:mcp:local"])
def test_mcp_servers_http_and_stdio(
    client: httpx.Client,
    who: dict[str, Any],
    configured: list[dict[str, Any]],
    openai_standin: StandIn,
    tool_id: str,
) -> None:
    openai_standin.reset(tool_calls=[{"name": "add", "arguments": {"a": 2, "b": 40}}], reply="Sum.")
    reply = complete(client, who["admin"], tool_ids=[tool_id])
    assert reply["choices"][0]["message"]["content"] == "Sum. Tool results: 42"
    (result,) = items(reply, "function_call_output")
    assert (result_text(result), result["status"]) == ("42", "completed")
    openai_standin.reset(tool_calls=[{"name": "fail", "arguments": {}}], reply="Oh.")
    (failed,) = items(complete(client, who["admin"], tool_ids=[tool_id]), "function_call_output")
    assert failed["status"] == "failed" and result_text(failed).startswith("Error: ")


def test_auth_bearer_and_session(
    client: httpx.Client,
    who: dict[str, Any],
    configured: list[dict[str, Any]],
    openai_standin: StandIn,
) -> None:
    openai_standin.reset(tool_calls=[{"name": "whoami", "arguments": {}}])
    (keyed,) = items(
        complete(client, who["admin"], tool_ids=["server:keyed"]), "function_call_output"
    )
    assert json.loads(result_text(keyed)) == {"authorization": "Bearer tool-key"}
    (session,) = items(
        complete(client, who["admin"], tool_ids=["server:sess"]), "function_call_output"
    )
    token = json.loads(result_text(session))["authorization"].removeprefix("Bearer ")
    me = client.get("/api/v1/auths/", headers=bearer(token))
    assert me.status_code == 200 and me.json()["email"] == "admin@example.com"


def test_ids_a_user_may_not_use_give_no_tools(
    client: httpx.Client,
    who: dict[str, Any],
    configured: list[dict[str, Any]],
    openai_standin: StandIn,
) -> None:
    reply = complete(
        client, who["bob"], tool_ids=["server:0", "server:mcp:local", "server:off", "nope"]
    )
    assert "output" not in reply
    assert "tools" not in openai_standin.chats()[-1].body


def test_rounds_are_bounded(
    client: httpx.Client,
    who: dict[str, Any],
    configured: list[dict[str, Any]],
    openai_standin: StandIn,
) -> None:
    openai_standin.reset(use_tools=True, tool_arguments={"city": "Oslo"}, tool_rounds=100)
    reply = complete(client, who["una"], tool_ids=["server:0"], stream=False)
    assert len(items(reply, "function_call")) == MAX_ROUNDS
    sent = openai_standin.chats()
    assert len(sent) == MAX_ROUNDS + 1
    assert "tools" not in sent[-1].body  # the last request asks for the answer


# ---- bad tool servers, bad calls --------------------------------------------------------------

BAD = [
    ("slow", {"seconds": 5}, f"did not answer within {TIMEOUT_S:g} s"),
    ("garbage", {}, "not valid JSON"),
    ("huge", {}, "larger than 100000 bytes"),
    ("no_such_tool", {}, 'Tool "no_such_tool" not found'),
    ("get_forecast", '{"city": "Oslo"', "could not be parsed"),
    ("get_forecast", "[1, 2]", "must be a JSON object"),
]


@pytest.mark.parametrize(
    ("name", "arguments", "error"), BAD, ids=[b[0] + str(i) for i, b in enumerate(BAD)]
)
def test_bad_calls_give_the_model_an_error_and_the_answer_goes_on(
    client: httpx.Client,
    who: dict[str, Any],
    configured: list[dict[str, Any]],
    openai_standin: StandIn,
    name: str,
    arguments: Any,
    error: str,
) -> None:
    openai_standin.reset(tool_calls=[{"name": name, "arguments": arguments}], reply="Sorry.")
    started = time.monotonic()
    reply = complete(client, who["una"], tool_ids=["server:0"])
    assert time.monotonic() - started < TIMEOUT_S + 3  # never hung on the tool
    (result,) = items(reply, "function_call_output")
    assert result["status"] == "failed" and error in result_text(result)
    assert result_text(result).startswith("Error: ") and len(result_text(result)) < 400
    assert (
        reply["choices"][0]["message"]["content"] == f"Sorry. Tool results: {result_text(result)}"
    )


def test_a_server_that_went_down(
    client: httpx.Client,
    who: dict[str, Any],
    configured: list[dict[str, Any]],
    openai_standin: StandIn,
) -> None:
    doomed = start_tool_server("openapi")
    try:
        extra = {"url": doomed.url, "config": {"enable": True}, "info": {"id": "doomed"}}
        r = client.post(
            "/api/v1/configs/tool_servers",
            headers=who["admin"],
            json={"TOOL_SERVER_CONNECTIONS": [*configured, extra]},
        )
        assert r.status_code == 200, r.text
    finally:
        doomed.stop()
    reply = complete(client, who["admin"], tool_ids=["server:doomed"])
    (result,) = items(reply, "function_call_output")
    assert "could not reach the tool server" in result_text(result)
    assert reply["choices"][0]["message"]["content"].startswith("Here you go. Tool results: Error:")


def test_users_cannot_point_the_daemon_at_a_url(
    client: httpx.Client, who: dict[str, Any], configured: list[dict[str, Any]]
) -> None:
    """0.12's per-request `tool_servers` (direct tool servers) are not fetched by the daemon."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.3)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        servers = [{"url": url, "openapi": {}, "specs": [{"name": "x"}], "info": {}}]
        complete(client, who["una"], tool_servers=servers, tool_ids=[f"server:{url}"])
        with pytest.raises(TimeoutError):
            listener.accept()


# ---- in a chat --------------------------------------------------------------------------------


def turn_body(chat_id: str, **extra: Any) -> dict[str, Any]:
    user_id = str(uuid.uuid4())
    return {
        "model": MODEL,
        "stream": True,
        "chat_id": chat_id,
        "id": str(uuid.uuid4()),
        "parent_id": user_id,
        "user_message": {
            "id": user_id,
            "parentId": None,
            "childrenIds": [],
            "role": "user",
            "content": "Weather in Oslo?",
            "timestamp": int(time.time()),
        },
        **extra,
    }


def test_a_turn_saves_calls_as_0_12_and_survives_the_client_leaving(
    client: httpx.Client,
    who: dict[str, Any],
    configured: list[dict[str, Any]],
    openai_standin: StandIn,
) -> None:
    openai_standin.reset(
        tool_calls=[{"name": "slow", "arguments": {"seconds": 0.6}}], reply="Done waiting."
    )
    chat = client.post(
        "/api/v1/chats/new",
        headers=who["una"],
        json={"chat": {"title": "New Chat", "models": [MODEL]}},
    ).json()
    body = turn_body(chat["id"], tool_ids=["server:0"])
    with client.stream("POST", "/api/chat/completions", headers=who["una"], json=body) as r:
        for line in r.iter_lines():
            if line.startswith(": webui.tool "):
                break  # the call started: hang up while the tool runs
    with tcp_headers(client, who["una"]) as c:
        saved = wait_message(c, chat["id"], body["id"])
    forecast = "Done waiting. Tool results: " + json.dumps({"slept": "0.6"})
    assert saved["content"] == forecast
    kinds = [(i["type"], i.get("status")) for i in saved["output"]]
    assert kinds == [
        ("function_call", "completed"),
        ("function_call_output", "completed"),
        ("message", "completed"),
    ]
    assert saved["output"][2]["content"] == [{"type": "output_text", "text": forecast}]
    assert saved["output"][0]["call_id"] == saved["output"][1]["call_id"]


class tcp_headers:
    """A client that sends these headers (wait_message takes a client, not headers)."""

    def __init__(self, client: httpx.Client, headers: dict[str, str]) -> None:
        self._client = httpx.Client(base_url=client.base_url, headers=headers, timeout=10)

    def __enter__(self) -> httpx.Client:
        return self._client

    def __exit__(self, *_: object) -> None:
        self._client.close()


def test_a_json_turn_reply_has_the_output(
    client: httpx.Client, who: dict[str, Any], configured: list[dict[str, Any]]
) -> None:
    chat = client.post(
        "/api/v1/chats/new", headers=who["una"], json={"chat": {"title": "t", "models": [MODEL]}}
    ).json()
    body = turn_body(chat["id"], tool_ids=["server:0"], stream=False)
    r = client.post("/api/chat/completions", headers=who["una"], json=body)
    assert r.status_code == 200, r.text
    assert [i["type"] for i in r.json()["output"]][:2] == ["function_call", "function_call_output"]
    with tcp_headers(client, who["una"]) as c:
        saved = message(c, chat["id"], body["id"])
    assert saved["output"] == r.json()["output"]
