"""The chat screen's sidebar half: the chat list with its folders, search, tag filter, the
chat actions (rename, delete, pin, archive, tag, export, move to a folder) and the folder ones.

`SidebarScreen` is the base of `ChatScreen`; every daemon call runs in one of its workers.
"""

from pathlib import Path

from textual import on
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from webui_daemon.schemas.chats import ChatResponse
from webui_daemon.schemas.folders import FolderModel
from webui_tui.app.screens.dialogs import ConfirmScreen, PickScreen, PromptScreen
from webui_tui.app.widgets.chat_list import ChatList
from webui_tui.app.widgets.folder_tree import open_folders, tree_rows
from webui_tui.app.widgets.notice import Problem
from webui_tui.app.workers import ReportsWorkerFailures, work
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.transcript import to_markdown
from webui_tui.client.tui_extra import TuiClient

SEARCH_DELAY_S = 0.25
ALL_CHATS = ""  # the tag picker's "all chats" option
NO_FOLDER = "-"  # the folder picker's "no folder" option
NEW_FOLDER = "+"  # the folder picker's "new folder" option


class SidebarScreen(ReportsWorkerFailures, Screen[None]):
    """Needs `_render_chat` and `action_new_chat` from the screen built on it."""

    def __init__(self, client: TuiClient) -> None:
        super().__init__()
        self.client = client
        self.chat: ChatResponse | None = None
        self.tag_filter: str | None = None
        self._search_timer: Timer | None = None

    def _render_chat(self, chat: ChatResponse) -> None:
        """Show `chat` in the conversation pane (ChatScreen overrides this)."""

    def action_new_chat(self) -> None:
        """Start an empty chat (ChatScreen overrides this)."""

    def _problem(self, exc: BaseException, doing: str = "") -> None:
        self.post_message(Problem(exc, doing))

    def _search_text(self) -> str:
        return self.query_one("#search", Input).value.strip()

    # --- the list ---

    async def _reload_list(self, text: str | None = None) -> None:
        """Search results, the chats of the tag filter, or everything with the folders."""
        text = self._search_text() if text is None else text
        client = self.client
        tree: list[tuple[str | None, str]] | None = None
        if text:
            chats = await client.search_chats(text)
        elif self.tag_filter:
            chats = await client.chats_with_tag(self.tag_filter)
        else:
            folders = await client.list_folders()
            loose = await client.list_chats(include_folders=False)
            seen = {c.id for c in loose}
            chats = loose + [c for c in await client.pinned_chats() if c.id not in seen]
            contents = {f: await client.chats_in_folder(f) for f in open_folders(folders)}
            tree = tree_rows(folders, contents)
        current = self.chat.id if self.chat else None
        try:
            self._show_filter()
            self.query_one(ChatList).show(chats, current, tree)
        except NoMatches:  # the app closed while the daemon answered
            return

    def _list_problem(self, text: str) -> None:
        try:
            self.query_one(ChatList).show_problem(text)
        except NoMatches:  # the app closed meanwhile
            return

    def _show_filter(self) -> None:
        line = self.query_one("#filter", Static)
        line.update(f"# {self.tag_filter} · ctrl+g: all chats" if self.tag_filter else "")
        line.display = bool(self.tag_filter)

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        text = event.value.strip()
        self._search_timer = self.set_timer(SEARCH_DELAY_S, lambda: self._search(text))

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.query_one(ChatList).focus()

    @work(exclusive=True, group="search")
    async def _search(self, text: str) -> None:
        try:
            await self._reload_list(text)
        except WebUIClientError as exc:
            self._problem(exc, "searching")

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_export_chat(self) -> None:
        if self.chat is None:
            self.notify("Open or start a chat first", severity="warning")
            return
        self._chat_action("export", self.chat.id)

    def action_focus_chats(self) -> None:
        self.query_one(ChatList).focus()

    # --- tags and folders ---

    def action_filter_tag(self) -> None:
        self._pick_tag()

    @work(group="chat-action")
    async def _pick_tag(self) -> None:
        try:
            tags = await self.client.all_tags()
            options = [(ALL_CHATS, "All chats (no filter)")]
            options += [(t.name, f"# {t.name}") for t in sorted(tags, key=lambda t: t.name)]
            picked = await self.app.push_screen_wait(
                PickScreen("Show chats tagged", options, self.tag_filter or ALL_CHATS)
            )
            if picked is None:
                return
            self.tag_filter = picked or None
            await self._reload_list()
            self.query_one(ChatList).focus()
        except WebUIClientError as exc:
            self._problem(exc, "filtering by tag")

    def on_chat_list_folder_toggled(self, event: ChatList.FolderToggled) -> None:
        self._toggle_folder(event.folder_id)

    @work(group="chat-action")
    async def _toggle_folder(self, folder_id: str) -> None:
        try:
            folders = {f.id: f for f in await self.client.list_folders()}
            if folder_id in folders:
                await self.client.set_folder_expanded(folder_id, not folders[folder_id].is_expanded)
            await self._reload_list()
        except WebUIClientError as exc:
            self._problem(exc, "opening the folder")

    def on_chat_list_new_folder_asked(self, event: ChatList.NewFolderAsked) -> None:
        self._new_folder(event.parent_id)

    @work(group="chat-action")
    async def _new_folder(self, parent_id: str | None) -> None:
        try:
            await self._create_folder(parent_id)
            await self._reload_list()
        except WebUIClientError as exc:
            self._problem(exc, "creating a folder")

    async def _create_folder(self, parent_id: str | None) -> FolderModel | None:
        """Ask for a name; the new folder is shown open (None when the name was not given)."""
        name = await self.app.push_screen_wait(PromptScreen("New folder name"))
        if not name or not name.strip():
            return None
        folder = await self.client.create_folder(name.strip(), parent_id)
        if parent_id:
            await self.client.set_folder_expanded(parent_id, True)
        return folder

    def on_chat_list_folder_action_asked(self, event: ChatList.FolderActionAsked) -> None:
        self._folder_action(event.action, event.folder_id)

    @work(group="chat-action")
    async def _folder_action(self, action: str, folder_id: str) -> None:
        client = self.client
        try:
            folder = await client.get_folder(folder_id)
            if action == "rename":
                name = await self.app.push_screen_wait(PromptScreen("Rename folder", folder.name))
                if name and name.strip() and name.strip() != folder.name:
                    await client.rename_folder(folder_id, name.strip())
            elif action == "delete":
                # The daemon deletes the chats with the folder, as Open WebUI does by default.
                question = (
                    f"Delete the folder {folder.name!r}, its subfolders and all their chats"
                    " (archived and pinned ones too)?"
                )
                if await self.app.push_screen_wait(ConfirmScreen(question)):
                    goes = await self._shown_chat_in(folder_id)
                    await client.delete_folder(folder_id)
                    if goes:
                        self.action_new_chat()
            await self._reload_list()
        except WebUIClientError as exc:
            doing = "renaming the folder" if action == "rename" else "deleting the folder"
            self._problem(exc, doing)

    async def _shown_chat_in(self, folder_id: str) -> bool:
        """Whether the chat shown is in the folder or below it (it goes when they are deleted)."""
        if self.chat is None:
            return False
        # Asked now: the chat may have moved since it was opened.
        chat_folder = (await self.client.get_chat(self.chat.id)).folder_id
        folders = await self.client.list_folders()
        parents = {f.id: f.parent_id for f in folders}
        seen: set[str] = set()
        while chat_folder and chat_folder not in seen:
            if chat_folder == folder_id:
                return True
            seen.add(chat_folder)
            chat_folder = parents.get(chat_folder)
        return False

    async def _move(self, chat: ChatResponse) -> None:
        folders = await self.client.list_folders()
        names = {f.id: f.name for f in folders}
        options = [(NO_FOLDER, "(no folder)")]
        options += sorted(((f.id, _path(f, names, folders)) for f in folders), key=lambda o: o[1])
        options.append((NEW_FOLDER, "+ New folder…"))
        title = f"Move {chat.title!r} to"
        picked = await self.app.push_screen_wait(
            PickScreen(title, options, chat.folder_id or NO_FOLDER)
        )
        if picked == NEW_FOLDER:
            folder = await self._create_folder(None)
            picked = folder.id if folder else None
        if picked is None:
            return
        target = None if picked == NO_FOLDER else picked
        await self.client.move_to_folder(chat.id, target)
        if target:
            await self.client.set_folder_expanded(target, True)
        self.notify(f"Moved to {names.get(target or '', 'the folder') if target else 'no folder'}")

    # --- chat actions (sidebar keys) ---

    def on_chat_list_action_asked(self, event: ChatList.ActionAsked) -> None:
        self._chat_action(event.action, event.chat_id)

    @work(group="chat-action")
    async def _chat_action(self, action: str, chat_id: str) -> None:
        client = self.client
        try:
            chat = await client.get_chat(chat_id)
            if action == "rename":
                title = await self.app.push_screen_wait(PromptScreen("New title", chat.title))
                if title:
                    await client.rename_chat(chat_id, title)
            elif action == "delete":
                question = f"Delete the chat {chat.title!r}?"
                if await self.app.push_screen_wait(ConfirmScreen(question)):
                    await client.delete_chat(chat_id)
                    if self.chat is not None and self.chat.id == chat_id:
                        self.action_new_chat()
            elif action == "pin":
                await client.toggle_pin(chat_id)
            elif action == "archive":
                await client.toggle_archive(chat_id)
                self.notify("Archived" if not chat.archived else "Unarchived")
            elif action == "tag":
                question = "Tag (a leading - removes it)"
                tag = await self.app.push_screen_wait(PromptScreen(question))
                if tag and tag.startswith("-"):
                    await client.remove_tag(chat_id, tag[1:].strip())
                elif tag:
                    await client.add_tag(chat_id, tag.strip())
            elif action == "export":
                default = f"chat-{chat_id[:8]}.md"
                name = await self.app.push_screen_wait(PromptScreen("Export to file", default))
                if name:
                    path = Path(name).expanduser()  # noqa: ASYNC240 (a small local file)
                    path.write_text(to_markdown(chat), encoding="utf-8")
                    self.notify(f"Exported to {path}")
            elif action == "move":
                await self._move(chat)
            if self.chat is not None and self.chat.id == chat_id and action != "delete":
                self._render_chat(await client.get_chat(chat_id))
            await self._reload_list()
        except (WebUIClientError, OSError) as exc:
            self._problem(exc, action)


def _path(folder: FolderModel, names: dict[str, str], folders: list[FolderModel]) -> str:
    """`parent / child` for a folder (at most a few levels; cycles stop)."""
    parents = {f.id: f.parent_id for f in folders}
    parts = [folder.name]
    parent = folder.parent_id
    while parent in names and len(parts) < 8:
        parts.insert(0, names[parent])
        parent = parents.get(parent)
    return " / ".join(parts)
