"""The multi-line composer: Enter sends; ctrl+j (and shift+enter where reported) adds a line.

A composer holding only `/word` is a prompt command being typed (`command_query`); while the
screen shows prompts to pick from (`picking`), ↑ ↓ enter and tab go to the picker instead. A
pasted path of an image file (a terminal's drag and drop) is posted as `ImagePasted`.
"""

import re
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from webui_daemon.schemas.images import IMAGE_SUFFIXES

NEWLINE_KEYS = ("ctrl+j", "shift+enter")
PICKER_KEYS = ("up", "down", "enter", "tab")
_COMMAND = re.compile(r"/(\S*)")


def command_query(text: str) -> str | None:
    """What follows the `/` when the whole text is one `/word` (`""` for a lone `/`); else None."""
    match = _COMMAND.fullmatch(text)
    return match.group(1) if match else None


def dropped_image(text: str) -> Path | None:
    """The image file a paste names, as terminals paste a dropped file: its path, perhaps
    quoted, escaped or as a file:// URL; None for any other text."""
    line = text.strip()
    if not line or "\n" in line:
        return None
    if line[:1] in "'\"" and line[-1:] == line[:1]:
        line = line[1:-1]
    if line.startswith("file://"):
        line = unquote(line[len("file://") :])
    path = Path(line.replace("\\ ", " ")).expanduser()
    return path if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file() else None


class Composer(TextArea):
    """Posts `Composer.Submitted`; `editing` names the message being edited, if any.
    While `picking`, posts `Composer.PickerKey` for the keys of `PICKER_KEYS`."""

    # Handled in `_on_key` below, not bound: the help screen lists them from here.
    HELP_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("enter", "Send (or resend an edit as a new branch)"),
        (" ".join(NEWLINE_KEYS), "New line"),
        ("/", "At the start: pick a prompt from your library"),
        (" ".join(PICKER_KEYS), "In the prompt list: move, use the highlighted prompt"),
        ("paste", "An image file's path (drag and drop): attach the image"),
    ]

    DEFAULT_CSS = """
    Composer { height: auto; min-height: 3; max-height: 10; }
    """

    class Submitted(Message):
        def __init__(self, text: str, editing: str | None) -> None:
            super().__init__()
            self.text = text
            self.editing = editing

    class ImagePasted(Message):
        """A terminal's drag and drop of an image file (it pastes the file's path)."""

        def __init__(self, path: Path) -> None:
            super().__init__()
            self.path = path

    class PickerKey(Message):
        """A key meant for the prompt picker: "up", "down", "enter" or "tab"."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, compact=True)
        self.editing: str | None = None
        self.picking = False
        self._set_hint()

    def _set_hint(self) -> None:
        if self.editing:
            self.border_title = "Editing: Enter resends as a new branch, Esc cancels"
        else:
            self.border_title = "Message: Enter sends, ctrl+j new line"

    def start_edit(self, message_id: str, text: str) -> None:
        self.editing = message_id
        self.put(text)
        self._set_hint()

    def put(self, text: str) -> None:
        """Replace the text, the cursor at its end, and take the focus."""
        self.text = text
        self.move_cursor(self.document.end)
        self.focus()

    def cancel_edit(self) -> bool:
        if self.editing is None:
            return False
        self.editing = None
        self.text = ""
        self._set_hint()
        return True

    async def _on_paste(self, event: events.Paste) -> None:
        path = dropped_image(event.text)
        if path is None:
            await super()._on_paste(event)
            return
        event.stop()
        event.prevent_default()
        self.post_message(self.ImagePasted(path))

    async def _on_key(self, event: events.Key) -> None:
        if self.picking and event.key in PICKER_KEYS:
            event.stop()
            event.prevent_default()
            self.post_message(self.PickerKey(event.key))
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip()
            if text:
                self.post_message(self.Submitted(text, self.editing))
                self.editing = None
                self.text = ""
                self._set_hint()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self.replace("\n", start, end)
            return
        await super()._on_key(event)
