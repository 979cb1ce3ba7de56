"""What goes with the next message: knowledge bases and uploaded files, listed above the
composer (hidden while empty); delete or x removes the highlighted one."""

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from webui_daemon.schemas.images import ImageInfo, image_item

KINDS = {"collection": "knowledge", "file": "file", "image": "image"}


@dataclass(eq=False)
class Attachment:
    """A knowledge base (`collection`), an uploaded file (`ready` once the server read it) or
    an image (`image`: kept with the message itself, as `webui chat -f photo.png` does)."""

    kind: str
    id: str
    name: str
    ready: bool = True
    image: ImageInfo | None = None

    def item(self) -> dict[str, Any]:
        """The completion's `files` item, as `webui chat --kb/--file` sends it; for an image
        the user message's `files` item."""
        if self.kind == "image" and self.image is not None:
            return image_item(self.id, self.name, self.image)
        return {"type": self.kind, "id": self.id, "name": self.name}

    def label(self) -> Text:
        text = Text(f"{KINDS.get(self.kind, self.kind)}: ", style="dim")
        text.append(self.image.label(self.name) if self.image else self.name, style="bold")
        if not self.ready:
            text.append("  uploading and reading…", style="dim italic")
        return text


class Attachments(OptionList):
    """Posts `RemoveAsked` with the index of the attachment to take off."""

    HELP_TITLE = "Attachments (shift+tab from the composer)"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "delete,backspace,x",
            "remove",
            "Remove",
            id="attachments.remove",
            tooltip="Take the highlighted attachment off the next message",
        ),
    ]
    DEFAULT_CSS = """
    Attachments { display: none; height: auto; max-height: 4; border: none; padding: 0 1; }
    Attachments.shown { display: block; }
    """

    class RemoveAsked(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def show(self, attached: list[Attachment]) -> None:
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(Option(a.label()) for a in attached)
        self.set_class(bool(attached), "shown")
        if attached:
            self.highlighted = min(highlighted or 0, len(attached) - 1)

    def action_remove(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.RemoveAsked(self.highlighted))
