"""Images in the TUI: a dropped image path (a paste) or one named in the attach dialog goes
with the next message, reaches the model byte for byte, and the message shows a placeholder
line `[image: photo.png 4×3]`, also when the chat is opened again; a file named like an image
that is not one is refused."""

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from textual import events
from textual.widgets import Input

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui.test_attach import drawn, ready
from tests.tui_support import MODEL, make_app, until
from webui_tui.app.screens.attach import AttachScreen
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.widgets.composer import Composer, dropped_image
from webui_tui.app.widgets.message_view import MessageView

REPLY = "A red rectangle."


def picture(fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=REPLY)
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false"),
    tmp="tui-images",
)


def sent_images(standin: StandIn) -> list[bytes]:
    asked = standin.chats()[-1].messages[-1]
    return [base64.b64decode(i) for i in asked.get("images") or []]


async def answered(pilot: Any, chat: ChatScreen, text: str) -> MessageView:
    chat.query_one(Composer).focus()
    await pilot.press(*text, "enter")
    await until(
        pilot,
        lambda: (
            not chat.streaming
            and REPLY in chat.query(MessageView).last().info.content
            and chat.query(MessageView).last().info.id
        ),
        what="the answer saved",
    )
    return list(chat.query(MessageView))[-2]


def test_a_paste_names_an_image_only_when_it_is_an_image_path(tmp_path: Path) -> None:
    photo = tmp_path / "my photo.png"
    photo.write_bytes(picture())
    assert dropped_image(f"'{photo}'") == photo
    assert dropped_image(f"file://{str(photo).replace(' ', '%20')}\n") == photo
    assert dropped_image(str(tmp_path / "missing.png")) is None
    assert dropped_image(f"{photo}\nand more text") is None
    (tmp_path / "notes.txt").write_text("x")
    assert dropped_image(str(tmp_path / "notes.txt")) is None


async def test_a_dropped_image_goes_with_the_message(
    daemon: DaemonProc, standin: StandIn, tmp_path: Path
) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(picture())
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot)
        composer = chat.query_one(Composer)
        composer.post_message(events.Paste(f"'{photo}'"))
        await until(pilot, lambda: chat.attached and chat.attached[0].ready)
        assert composer.text == ""  # the path became an attachment, not text
        question = await answered(pilot, chat, "what is this?")
        assert sent_images(standin) == [photo.read_bytes()]
        assert "[image: photo.png 4×3]" in drawn(question)
        chat_id = chat.chat.id if chat.chat else ""
        await pilot.press("ctrl+n")
        await until(pilot, lambda: chat.chat is None)
        chat.open_chat(chat_id)
        await until(pilot, lambda: chat.chat is not None and len(chat.query(MessageView)) == 2)
        assert "[image: photo.png 4×3]" in drawn(chat.query(MessageView).first())


async def test_the_attach_dialog_takes_images_and_refuses_fakes(
    daemon: DaemonProc, standin: StandIn, tmp_path: Path
) -> None:
    photo = tmp_path / "cat.jpg"
    photo.write_bytes(picture("JPEG"))
    fake = tmp_path / "fake.png"
    fake.write_text("not an image")
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot)
        for path in (fake, photo):
            await chat.run_action("attach('files')")
            await until(pilot, lambda: isinstance(app.screen, AttachScreen))
            app.screen.query_one(Input).value = str(path)
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is chat)
        await until(pilot, lambda: [a.name for a in chat.attached] == ["cat.jpg"])
        assert any(
            "fake.png is not an image (PNG, JPEG, GIF or WebP)" in n.message
            for n in app._notifications
        )
        assert chat.attached[0].ready
        await answered(pilot, chat, "and this?")
        assert sent_images(standin) == [photo.read_bytes()]
