"""ctrl+p: the command palette lists the app's own commands (with their keys) and runs them
on the chat screen from any screen."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import SelectionList

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui_support import MODEL, make_app, until
from webui_tui.app.screens.attach import AttachScreen
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.dialogs import PromptScreen
from webui_tui.app.screens.knowledge import KnowledgeScreen
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.message_view import MessageView

REPLY = "Quokkas smile."
APP_COMMANDS = [
    "New chat",
    "Pick the model",
    "Knowledge",
    "Admin",
    "Settings",
    "Memories",
    "Attach files",
    "Attach knowledge bases",
    "Copy the last answer",
    "Export the chat as Markdown",
    "Use a prompt from your library",
    "Keys and help",
]


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=REPLY)
    yield s
    s.stop()


def _seed(proc: DaemonProc) -> None:
    with proc.unix_client(timeout=10) as c:
        assert c.post("/api/v1/knowledge/create", json={"name": "Docs"}).status_code == 200


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false"),
    tmp="tui-palette",
    setup=_seed,
)


async def palette(pilot: Any, query: str = "") -> None:
    app = pilot.app
    await pilot.press("ctrl+p")
    await until(pilot, lambda: CommandPalette.is_open(app))
    if query:
        await pilot.press(*query)
    await until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
    await pilot.pause(0.3)


async def test_the_palette_lists_the_app_commands_with_keys(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.model)
        await palette(pilot)
        options = app.screen.query_one(CommandList).options
        text = "\n".join(str(o.prompt) for o in options)
        for name in APP_COMMANDS:
            assert name in text, name
        assert "^n" in text and "^b" in text  # each with its key
        assert "Theme" in text  # Textual's own follow
        assert text.index("New chat") < text.index("Theme")
        await pilot.press("escape")
        await until(pilot, lambda: not CommandPalette.is_open(app))


async def test_palette_commands_run_on_the_chat_screen(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.model)
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        await pilot.press(*"Hello", "enter")
        await until(pilot, lambda: not chat.streaming and chat.chat is not None)
        await until(pilot, lambda: REPLY in chat.query(MessageView).last().info.content)
        # Copy the last answer.
        await palette(pilot, "copy the last")
        await pilot.press("enter")
        await until(pilot, lambda: app.clipboard == REPLY)
        # Export the chat: asks for a file name, writes Markdown.
        target = tmp_path / "out.md"
        await palette(pilot, "export the chat")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one("#answer").value = str(target)
        await pilot.press("enter")
        await until(pilot, target.exists)
        assert REPLY in target.read_text()
        # From another screen: "Attach knowledge bases" goes to the chat and opens the list.
        await app.action_mode("knowledge")
        await until(pilot, lambda: isinstance(app.screen, KnowledgeScreen))
        await palette(pilot, "attach knowledge")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AttachScreen))
        assert isinstance(app.screen.focused, SelectionList)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is chat)
        # New chat, then "use a prompt" starts the composer with `/`.
        await palette(pilot, "new chat")
        await pilot.press("enter")
        await until(pilot, lambda: chat.chat is None)
        await palette(pilot, "use a prompt")
        await pilot.press("enter")
        await until(pilot, lambda: chat.query_one(Composer).text == "/")
        await until(pilot, lambda: chat.picker.is_open)
