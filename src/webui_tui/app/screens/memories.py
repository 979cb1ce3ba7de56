"""The memories screen: your memories (type, path, text), add, edit, delete.

Keys: ctrl+n new memory, enter or ctrl+e edit the highlighted one, ctrl+d delete it. Whether
chats use them is the switch in Settings.
"""

from typing import ClassVar

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from webui_daemon.schemas.memories import MemoryModel, MemoryType
from webui_tui.app.screens.dialogs import ConfirmScreen, PickScreen, PromptScreen
from webui_tui.app.widgets.keys_footer import KeysFooter
from webui_tui.app.widgets.notice import Problem, Reconnected
from webui_tui.app.workers import ReportsWorkerFailures, work
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.tui_extra import TuiClient

KINDS = [
    ("context", "Context: given to chats when it matters"),
    ("user", "About me: given to every chat"),
]


class MemoriesScreen(ReportsWorkerFailures, Screen[None]):
    CSS_PATH = "memories.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_memory", "New", id="memories.new"),
        Binding("ctrl+e", "edit_memory", "Edit", id="memories.edit"),
        Binding("ctrl+d", "delete_memory", "Delete", id="memories.delete"),
    ]

    def __init__(self, client: TuiClient) -> None:
        super().__init__()
        self.client = client
        self.memories: list[MemoryModel] = []

    def compose(self) -> ComposeResult:
        yield Static("webui · Memories", id="topbar")
        yield Static("", id="memories-title")
        yield DataTable(id="memories", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#memories", DataTable).add_columns("Type", "Path", "Memory")
        self.load()

    def on_reconnected(self, _: Reconnected) -> None:
        self.load()

    def _problem(self, exc: BaseException, doing: str) -> None:
        self.post_message(Problem(exc, doing))

    @work(exclusive=True, group="load")
    async def load(self, select: str | None = None) -> None:
        try:
            self.memories = await self.client.list_memories()
        except WebUIClientError as exc:
            self._problem(exc, "listing memories")
            self._title(f"Could not list your memories: {exc.message}")
            return
        table = self.query_one("#memories", DataTable)
        table.clear()
        for memory in self.memories:
            text = " ".join(memory.content.split())
            table.add_row(memory.type, memory.path or "", Text(text), key=memory.id)
        count = len(self.memories)
        self._title(
            f"{count} memor{'y' if count == 1 else 'ies'}"
            if count
            else "No memories yet (ctrl+n adds one)"
        )
        ids = [m.id for m in self.memories]
        if select in ids:
            table.move_cursor(row=ids.index(select))
        table.focus()

    def _title(self, text: str) -> None:
        self.query_one("#memories-title", Static).update(Text(text))

    def highlighted(self) -> MemoryModel | None:
        table = self.query_one("#memories", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((m for m in self.memories if m.id == key), None)

    def action_new_memory(self) -> None:
        self._new_memory()

    @work(group="memory-action")
    async def _new_memory(self) -> None:
        text = await self.app.push_screen_wait(PromptScreen("Remember…"))
        if not text or not text.strip():
            return
        picked = await self.app.push_screen_wait(PickScreen("What is it?", KINDS, "context"))
        kind: MemoryType = "user" if picked == "user" else "context"
        try:
            made = await self.client.add_memory(text.strip(), kind=kind)
        except WebUIClientError as exc:
            self._problem(exc, "adding the memory")
            return
        self.load(made.id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit_memory()

    def action_edit_memory(self) -> None:
        memory = self.highlighted()
        if memory is not None:
            self._edit_memory(memory)

    @work(group="memory-action")
    async def _edit_memory(self, memory: MemoryModel) -> None:
        text = await self.app.push_screen_wait(PromptScreen("Edit memory", memory.content))
        if text is None or not text.strip() or text.strip() == memory.content:
            return
        try:
            await self.client.update_memory(memory.id, content=text.strip())
        except WebUIClientError as exc:
            self._problem(exc, "saving the memory")
            return
        self.load(memory.id)

    def action_delete_memory(self) -> None:
        memory = self.highlighted()
        if memory is not None:
            self._delete_memory(memory)

    @work(group="memory-action")
    async def _delete_memory(self, memory: MemoryModel) -> None:
        short = memory.content if len(memory.content) <= 40 else memory.content[:39] + "…"
        if not await self.app.push_screen_wait(ConfirmScreen(f"Forget {escape(repr(short))}?")):
            return
        try:
            await self.client.delete_memory(memory.id)
        except WebUIClientError as exc:
            self._problem(exc, "deleting the memory")
            return
        self.load()
