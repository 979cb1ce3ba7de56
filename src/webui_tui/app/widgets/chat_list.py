"""The sidebar's chat list: pinned first; letter keys ask for chat actions."""

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from webui_daemon.schemas.chats import ChatTitleIdResponse

PIN = "▲ "


class ChatList(OptionList):
    """Posts `ChatList.Opened` (enter) and `ChatList.ActionAsked` (r d p a t x)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "ask('rename')", "Rename", id="chats.rename"),
        Binding("d", "ask('delete')", "Delete", id="chats.delete"),
        Binding("p", "ask('pin')", "Pin", id="chats.pin"),
        Binding("a", "ask('archive')", "Archive", id="chats.archive"),
        Binding("t", "ask('tag')", "Tag", id="chats.tag"),
        Binding("x", "ask('export')", "Export", id="chats.export"),
    ]

    class Opened(Message):
        def __init__(self, chat_id: str) -> None:
            super().__init__()
            self.chat_id = chat_id

    class ActionAsked(Message):
        def __init__(self, action: str, chat_id: str) -> None:
            super().__init__()
            self.action = action
            self.chat_id = chat_id

    def show(self, chats: list[ChatTitleIdResponse], current: str | None = None) -> None:
        # Titles break ties of the same second, so the order never depends on ids.
        ordered = sorted(chats, key=lambda c: (not c.pinned, -c.updated_at, c.title.lower()))
        keep = self._selected_id() or current
        self.clear_options()
        self.add_options(
            Option((PIN if chat.pinned else "") + (chat.title or "Untitled"), id=chat.id)
            for chat in ordered
        )
        for index, chat in enumerate(ordered):
            if chat.id == keep:
                self.highlighted = index

    def _selected_id(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Opened(event.option.id))

    def action_ask(self, action: str) -> None:
        chat_id = self._selected_id()
        if chat_id:
            self.post_message(self.ActionAsked(action, chat_id))
