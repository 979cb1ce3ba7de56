"""The chat screen's attachments (ctrl+b): knowledge bases and files go with the next message as
the completion's `files` items, the answer lists its sources numbered as `webui chat --kb`
does; attachments can be taken off; token stats belong to one chat."""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Input, SelectionList, Static

from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui_support import MODEL, Recording, make_app, until
from webui_tui.app.screens.attach import AttachScreen
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.widgets.attachments import Attachments
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.message_view import MessageView

REPLY = "It erupted in 1822 [1]."
VOLCANO = "# Volcano\n\n## Eruptions\n\nMount Quillon erupted in 1822 and darkened Serre.\n"
GARDEN = "The walled garden of Ostry grows saffron, quince and heirloom beans.\n"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=REPLY)
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: model_env(provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false")),
    tmp="tui-attach",
)


@pytest.fixture(scope="module")
def lore(daemon: DaemonProc, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A knowledge base "Lore" holding volcano.md, read and indexed."""
    path = tmp_path_factory.mktemp("lore") / "volcano.md"
    path.write_text(VOLCANO)
    with daemon.unix_client(timeout=120) as c:
        kb = c.post("/api/v1/knowledge/create", json={"name": "Lore"}).json()
        c.post("/api/v1/knowledge/create", json={"name": "Other"})
        with path.open("rb") as f:
            up = c.post("/api/v1/files/", files={"file": ("volcano.md", f, "text/markdown")})
        assert up.status_code == 200, up.text
        status = c.get(f"/api/v1/files/{up.json()['id']}/process/status?stream=true")
        assert '"completed"' in status.text, status.text
        added = c.post(f"/api/v1/knowledge/{kb['id']}/file/add", json={"file_id": up.json()["id"]})
        assert added.status_code == 200, added.text
    return str(kb["id"])


def chat_of(app: Any) -> ChatScreen:
    assert isinstance(app.screen, ChatScreen)
    return app.screen


async def ready(pilot: Any) -> ChatScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.model)
    return chat_of(app)


async def send(pilot: Any, chat: ChatScreen, text: str) -> MessageView:
    chat.query_one(Composer).focus()
    await pilot.press(*text, "enter")
    await until(pilot, lambda: not chat.streaming and chat.query(MessageView))
    await until(
        pilot,
        lambda: chat.query(MessageView).last().info.id and not chat.streaming,
        what="the answer saved",
    )
    await until(pilot, lambda: REPLY in chat.query(MessageView).last().info.content)
    return chat.query(MessageView).last()


def drawn(view: MessageView) -> str:
    """The message as drawn, 76 columns wide."""
    console = Console(width=76, record=True, file=io.StringIO())
    console.print(view.content)
    return console.export_text()


def attached_names(chat: ChatScreen) -> list[str]:
    return [a.name for a in chat.attached]


async def test_knowledge_base_goes_with_the_next_message_and_sources_are_numbered(
    daemon: DaemonProc, lore: str, tmp_path: Path
) -> None:
    recording = Recording(daemon)
    app = make_app(daemon, tmp_path, transport=recording)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await ready(pilot)
        await pilot.press("ctrl+b")
        await until(pilot, lambda: isinstance(app.screen, AttachScreen))
        bases = app.screen.query_one(SelectionList)
        assert bases.has_focus
        names = [str(bases.get_option_at_index(i).prompt) for i in range(bases.option_count)]
        bases.highlighted = names.index("Lore")
        await pilot.press("space", "enter")
        await until(pilot, lambda: app.screen is chat)
        assert attached_names(chat) == ["Lore"]
        assert chat.query_one(Attachments).display
        answer = await send(pilot, chat, "When did Mount Quillon erupt?")
        files = recording.completions()[-1]["files"]
        assert files == [{"type": "collection", "id": lore, "name": "Lore"}]
        shown = drawn(answer)
        assert "Sources" in shown and "[1] volcano.md (Volcano > Eruptions)" in shown
        # Sent once: the next message goes without it.
        assert attached_names(chat) == [] and not chat.query_one(Attachments).display
        await send(pilot, chat, "And then?")
        assert "files" not in recording.completions()[-1]


async def test_a_file_is_uploaded_read_and_sent_then_can_be_taken_off(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    garden = tmp_path / "garden.txt"
    garden.write_text(GARDEN)
    recording = Recording(daemon)
    app = make_app(daemon, tmp_path, transport=recording)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await ready(pilot)
        # A path naming nothing keeps the dialog open and says so.
        await chat.run_action("attach('files')")
        await until(pilot, lambda: isinstance(app.screen, AttachScreen))
        dialog = app.screen
        assert isinstance(dialog.focused, Input)
        await pilot.press(*str(tmp_path / "nothing.txt"), "enter")
        await pilot.pause(0.2)
        assert app.screen is dialog
        assert "No such file" in str(dialog.query_one("#attach-error", Static).render())
        dialog.query_one(Input).value = str(tmp_path / "*.txt")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is chat)
        await until(pilot, lambda: chat.attached and chat.attached[0].ready, timeout=60)
        file_id = chat.attached[0].id
        await send(pilot, chat, "What grows in Ostry?")
        files = recording.completions()[-1]["files"]
        assert files == [{"type": "file", "id": file_id, "name": "garden.txt"}]
        assert "[1] garden.txt" in drawn(chat.query(MessageView).last())
        # Attach it again, take it off (shift+tab to the list, delete): nothing goes.
        await chat.run_action("attach('files')")
        await until(pilot, lambda: isinstance(app.screen, AttachScreen))
        app.screen.query_one(Input).value = str(garden)
        await pilot.press("enter")
        await until(pilot, lambda: chat.attached and chat.attached[0].ready, timeout=60)
        chat.query_one(Composer).focus()
        await pilot.press("shift+tab")
        await until(pilot, lambda: isinstance(chat.focused, Attachments))
        await pilot.press("delete")
        await until(pilot, lambda: not chat.attached)
        assert chat.focused is chat.query_one(Composer)
        await send(pilot, chat, "Anything?")
        assert "files" not in recording.completions()[-1]


async def test_token_stats_reset_when_switching_chats(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await ready(pilot)
        stats = chat.query_one("#stats", Static)
        await send(pilot, chat, "First chat")
        first = chat.chat
        assert first is not None
        await until(pilot, lambda: str(stats.render()).strip(), what="the stats line")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: chat.chat is None)
        assert not str(stats.render()).strip()
        await send(pilot, chat, "Second chat")
        await until(pilot, lambda: str(stats.render()).strip())
        chat.open_chat(first.id)
        await until(pilot, lambda: chat.chat is not None and chat.chat.id == first.id)
        assert not str(stats.render()).strip()
