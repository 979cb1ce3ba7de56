"""(a) The TUI's screens on Open WebUI 0.12.4's recorded answers (Pilot), and an answer it cannot
read shown in the screen's place, in one line, instead of an empty screen."""

from pathlib import Path
from typing import Any

import httpx
from textual.widgets import DataTable, OptionList, Static

from tests.contract.replay import URL, Replay
from tests.contract.scenario import load
from tests.tui_support import until
from webui_tui.app.app import WebUIApp
from webui_tui.app.config import TuiConfig
from webui_tui.app.screens.admin import AdminScreen
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.knowledge import KnowledgeScreen
from webui_tui.app.screens.memories import MemoriesScreen
from webui_tui.app.widgets.chat_list import ChatList
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.prompt_picker import PromptPicker
from webui_tui.client.discovery import Target
from webui_tui.client.tui_extra import TuiClient

SIZE = (110, 32)


def _app(replay: Replay, tmp_path: Path, mode: str) -> WebUIApp:
    config = TuiConfig(path=tmp_path / "tui.toml")
    return WebUIApp(replay.tui_client(), config=config, start_mode=mode)


def _labels(widget: OptionList) -> list[str]:
    return [str(widget.get_option_at_index(i).prompt) for i in range(widget.option_count)]


async def test_chat_sidebar_lists_folders_and_chats(tmp_path: Path) -> None:
    replay = Replay(
        "models",
        "users-settings",
        "folders-list-expanded",
        "chats-list-loose",
        "chats-pinned",
        "chats-in-folder",
    )
    app = _app(replay, tmp_path, "chat")
    async with app.run_test(size=SIZE) as pilot:
        chats = app.screen.query_one(ChatList)
        await until(pilot, lambda: chats.option_count > 0 or replay.misses, what="the list")
        labels = _labels(chats)
    assert any("Office" in label for label in labels), labels
    assert any("Blue skies" in label for label in labels), labels
    assert not replay.misses, replay.misses


async def test_knowledge_screen_shows_a_base_and_its_files(tmp_path: Path) -> None:
    replay = Replay("knowledge-list-with-file", "knowledge-get", "knowledge-files")
    app = _app(replay, tmp_path, "knowledge")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, KnowledgeScreen)
        files = screen.query_one("#files", DataTable)
        await until(pilot, lambda: files.row_count == 1, what="the file row")
        row = files.get_row_at(0)
    assert row[0] == "handbook.md" and row[1] == "completed"
    assert not replay.misses, replay.misses


async def test_admin_screen_lists_users_and_groups(tmp_path: Path) -> None:
    replay = Replay(
        "auths-session",
        "users-list",
        "groups-list",
        "ollama-config",
        "openai-config",
        "apikey-get",
        "users-default-permissions",
    )
    app = _app(replay, tmp_path, "admin")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, AdminScreen)
        users = screen.query_one("#users", DataTable)
        await until(pilot, lambda: users.row_count == 2, what="the users")
    assert not replay.misses, replay.misses


async def test_memories_screen_lists_the_memories(tmp_path: Path) -> None:
    replay = Replay("memories-list")
    app = _app(replay, tmp_path, "memories")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, MemoriesScreen)
        table = screen.query_one("#memories", DataTable)
        await until(pilot, lambda: table.row_count == 2 or replay.misses, what="the memories")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
    assert [(row[0], str(row[2])) for row in rows] == [
        ("user", "I am vegetarian."),
        ("context", "Working on a thesis about light."),
    ]
    assert not replay.misses, replay.misses


async def test_slash_lists_the_recorded_prompts(tmp_path: Path) -> None:
    replay = Replay(
        "models",
        "users-settings",
        "folders-list-expanded",
        "chats-list-loose",
        "chats-pinned",
        "chats-in-folder",
        "prompts-list",
    )
    app = _app(replay, tmp_path, "chat")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: screen.model or replay.misses, what="the model list")
        screen.query_one(Composer).focus()
        await pilot.press("/", *"sum")
        picker = screen.query_one(PromptPicker)
        await until(pilot, lambda: picker.matches or replay.misses, what="the picker")
        assert [p.command for p in picker.matches] == ["summarize"]
    assert not replay.misses, replay.misses


def _unreadable(path: str, body: Any) -> httpx.MockTransport:
    """Recorded answers, except `path`, which answers `body`."""
    replay = Replay("models", "users-settings", "knowledge-list-with-file")

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == path:
            return httpx.Response(200, json=body)
        return replay.handle(request)

    return httpx.MockTransport(handle)


async def test_an_unreadable_folder_list_is_shown_in_the_chat_list(tmp_path: Path) -> None:
    transport = _unreadable("/api/v1/folders/", [{"id": "f", "name": None}])
    client = TuiClient(Target(source="WEBUI_URL", url=URL), token="t", transport=transport)
    app = WebUIApp(client, config=TuiConfig(path=tmp_path / "tui.toml"), start_mode="chat")
    async with app.run_test(size=SIZE) as pilot:
        chats = app.screen.query_one(ChatList)
        await until(pilot, lambda: chats.option_count == 1, what="the problem line")
        label = _labels(chats)[0]
    assert label.startswith("Could not load the chats: unexpected answer from /api/v1/folders/")
    assert "0.name" in label


async def test_an_unreadable_knowledge_base_is_shown_in_its_place(tmp_path: Path) -> None:
    kb_id = load("knowledge-get")["body"]["id"]
    transport = _unreadable(f"/api/v1/knowledge/{kb_id}", {"id": kb_id, "files": "nope"})
    client = TuiClient(Target(source="WEBUI_URL", url=URL), token="t", transport=transport)
    app = WebUIApp(client, config=TuiConfig(path=tmp_path / "tui.toml"), start_mode="knowledge")
    async with app.run_test(size=SIZE) as pilot:
        title = app.screen.query_one("#kb-title", Static)
        await until(pilot, lambda: "Could not open" in str(title.render()), what="the problem")
        text = str(title.render())
    assert f"unexpected answer from /api/v1/knowledge/{kb_id}:" in text
