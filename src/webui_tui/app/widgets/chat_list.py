"""The sidebar's chat list: pinned first, then folders, then the rest; keys ask for actions."""

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from webui_daemon.schemas.chats import ChatTitleIdResponse
from webui_tui.app.widgets.folder_tree import folder_of_option

PIN = "▲ "
FOLDER_ACTIONS = ("rename", "delete")


class ChatList(OptionList):
    """Posts `Opened` (enter on a chat), `FolderToggled` (enter on a folder),
    `ActionAsked` (r d p a t x m on a chat), `FolderActionAsked` (r d on a folder)
    and `NewFolderAsked` (n)."""

    HELP_TITLE = "Chat list (ctrl+t; enter opens a chat or a folder)"
    # The footer shows three; the help screen (F1) all of them.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "ask('rename')", "Rename", id="chats.rename", tooltip="Rename (a folder too)"),
        Binding("d", "ask('delete')", "Delete", id="chats.delete", tooltip="Delete (a folder too)"),
        Binding("m", "ask('move')", "Move", id="chats.move", tooltip="Move into a folder"),
        Binding("p", "ask('pin')", "Pin", id="chats.pin", show=False, tooltip="Pin / unpin"),
        Binding(
            "a",
            "ask('archive')",
            "Archive",
            id="chats.archive",
            show=False,
            tooltip="Archive / unarchive",
        ),
        Binding(
            "t", "ask('tag')", "Tag", id="chats.tag", show=False, tooltip="Tag (-name removes)"
        ),
        Binding(
            "x",
            "ask('export')",
            "Export",
            id="chats.export",
            show=False,
            tooltip="Export as Markdown",
        ),
        Binding("n", "new_folder", "New folder", id="chats.folder", show=False),
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

    class FolderToggled(Message):
        def __init__(self, folder_id: str) -> None:
            super().__init__()
            self.folder_id = folder_id

    class FolderActionAsked(Message):
        """Rename or delete the folder of the highlighted folder row."""

        def __init__(self, action: str, folder_id: str) -> None:
            super().__init__()
            self.action = action
            self.folder_id = folder_id

    class NewFolderAsked(Message):
        """A new folder, inside `parent_id` when a folder row is highlighted."""

        def __init__(self, parent_id: str | None) -> None:
            super().__init__()
            self.parent_id = parent_id

    def show(
        self,
        chats: list[ChatTitleIdResponse],
        current: str | None = None,
        tree: list[tuple[str | None, str]] | None = None,
    ) -> None:
        """`chats` sorted (pinned first), with the folder `tree` rows after the pinned ones."""
        # Titles break ties of the same second, so the order never depends on ids.
        ordered = sorted(chats, key=lambda c: (not c.pinned, -c.updated_at, c.title.lower()))
        keep = self._selected_id() or current
        pinned = [c for c in ordered if c.pinned]
        rest = [c for c in ordered if not c.pinned]
        options = [_option(c) for c in pinned]
        options += [Option(label, id=key, disabled=key is None) for key, label in tree or []]
        options += [_option(c) for c in rest]
        # A chat both pinned (or loose) and in an open folder is listed once, where it first
        # appears: Open WebUI may list it in both answers, and option ids must be unique.
        options = _first_of_each(options)
        self.clear_options()
        self.add_options(options)
        for index, option in enumerate(options):
            if option.id is not None and option.id == keep:
                self.highlighted = index

    def show_problem(self, text: str) -> None:
        """No chats to show: say why in the list's place (not an empty list)."""
        self.clear_options()
        self.add_option(Option(Text(text), disabled=True))  # Text: brackets are no markup

    def _selected_id(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        folder = folder_of_option(event.option.id)
        if folder:
            self.post_message(self.FolderToggled(folder))
        elif event.option.id:
            self.post_message(self.Opened(event.option.id))

    def action_ask(self, action: str) -> None:
        # The same keys rename and delete a folder on its row; the other chat actions bell.
        option_id = self._selected_id()
        folder = folder_of_option(option_id)
        if folder and action in FOLDER_ACTIONS:
            self.post_message(self.FolderActionAsked(action, folder))
        elif option_id and folder is None:
            self.post_message(self.ActionAsked(action, option_id))
        elif option_id:
            self.app.bell()

    def action_new_folder(self) -> None:
        self.post_message(self.NewFolderAsked(folder_of_option(self._selected_id())))


def _first_of_each(options: list[Option]) -> list[Option]:
    seen: set[str] = set()
    kept = []
    for option in options:
        if option.id is not None:
            if option.id in seen:
                continue
            seen.add(option.id)
        kept.append(option)
    return kept


def _option(chat: ChatTitleIdResponse) -> Option:
    return Option((PIN if chat.pinned else "") + (chat.title or "Untitled"), id=chat.id)
