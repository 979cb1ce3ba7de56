"""The knowledge screen: knowledge bases, their files and status, uploads with progress, search.

Keys: ctrl+n new base, ctrl+u add files (paths or globs), ctrl+d remove the highlighted file,
ctrl+x delete the base, ctrl+f search (results with scores).
"""

import asyncio
import glob
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from webui_daemon.schemas.knowledge import KnowledgeFilesResponse, KnowledgeResponse
from webui_tui.app.screens.dialogs import ConfirmScreen, PromptScreen
from webui_tui.app.widgets.keys_footer import KeysFooter
from webui_tui.app.widgets.notice import Problem, Reconnected
from webui_tui.app.workers import ReportsWorkerFailures, work
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.tui_extra import TuiClient

POLL_S = 0.2
PROCESS_TIMEOUT_S = 300.0


class KnowledgeScreen(ReportsWorkerFailures, Screen[None]):
    CSS_PATH = "knowledge.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_kb", "New", id="knowledge.new", tooltip="New knowledge base"),
        Binding("ctrl+u", "add_files", "Add", id="knowledge.add", tooltip="Add files (globs)"),
        Binding("ctrl+f", "search", "Search", id="knowledge.search", tooltip="Search this base"),
        Binding(
            "ctrl+d",
            "remove_file",
            "Remove",
            id="knowledge.remove",
            tooltip="Remove the highlighted file",
        ),
        Binding(
            "ctrl+x",
            "delete_kb",
            "Delete",
            id="knowledge.delete",
            show=False,
            tooltip="Delete the knowledge base",
        ),
        Binding("escape", "leave_search", "Back", show=False, tooltip="Leave the search box"),
    ]

    def __init__(self, client: TuiClient) -> None:
        super().__init__()
        self.client = client
        self.kbs: list[KnowledgeResponse] = []
        self.kb: KnowledgeFilesResponse | None = None

    def compose(self) -> ComposeResult:
        yield Static("webui · Knowledge", id="topbar")
        with Horizontal(id="body"):
            with Vertical(id="kb-side"):
                yield Static("Knowledge bases", classes="heading")
                yield OptionList(id="kbs")
            with Vertical(id="kb-main"):
                yield Static("No knowledge base selected (ctrl+n creates one)", id="kb-title")
                yield DataTable(id="files", cursor_type="row", zebra_stripes=True)
                yield ProgressBar(id="progress", show_eta=False)
                yield Input(placeholder="Search this knowledge base", id="kb-search")
                yield DataTable(id="results", cursor_type="row")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#files", DataTable).add_columns("File", "Status", "Size")
        self.query_one("#results", DataTable).add_columns("Score", "File", "Text")
        self.query_one("#progress", ProgressBar).display = False
        self.load()

    def on_reconnected(self, _: Reconnected) -> None:
        self.load()

    def _problem(self, exc: BaseException, doing: str) -> None:
        self.post_message(Problem(exc, doing))

    @work(exclusive=True, group="load")
    async def load(self, select: str | None = None) -> None:
        try:
            self.kbs = await self.client.list_knowledge()
        except WebUIClientError as exc:
            self._problem(exc, "listing knowledge bases")
            self._title(f"Could not list the knowledge bases: {exc.message}")
            return
        kb_list = self.query_one("#kbs", OptionList)
        kb_list.clear_options()
        kb_list.add_options(Option(f"{kb.name} ({kb.file_count})", id=kb.id) for kb in self.kbs)
        wanted = select or (self.kb.id if self.kb else None)
        ids = [kb.id for kb in self.kbs]
        if wanted in ids:
            kb_list.highlighted = ids.index(wanted)
            await self._show(wanted)
        elif ids:
            kb_list.highlighted = 0
            await self._show(ids[0])
        else:
            kb_list.focus()

    @on(OptionList.OptionHighlighted, "#kbs")
    def _kb_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and (self.kb is None or self.kb.id != event.option.id):
            self.open_kb(event.option.id)

    @work(exclusive=True, group="open")
    async def open_kb(self, kb_id: str) -> None:
        await self._show(kb_id)

    async def _show(self, kb_id: str) -> None:
        try:
            self.kb = await self.client.get_knowledge(kb_id)
        except WebUIClientError as exc:
            self._problem(exc, "opening the knowledge base")
            self.kb = None
            self._title(f"Could not open the knowledge base: {exc.message}")
            self.query_one("#files", DataTable).clear()
            return
        kb = self.kb
        self.query_one("#kb-title", Static).update(
            f"{kb.name}: {len(kb.files)} file(s)"
            + (f" · {kb.description}" if kb.description else "")
        )
        table = self.query_one("#files", DataTable)
        table.clear()
        for item in kb.files:
            size = item.meta.get("size")
            status = item.status + (f": {item.error}" if item.error else "")
            table.add_row(item.filename, status, _size(size), key=item.id)

    def _title(self, text: str) -> None:
        # Text, not markup: an error message may hold brackets.
        self.query_one("#kb-title", Static).update(Text(text))

    def action_new_kb(self) -> None:
        self._new_kb()

    @work(group="kb-action")
    async def _new_kb(self) -> None:
        name = await self.app.push_screen_wait(PromptScreen("Name of the new knowledge base"))
        if not name:
            return
        try:
            kb = await self.client.create_knowledge(name.strip())
        except WebUIClientError as exc:
            self._problem(exc, "creating the knowledge base")
            return
        self.load(kb.id)

    def action_delete_kb(self) -> None:
        if self.kb is not None:
            self._delete_kb(self.kb.id, self.kb.name)

    @work(group="kb-action")
    async def _delete_kb(self, kb_id: str, name: str) -> None:
        if not await self.app.push_screen_wait(ConfirmScreen(f"Delete {name!r} and its index?")):
            return
        try:
            await self.client.delete_knowledge(kb_id)
        except WebUIClientError as exc:
            self._problem(exc, "deleting the knowledge base")
            return
        self.kb = None
        self.load()

    def action_add_files(self) -> None:
        if self.kb is None:
            self.notify("Create or pick a knowledge base first", severity="warning")
            return
        self._ask_files(self.kb.id)

    @work(group="kb-action")
    async def _ask_files(self, kb_id: str) -> None:
        answer = await self.app.push_screen_wait(PromptScreen("Files to add (paths or globs)"))
        if answer:
            paths = expand_paths(answer)
            if not paths:
                self.notify(f"No file matches {answer!r}", severity="warning")
                return
            self.add_files(kb_id, paths)

    @work(exclusive=True, group="upload")
    async def add_files(self, kb_id: str, paths: list[Path]) -> None:
        """Upload, wait for processing, add to the base: two progress steps per file."""
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=2 * len(paths), progress=0)
        added = 0
        for path in paths:
            try:
                uploaded = await self.client.upload_file(path)
                bar.advance(1)
                status = await self._wait_processed(uploaded.id)
                if status.status != "completed":
                    why = status.error or status.status
                    self.notify(f"{path.name}: {why}", severity="error")
                else:
                    await self.client.add_to_knowledge(kb_id, uploaded.id)
                    added += 1
            except (WebUIClientError, OSError) as exc:
                self._problem(exc, f"adding {path.name}")
            bar.advance(1)
            await self._show(kb_id)
        bar.display = False
        self.notify(f"Added {added} of {len(paths)} file(s)")
        self.load(kb_id)

    async def _wait_processed(self, file_id: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PROCESS_TIMEOUT_S
        while True:
            status = await self.client.file_status(file_id)
            if status.status in ("completed", "failed") or loop.time() > deadline:
                return status
            await asyncio.sleep(POLL_S)

    def action_remove_file(self) -> None:
        table = self.query_one("#files", DataTable)
        if self.kb is None or not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            self._remove_file(self.kb.id, str(key))

    @work(group="kb-action")
    async def _remove_file(self, kb_id: str, file_id: str) -> None:
        if not await self.app.push_screen_wait(ConfirmScreen("Remove this file?")):
            return
        try:
            await self.client.remove_from_knowledge(kb_id, file_id)
        except WebUIClientError as exc:
            self._problem(exc, "removing the file")
            return
        self.load(kb_id)

    def action_search(self) -> None:
        self.query_one("#kb-search", Input).focus()

    def action_leave_search(self) -> None:
        """Escape in the search box: back to the files (or the bases when there are none)."""
        if self.focused is self.query_one("#kb-search", Input):
            files = self.query_one("#files", DataTable)
            (files if files.row_count else self.query_one("#kbs", OptionList)).focus()

    @on(Input.Submitted, "#kb-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        if self.kb is not None and event.value.strip():
            self.search(self.kb.id, event.value.strip())

    @work(exclusive=True, group="search")
    async def search(self, kb_id: str, query: str) -> None:
        try:
            result = await self.client.search_knowledge(kb_id, query)
        except WebUIClientError as exc:
            self._problem(exc, "searching")
            return
        table = self.query_one("#results", DataTable)
        table.clear()
        documents = result.documents[0] if result.documents else []
        metadatas = result.metadatas[0] if result.metadatas else []
        scores = result.distances[0] if result.distances else []
        for index, text in enumerate(documents):
            meta = metadatas[index] if index < len(metadatas) else {}
            score = scores[index] if index < len(scores) else 0.0
            name = str(meta.get("name") or meta.get("source") or "")
            table.add_row(f"{score:.3f}", name, " ".join(text.split())[:200])
        if not documents:
            self.notify("No results")


def expand_paths(answer: str) -> list[Path]:
    """Space-separated paths or globs (`~` expanded) to the files they name."""
    found: list[Path] = []
    for part in answer.split():
        pattern = str(Path(part).expanduser())
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        found += [Path(m) for m in matches if Path(m).is_file()]
    return found


def _size(size: Any) -> str:
    if not isinstance(size, int):
        return ""
    for unit in ("B", "kB", "MB"):
        if size < 1024:
            return f"{size} {unit}"
        size //= 1024
    return f"{size} GB"
