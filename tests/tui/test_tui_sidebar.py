"""The chat sidebar's tag filter and folders, driven with Pilot against a real daemon."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui_support import MODEL, make_app, until
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.dialogs import ConfirmScreen, PickScreen, PromptScreen
from webui_tui.app.widgets.chat_list import ChatList
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.folder_tree import folder_option_id


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply="Hi.")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false"),
    tmp="tui-sidebar",
)


def call(daemon: DaemonProc, method: str, path: str, body: Any = None) -> Any:
    with daemon.unix_client(timeout=10) as c:
        r = c.request(method, path, json=body)
        assert r.status_code == 200, r.text
        return r.json()


def new_chat(daemon: DaemonProc, title: str) -> str:
    doc = {"title": title, "models": [MODEL], "history": {"messages": {}, "currentId": None}}
    return str(call(daemon, "POST", "/api/v1/chats/new", {"chat": doc})["id"])


def new_folder(daemon: DaemonProc, name: str, parent: str | None = None) -> str:
    return str(call(daemon, "POST", "/api/v1/folders/", {"name": name, "parent_id": parent})["id"])


def folder_names(daemon: DaemonProc) -> set[str]:
    return {f["name"] for f in call(daemon, "GET", "/api/v1/folders/")}


def rows(app: Any) -> list[tuple[str | None, str]]:
    chats = app.screen.query_one(ChatList)
    options = [chats.get_option_at_index(i) for i in range(chats.option_count)]
    return [(o.id, str(o.prompt)) for o in options]


def highlight(app: Any, option_id: str) -> None:
    chats = app.screen.query_one(ChatList)
    chats.highlighted = [key for key, _ in rows(app)].index(option_id)
    chats.focus()


async def pick(pilot: Any, label: str) -> None:
    """Choose the option labelled `label` in the open PickScreen."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, PickScreen), what="the picker")
    picker = app.screen.query_one("OptionList")
    labels = [str(picker.get_option_at_index(i).prompt) for i in range(picker.option_count)]
    picker.highlighted = labels.index(label)
    await pilot.press("enter")


async def test_tag_filter_shows_the_tagged_chats(daemon: DaemonProc, tmp_path: Path) -> None:
    kiwi, emu, plain = (new_chat(daemon, t) for t in ("Kiwi", "Emu", "Plain"))
    for chat in (kiwi, emu):
        call(daemon, "POST", f"/api/v1/chats/{chat}/tags", {"name": "birds"})
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: plain in dict(rows(app)), what="the chat list")
        await pilot.press("ctrl+g")
        await pick(pilot, "# birds")
        await until(pilot, lambda: plain not in dict(rows(app)), what="the filtered list")
        tagged = call(daemon, "POST", "/api/v1/chats/tags", {"name": "birds"})
        assert {key for key, _ in rows(app)} == {c["id"] for c in tagged} == {kiwi, emu}
        assert "birds" in str(screen.query_one("#filter").render())
        await pilot.press("ctrl+g")
        await pick(pilot, "All chats (no filter)")
        await until(pilot, lambda: plain in dict(rows(app)), what="all chats again")
        assert screen.tag_filter is None and not screen.query_one("#filter").display


async def test_new_folder_move_into_it_and_fold(daemon: DaemonProc, tmp_path: Path) -> None:
    chat = new_chat(daemon, "Roadmap")
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: chat in dict(rows(app)), what="the chat list")
        highlight(app, chat)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*"Work", "enter")
        folders = await until(pilot, lambda: call(daemon, "GET", "/api/v1/folders/"))
        assert [f["name"] for f in folders] == ["Work"]
        work = folders[0]["id"]
        await until(pilot, lambda: folder_option_id(work) in dict(rows(app)), what="the folder")
        highlight(app, chat)
        await pilot.press("m")
        await pick(pilot, "Work")
        await until(
            pilot, lambda: call(daemon, "GET", f"/api/v1/chats/{chat}")["folder_id"] == work
        )
        in_folder = call(daemon, "GET", f"/api/v1/chats/folder/{work}")
        assert [c["id"] for c in in_folder] == [chat]
        # Shown open, the chat indented under its folder.
        await until(pilot, lambda: (chat, "  Roadmap") in rows(app), what="the chat in Work")
        keys = [key for key, _ in rows(app)]
        assert keys.index(chat) == keys.index(folder_option_id(work)) + 1
        assert dict(rows(app))[folder_option_id(work)] == "▾ Work"
        # Enter on the folder closes it (kept by the daemon).
        highlight(app, folder_option_id(work))
        await pilot.press("enter")
        await until(pilot, lambda: chat not in dict(rows(app)), what="the folder closed")
        assert dict(rows(app))[folder_option_id(work)] == "▸ Work"
        assert call(daemon, "GET", f"/api/v1/folders/{work}")["is_expanded"] is False


async def test_move_into_a_new_folder_then_out(daemon: DaemonProc, tmp_path: Path) -> None:
    chat = new_chat(daemon, "Budget")
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: chat in dict(rows(app)), what="the chat list")
        highlight(app, chat)
        await pilot.press("m")
        await pick(pilot, "+ New folder…")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*"Money", "enter")
        folder = await until(
            pilot, lambda: call(daemon, "GET", f"/api/v1/chats/{chat}")["folder_id"]
        )
        assert call(daemon, "GET", f"/api/v1/folders/{folder}")["name"] == "Money"
        await until(pilot, lambda: (chat, "  Budget") in rows(app), what="the chat in Money")
        highlight(app, chat)
        await pilot.press("m")
        await pick(pilot, "(no folder)")
        await until(
            pilot, lambda: call(daemon, "GET", f"/api/v1/chats/{chat}")["folder_id"] is None
        )
        await until(pilot, lambda: (chat, "Budget") in rows(app), what="the chat at the top")


async def test_rename_a_folder(daemon: DaemonProc, tmp_path: Path) -> None:
    folder = new_folder(daemon, "Drafts")
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        row = folder_option_id(folder)
        await until(pilot, lambda: row in dict(rows(app)), what="the folder")
        highlight(app, row)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        assert app.screen.query_one("#answer").value == "Drafts"  # type: ignore[attr-defined]
        await pilot.press("ctrl+u", *"Final", "enter")
        await until(pilot, lambda: dict(rows(app))[row] == "▸ Final", what="the new name")
        assert call(daemon, "GET", f"/api/v1/folders/{folder}")["name"] == "Final"


async def test_delete_a_folder_after_confirming(daemon: DaemonProc, tmp_path: Path) -> None:
    outer = new_folder(daemon, "Old")
    inner = new_folder(daemon, "Older", outer)
    chat, nested, kept = (new_chat(daemon, t) for t in ("In old", "In older", "Elsewhere"))
    call(daemon, "POST", f"/api/v1/chats/{chat}/folder", {"folder_id": outer})
    call(daemon, "POST", f"/api/v1/chats/{nested}/folder", {"folder_id": inner})
    for folder in (outer, inner):
        call(daemon, "POST", f"/api/v1/folders/{folder}/update/expanded", {"is_expanded": True})
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        row = folder_option_id(outer)
        # The chat shown is in the subfolder.
        await until(pilot, lambda: nested in dict(rows(app)), what="the open folders")
        highlight(app, nested)
        await pilot.press("enter")
        await until(pilot, lambda: screen.chat and screen.chat.id == nested, what="the chat")
        # n (or escape) keeps it.
        highlight(app, row)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "chats" in str(app.screen.query_one("Label").render())
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await pilot.pause(0.2)
        assert {"Old", "Older"} <= folder_names(daemon) and row in dict(rows(app))
        # y deletes the folder, its subfolder and their chats; other chats stay.
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: row not in dict(rows(app)), what="the folder gone")
        assert not {"Old", "Older"} & folder_names(daemon)
        left = {c["id"] for c in call(daemon, "GET", "/api/v1/chats/?include_folders=true")}
        assert kept in left and not {chat, nested} & left
        assert kept in dict(rows(app)) and screen.chat is None


async def test_other_chat_keys_bell_on_a_folder_row(daemon: DaemonProc, tmp_path: Path) -> None:
    folder = new_folder(daemon, "Quiet")
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        row = folder_option_id(folder)
        await until(pilot, lambda: row in dict(rows(app)), what="the folder")
        highlight(app, row)
        await pilot.press("p", "a", "x")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ChatScreen) and "Quiet" in folder_names(daemon)


async def test_ctrl_t_leaves_the_composer_for_the_list(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        composer = app.screen.query_one(Composer)
        await until(pilot, lambda: app.focused is composer, what="the composer focused")
        await pilot.press(*"keep this")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.focused, ChatList), what="the list focused")
        assert composer.text == "keep this"
        # ctrl+k stays the composer's own: delete to the end of the line.
        composer.focus()
        await pilot.press("home", "right", "ctrl+k")
        assert composer.text == "k" and app.focused is composer
