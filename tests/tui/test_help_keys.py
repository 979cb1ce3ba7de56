"""The help screen (F1, `?`) lists the screen's keys from its bindings; the footer fits 80 and
100 columns with F1 first and no key cut; Escape closes every overlay."""

import io
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import DataTable, Input, OptionList
from textual.widgets._footer import FooterKey

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui_support import MODEL, OTHER_MODEL, make_app, until
from webui_tui.app.screens.attach import AttachScreen
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.dialogs import ConfirmScreen, PickScreen, PromptScreen
from webui_tui.app.screens.help import HelpScreen
from webui_tui.app.screens.knowledge import KnowledgeScreen
from webui_tui.app.widgets.chat_list import ChatList
from webui_tui.app.widgets.composer import Composer

SCREENS = ("chat", "knowledge", "admin", "settings", "memories")


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, OTHER_MODEL], reply="Hi.")
    yield s
    s.stop()


def _seed(proc: DaemonProc) -> None:
    with proc.unix_client(timeout=10) as c:
        doc = {"title": "Saved", "models": [MODEL], "history": {"messages": {}}}
        assert c.post("/api/v1/chats/new", json={"chat": doc}).status_code == 200
        assert c.post("/api/v1/knowledge/create", json={"name": "Docs"}).status_code == 200


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false"),
    tmp="tui-help",
    setup=_seed,
)


def help_text(app: Any) -> str:
    """The help as drawn (72 columns wide)."""
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    console = Console(width=72, record=True, file=io.StringIO())
    console.print(screen.table())
    return console.export_text()


def footer(app: Any) -> list[FooterKey]:
    return list(app.screen.query(FooterKey))


def check_footer(app: Any, where: str) -> None:
    """F1 Help first; every key whole inside the line, none over another."""
    width = app.size.width
    keys = footer(app)
    shown = [f"{k.key_display} {k.description}" for k in keys]
    assert shown[0] == "F1 Help", (where, shown)
    spans = sorted((k.region.x, k.region.right) for k in keys)
    for (_, end), (next_start, _) in itertools.pairwise(spans):
        assert end <= next_start, (where, shown, spans)
    for key in keys:
        text = f" {key.key_display} {key.description} "
        assert key.region.x >= 0 and key.region.right <= width, (where, shown)
        assert key.region.width >= len(text) - 1, (where, text, key.region)


async def chat_ready(pilot: Any) -> ChatScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.model)
    await until(pilot, lambda: app.screen.query_one(ChatList).option_count >= 1)
    await pilot.pause(0.2)
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


async def test_f1_lists_the_bindings_of_the_screen_and_closes(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    # A keymap override shows in the help: it is read from the bindings, not a copy.
    app = make_app(daemon, tmp_path, keys={"chat.model": "ctrl+y"})
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await chat_ready(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = help_text(app)
        assert "^y            Pick the model" in text
        assert "^o" not in text
        for line in ("^n            New chat", "^b            Attach knowledge bases"):
            assert line in text
        for section in ("Chat list", "A message", "Composer", "Everywhere"):
            assert section in text
        assert "F6            Memories" in text and "^p            Commands" in text
        assert "At the start: pick a prompt" in text  # the composer's `/`
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is chat)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("f1")
        await until(pilot, lambda: app.screen is chat)
        assert chat.focused is chat.query_one(Composer)


async def test_question_mark_opens_help_outside_the_composer_only(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await chat_ready(pilot)
        await pilot.press("?")
        await pilot.pause(0.2)
        assert app.screen is chat
        assert chat.query_one(Composer).text == "?"
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(chat.focused, ChatList))
        await pilot.press("?")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("?")
        await until(pilot, lambda: app.screen is chat)
        await app.action_mode("knowledge")
        await until(pilot, lambda: isinstance(app.screen, KnowledgeScreen))
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = help_text(app)
        assert "^u            Add files (globs)" in text
        assert "New chat" not in text  # the chat screen's keys are not this screen's
        await pilot.press("escape")


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_footer_fits_with_f1_first(
    daemon: DaemonProc, tmp_path: Path, size: tuple[int, int]
) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=size) as pilot:
        chat = await chat_ready(pilot)
        check_footer(app, "chat, composer")
        assert [k.description for k in footer(app)][1:5] == ["New", "Model", "Chats", "Attach"]
        assert footer(app)[-1].description == "Commands"
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(chat.focused, ChatList))
        await pilot.pause(0.2)
        check_footer(app, "chat, chat list")
        assert "Rename" in [k.description for k in footer(app)]
        for mode in SCREENS[1:]:
            await app.action_mode(mode)
            await pilot.pause(0.5)
            await until(pilot, lambda: footer(app) and all(k.region.width for k in footer(app)))
            check_footer(app, mode)
        if size[0] >= 100:  # room for more: the screens' keys too
            assert "F2 Chat" in [f"{k.key_display} {k.description}" for k in footer(app)]


async def test_escape_closes_every_overlay(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await chat_ready(pilot)
        overlays = [
            ("ctrl+p", CommandPalette),
            ("ctrl+o", PickScreen),
            ("ctrl+b", AttachScreen),
            ("f1", HelpScreen),
        ]
        for key, kind in overlays:
            await pilot.press(key)
            await until(pilot, lambda kind=kind: isinstance(app.screen, kind), what=kind.__name__)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is chat, what=f"{kind.__name__} closed")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(chat.focused, ChatList))
        chat.query_one(ChatList).highlighted = 0
        for key, kind in (("r", PromptScreen), ("d", ConfirmScreen)):
            await pilot.press(key)
            await until(pilot, lambda kind=kind: isinstance(app.screen, kind), what=kind.__name__)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is chat, what=f"{kind.__name__} closed")
        # Knowledge: escape leaves the search box for the list.
        await app.action_mode("knowledge")
        await until(pilot, lambda: isinstance(app.screen, KnowledgeScreen))
        knowledge = app.screen
        await until(pilot, lambda: knowledge.query_one("#kbs", OptionList).option_count == 1)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: isinstance(knowledge.focused, Input))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(knowledge.focused, OptionList | DataTable))
