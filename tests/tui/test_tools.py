"""Tools in the TUI: ctrl+s (or the palette) picks the tool servers of a chat, sent as
`tool_ids` with each of its messages and regenerated answers; the daemon's calls show as blocks
in the answer (one line closed, arguments and result open; enter or space toggles), streamed,
re-attached to and in a reopened chat. A real daemon, a tool-calling stand-in model and a real
OpenAPI tool server."""

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import SelectionList

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, openai_standin, provider_env
from tests.tools.tool_procs import ToolServerProc, openapi_server
from tests.tui.test_attach import drawn
from tests.tui_support import Recording, make_app, until
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.dialogs import ChooseManyScreen
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.message_view import MessageView

__all__ = ["openai_standin", "openapi_server"]  # fixtures used below

MODEL = "standin-gpt"
TOOL = "server:weather"
FORECAST = {"city": "Oslo", "forecast": "Sunny in Oslo, 21 degrees"}
ANSWER = f"Here. Tool results: {json.dumps(FORECAST)}"


def _seed(proc: DaemonProc, openapi_server: ToolServerProc) -> None:
    with proc.unix_client(timeout=10) as c:
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
        openai=[openai_standin], ENABLE_TITLE_GENERATION="false"
    ),
    tmp="tui-tools",
    setup=_seed,
)


@pytest.fixture(autouse=True)
def tool_model(openai_standin: StandIn) -> None:
    openai_standin.reset(use_tools=True, tool_arguments={"city": "Oslo"}, reply="Here.")


async def ready(pilot: Any) -> ChatScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.model)
    assert isinstance(app.screen, ChatScreen)
    return app.screen


async def pick_weather(pilot: Any, chat: ChatScreen, *, key: str = "ctrl+s") -> None:
    if key:
        await pilot.press(key)
    else:  # the palette
        await pilot.press("ctrl+p")
        await pilot.press(*"Pick tools", "enter")
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ChooseManyScreen), what="the tool picker")
    listed = app.screen.query_one(SelectionList)
    options = [listed.get_option_at_index(i) for i in range(listed.option_count)]
    assert [(o.value, str(o.prompt)) for o in options] == [(TOOL, f"Weather ({TOOL})")]
    await pilot.press("space", "enter")
    await until(pilot, lambda: app.screen is chat)


async def answered(pilot: Any, chat: ChatScreen, text: str) -> MessageView:
    chat.query_one(Composer).focus()
    await pilot.press(*text, "enter")
    await until(
        pilot,
        lambda: (
            not chat.streaming
            and chat.query(MessageView).last().info.id
            and chat.query(MessageView).last().info.content.startswith("Here.")
        ),
        what="the answer saved",
    )
    return chat.query(MessageView).last()


def assert_one_forecast_block(view: MessageView) -> None:
    (block,) = view.info.tools
    assert (block.name, json.loads(block.arguments), block.status) == (
        "get_forecast",
        {"city": "Oslo"},
        "completed",
    )
    assert json.loads(block.result or "") == FORECAST
    assert block.at == 0  # the model called before it said anything


async def test_picked_tools_go_with_each_message_and_calls_show_as_blocks(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    recording = Recording(daemon)
    app = make_app(daemon, tmp_path, transport=recording)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot)
        await pick_weather(pilot, chat)
        assert "tools: server:weather" in str(chat.query_one("#topbar").content)
        view = await answered(pilot, chat, "Weather in Oslo?")
        assert recording.completions()[-1]["tool_ids"] == [TOOL]
        assert view.info.content == ANSWER
        assert_one_forecast_block(view)
        shown = drawn(view)
        assert '▸ ✓ get_forecast(city="Oslo")  → {"city": "Oslo"' in shown
        assert shown.index("get_forecast") < shown.index("Here. Tool results")
        assert "arguments:" not in shown

        view.focus()
        await pilot.press("enter")
        opened = drawn(view)
        assert "▾ ✓ get_forecast  completed" in opened and "arguments:" in opened
        assert '"forecast": "Sunny in Oslo, 21 degrees"' in opened  # the whole result
        await pilot.press("space")
        assert "arguments:" not in drawn(view)

        # The next message of this chat goes with the same tools, and so does a new answer.
        await answered(pilot, chat, "And tomorrow?")
        assert recording.completions()[-1]["tool_ids"] == [TOOL]
        asked = len(recording.completions())
        chat.query_one(Composer).focus()
        chat.action_regenerate_last()
        await until(
            pilot,
            lambda: len(recording.completions()) > asked and not chat.streaming,
            what="the regenerated answer",
        )
        assert recording.completions()[-1]["tool_ids"] == [TOOL]

        # A new chat has its own choice: none.
        await pilot.press("ctrl+n")
        await answered(pilot, chat, "No tools?")
        assert "tool_ids" not in recording.completions()[-1]
        assert chat.query(MessageView).last().info.tools == []


async def test_the_palette_picks_tools_and_a_reopened_chat_shows_its_calls(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot)
        await pick_weather(pilot, chat, key="")
        await answered(pilot, chat, "Weather in Oslo?")
        assert chat.chat is not None
        chat_id = chat.chat.id
        await pilot.press("ctrl+n")
        await until(pilot, lambda: chat.chat is None)
        chat.open_chat(chat_id)
        await until(
            pilot, lambda: chat.chat is not None and chat.query(MessageView).last().info.tools
        )
        reopened = chat.query(MessageView).last()
        assert_one_forecast_block(reopened)
        assert '▸ ✓ get_forecast(city="Oslo")' in drawn(reopened)


async def test_reopening_a_chat_with_a_running_answer_shows_the_calls_so_far(
    daemon: DaemonProc, tmp_path: Path, openai_standin: StandIn
) -> None:
    openai_standin.reset(
        tool_calls=[
            {"name": "get_forecast", "arguments": {"city": "Oslo"}},
            {"name": "slow", "arguments": {"seconds": 1.5}},
        ],
        reply="Done.",
    )
    with daemon.unix_client(timeout=30) as c:
        chat_id = c.post(
            "/api/v1/chats/new", json={"chat": {"title": "Running", "models": [MODEL]}}
        ).json()["id"]
        asked = str(uuid.uuid4())
        body = {
            "model": MODEL,
            "stream": True,
            "chat_id": chat_id,
            "id": str(uuid.uuid4()),
            "parent_id": asked,
            "tool_ids": [TOOL],
            "user_message": {
                "id": asked,
                "parentId": None,
                "childrenIds": [],
                "role": "user",
                "content": "Weather?",
                "timestamp": int(time.time()),
            },
        }
        with c.stream("POST", "/api/chat/completions", json=body) as r:
            for line in r.iter_lines():
                if '"function_call_output"' in line:
                    break  # the first call is done, the slow one runs: hang up
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot)
        chat.open_chat(chat_id)
        await until(pilot, lambda: chat.streaming, what="re-attached")
        view = chat.query(MessageView).last()
        await until(pilot, lambda: len(view.info.tools) == 2, what="the calls so far")
        first, slow = view.info.tools
        assert (first.name, first.status, slow.name) == ("get_forecast", "completed", "slow")
        await until(pilot, lambda: not chat.streaming, what="the answer ended", timeout=15)
        final = chat.query(MessageView).last()
        assert [b.status for b in final.info.tools] == ["completed", "completed"]
        assert final.info.content.startswith("Done. Tool results:")
