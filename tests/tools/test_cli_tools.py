"""`webui tools list|add|rm|test` and `webui chat --tool`, against a real daemon, a tool-calling
stand-in model and a real OpenAPI tool server."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import chat_env
from tests.cli_support import one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, closed_port_url, openai_standin, provider_env
from tests.tools.tool_procs import ToolServerProc, openapi_server

__all__ = ["openai_standin", "openapi_server"]  # fixtures used below

MODEL = "standin-gpt"


daemon = daemon_fixture(
    env=lambda openai_standin: provider_env(openai=[openai_standin]), tmp="clitools"
)


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path, openai_standin: StandIn) -> dict[str, str]:
    openai_standin.reset(use_tools=True, tool_arguments={"city": "Oslo"}, reply="Here.")
    return chat_env(daemon, tmp_path)


def ok(env: dict[str, str], *args: str) -> str:
    result = webui(*args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_add_list_test_chat_rm(env: dict[str, str], openapi_server: ToolServerProc) -> None:
    added = ok(env, "tools", "add", openapi_server.url, "--id", "weather", "--name", "Weather")
    assert "Added server:weather" in added
    listed = json.loads(ok(env, "tools", "list", "--json"))
    assert [(t["id"], t["name"]) for t in listed] == [("server:weather", "Weather")]
    offered = ok(env, "tools", "test", "server:weather")
    assert "get_forecast" in offered and "echo" in offered

    answer = json.loads(
        ok(env, "chat", "-m", MODEL, "--tool", "server:weather", "--json", "Weather?")
    )
    (used,) = answer["tool_calls"]
    assert (used["name"], json.loads(used["arguments"]), used["status"]) == (
        "get_forecast",
        {"city": "Oslo"},
        "completed",
    )
    forecast: Any = json.loads(used["result"])
    assert forecast["forecast"] == "Sunny in Oslo, 21 degrees"
    assert answer["content"] == f"Here. Tool results: {used['result']}"

    assert "Removed server:weather" in ok(env, "tools", "rm", "server:weather")
    assert json.loads(ok(env, "tools", "list", "--json")) == []


def test_a_server_that_does_not_answer_is_not_added(env: dict[str, str]) -> None:
    result = webui("tools", "add", closed_port_url(), env=env)
    assert result.returncode != 0
    assert "Failed to connect to the tool server" in one_error_line(result)
    assert json.loads(ok(env, "tools", "list", "--json")) == []


def test_removing_an_unknown_tool_is_a_usage_error(env: dict[str, str]) -> None:
    result = webui("tools", "rm", "server:nope", env=env)
    assert result.returncode == 1 and "no tool server server:nope" in one_error_line(result)
