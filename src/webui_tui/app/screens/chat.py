"""The chat screen: chats in a sidebar, the conversation, the composer; turns stream in workers.

Every call to the daemon runs in a worker of this screen; widgets only post what was asked
(`Composer.Submitted`, `MessageView.BranchAsked`, `ChatList.ActionAsked`, ...). Failures go
up as one `Problem` message to the app.

A server that does not save turns itself (Open WebUI, or `WEBUI_CLIENT_TURNS=1`) gets them
saved from here, as `webui chat` does (`client_turns`): esc hangs up and what arrived is saved,
marked interrupted; an answer still generating there cannot be re-attached to.

`/` at the start of the composer picks a prompt from the library (`PromptPicking`); ctrl+b
attaches knowledge bases and files to the next message (`Attaching`); ctrl+s picks the tools
the model may call in the chat (`ToolPicking`), and the daemon's tool calls show as blocks in
the answer.
"""

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from webui_daemon.schemas.chats import ChatResponse
from webui_tui.app.screens.chat_attach import Attaching
from webui_tui.app.screens.chat_doc import chat_model, infos_of
from webui_tui.app.screens.chat_messages import EMPTY, MessageActions
from webui_tui.app.screens.chat_prompts import PromptPicking
from webui_tui.app.screens.chat_sidebar import SidebarScreen
from webui_tui.app.screens.chat_tools import ToolPicking
from webui_tui.app.screens.dialogs import PickScreen
from webui_tui.app.tree import usage_line
from webui_tui.app.widgets.attachments import Attachments
from webui_tui.app.widgets.chat_list import ChatList
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.conversation import Conversation
from webui_tui.app.widgets.keys_footer import KeysFooter
from webui_tui.app.widgets.message_view import MessageInfo, MessageView
from webui_tui.app.widgets.notice import Reconnected
from webui_tui.app.widgets.prompt_picker import PromptPicker
from webui_tui.app.widgets.sources import SourcesPanel
from webui_tui.app.workers import work
from webui_tui.client.client_turns import (
    ClientTurn,
    answer_again,
    at_leaf,
    begin_turn,
)
from webui_tui.client.completions import ChatStream
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.sse import ContentDelta, Queued, Sources, ToolActivity
from webui_tui.client.tasks import uncancel_current
from webui_tui.client.transcript import history_of, image_labels
from webui_tui.client.tui_extra import TuiClient


class ChatScreen(MessageActions, Attaching, PromptPicking, ToolPicking, SidebarScreen):
    CSS_PATH = "chat.tcss"
    # The footer shows the first of the shown ones that fit (80 columns: up to Attach); the
    # help screen (F1) lists them all, with the tooltip as the longer description.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_chat", "New", id="chat.new", tooltip="New chat"),
        Binding("ctrl+o", "pick_model", "Model", id="chat.model", tooltip="Pick the model"),
        # Not ctrl+k: the composer and the search box delete to the end of the line with it.
        Binding("ctrl+t", "focus_chats", "Chats", id="chat.chats", tooltip="The chat list"),
        Binding(
            "ctrl+b",
            "attach",
            "Attach",
            id="chat.attach",
            tooltip="Attach knowledge bases or files to the next message",
        ),
        Binding(
            "ctrl+s",
            "pick_tools",
            "Tools",
            id="chat.tools",
            show=False,
            tooltip="Pick the tools the model may call in this chat",
        ),
        Binding("ctrl+f", "search", "Search", id="chat.search", show=False, tooltip="Search chats"),
        Binding(
            "ctrl+g", "filter_tag", "Tags", id="chat.tags", show=False, tooltip="Filter by tag"
        ),
        Binding(
            "ctrl+l",
            "last_message",
            "Messages",
            id="chat.messages",
            show=False,
            tooltip="Go to the last message (then ↑ ↓)",
        ),
        Binding(
            "ctrl+r",
            "regenerate_last",
            "Regenerate",
            id="chat.regenerate",
            show=False,
            tooltip="Regenerate the last answer (a new branch)",
        ),
        Binding(
            "escape",
            "stop",
            "Stop",
            id="chat.stop",
            priority=True,
            show=False,
            tooltip="Stop the answer; else close the prompt list, sources, an edit",
        ),
    ]
    HELP_WIDGETS = (Composer, Attachments, ChatList, MessageView, SourcesPanel)

    def __init__(self, client: TuiClient) -> None:
        super().__init__(client)
        self.model: str | None = None
        self.streaming = False
        self._hang_up: Callable[[], None] | None = None  # set while a client-side turn streams
        self._hung_up = False

    def compose(self) -> ComposeResult:
        yield Static("webui · Chat", id="topbar")
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield Input(placeholder="Search chats", id="search")
                yield Static("", id="filter")
                yield ChatList(id="chats")
            with Vertical(id="main"):
                yield Static("New chat", id="chat-title")
                yield Conversation(id="conversation")
                yield Static("", id="stats")
                yield Attachments(id="attachments")
                yield PromptPicker(id="picker")
                yield Composer(id="composer")
            yield SourcesPanel(id="sources")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.conversation.show([], EMPTY)
        self.composer.focus()
        self.load()

    def _show_top(self) -> None:
        self.query_one("#topbar", Static).update(
            f"webui · Chat · model: {self.model or '(none)'}"
            + self.tools_label()
            + ("  · generating, esc stops" if self.streaming else "")
        )

    # --- loading ---

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        try:
            if self.model is None:
                models = await self.client.list_models()
                preferred = await self.client.default_model()
                ids = [m.id for m in models]
                self.model = preferred if preferred in ids else (ids[0] if ids else None)
            self._show_top()
            await self._reload_list()
            if self.chat is not None:
                await self._open(self.chat.id)
        except WebUIClientError as exc:
            self._problem(exc, "loading chats")
            self._list_problem(f"Could not load the chats: {exc.message}")

    def on_reconnected(self, _: Reconnected) -> None:
        self.load()

    def on_chat_list_opened(self, event: ChatList.Opened) -> None:
        self.open_chat(event.chat_id)

    @work(exclusive=True, group="load")
    async def open_chat(self, chat_id: str) -> None:
        try:
            await self._open(chat_id)
        except WebUIClientError as exc:
            self._problem(exc, "opening the chat")

    async def _open(self, chat_id: str) -> None:
        chat = await self.client.get_chat(chat_id)
        self._render_chat(chat)
        if self.streaming:
            return
        if not await self.client.server_turns():
            await self._note_running(chat_id)
            return
        running = await self.client.chat_tasks(chat_id)
        if running:
            view = self.conversation.view_of(running[-1])
            if view is not None:
                self._reattach(chat_id, running[-1], view)

    async def _note_running(self, chat_id: str) -> None:
        """Where turns are saved from here, an answer another client is generating cannot be
        followed (only a webui daemon streams one again): say so."""
        try:
            running = await self.client.chat_tasks(chat_id)
        except WebUIClientError:
            return  # a server without the task list: nothing to say
        if running:
            self.notify(
                "An answer is still being generated in this chat; this server cannot stream it "
                "here: open the chat again later to read it",
                severity="warning",
                timeout=8,
            )

    def _render_chat(self, chat: ChatResponse) -> None:
        if self.chat is None or self.chat.id != chat.id:
            self.query_one("#stats", Static).update("")  # the last answer's, of another chat
        self.chat = chat
        self.model = chat_model(chat.chat) or self.model
        self.query_one("#chat-title", Static).update(chat.title)
        self.conversation.show(infos_of(chat.chat), EMPTY)
        self._show_top()

    # --- asking ---

    def on_composer_submitted(self, event: Composer.Submitted) -> None:
        if self.streaming:
            self.notify("An answer is still streaming: esc stops it", severity="warning")
            return
        files = self.files_items()
        if files is None:
            self.notify("A file is still being read: send again in a moment", severity="warning")
            self.composer.put(event.text)
            return
        parent: str | None = None
        if self.chat is not None:
            messages, current = history_of(self.chat.chat)
            parent = current
            if event.editing:
                parent = (messages.get(event.editing) or {}).get("parentId")
                self.conversation.show(infos_of(self.chat.chat, parent) if parent else [])
        images = [f for f in files if f.get("type") == "image"]
        documents = [f for f in files if f.get("type") != "image"]
        self.conversation.add(
            MessageInfo(
                id="",
                role="user",
                speaker="You",
                content=event.text,
                images=image_labels({"role": "user", "files": images}),
            )
        )
        extra = self.tool_extra({"files": documents} if documents else None)
        self._ask(event.text, parent, extra, images)
        self.clear_attachments()

    @work(exclusive=True, group="turn")
    async def _ask(
        self,
        text: str,
        parent: str | None,
        extra: dict[str, Any] | None,
        images: list[dict[str, Any]] | None = None,
    ) -> None:
        created = False
        try:
            # Asked before the model list arrived: the same choice the list would make.
            model = self.model or await self.client.pick_model()
            if not await self.client.server_turns():
                chat = at_leaf(self.chat, parent) if self.chat is not None else None
                turn = await begin_turn(self.client, chat, text, model, files=images)
                self.chat = turn.chat
                self.keep_tools_for(turn.chat_id)
                await self._client_turn(turn, extra)
                return
            if self.chat is None:
                self.chat = await self.client.new_chat(model)
                self.keep_tools_for(self.chat.id)
                created = True
            opened = self.client.stream_turn(
                self.chat.id, text, model, parent_id=parent, extra=extra, files=images
            )
            await self._stream(opened, model)
        except WebUIClientError as exc:
            self._problem(exc, "asking")
        finally:
            await self._after_turn(created)

    @work(exclusive=True, group="turn")
    async def _regenerate(self, user_message_id: str) -> None:
        if self.chat is None:
            return
        model = self.model or ""
        extra = self.tool_extra(None)  # a new answer may call the chat's tools too
        try:
            if not await self.client.server_turns():
                await self._client_turn(
                    answer_again(self.client, self.chat, user_message_id, model), extra
                )
                return
            opened = self.client.stream_regenerate(
                self.chat.id, user_message_id, model, extra=extra
            )
            await self._stream(opened, model)
        except WebUIClientError as exc:
            self._problem(exc, "regenerating")
        finally:
            await self._after_turn(False)

    def _reattach(self, chat_id: str, message_id: str, view: MessageView) -> None:
        self.notify("Re-attached to the answer still being generated")
        self._follow(chat_id, message_id, view)

    @work(exclusive=True, group="turn")
    async def _follow(self, chat_id: str, message_id: str, view: MessageView) -> None:
        try:
            opened = self.client.attach(chat_id, message_id, model=self.model or "")
            await self._stream(opened, self.model or "", view)
        except WebUIClientError as exc:
            self._problem(exc, "re-attaching")
        finally:
            await self._after_turn(False)

    async def _client_turn(self, turn: ClientTurn, extra: dict[str, Any] | None = None) -> None:
        """Stream a turn this client saves: then save all of the answer, what arrived before
        esc hung up, or what arrived with the error."""
        try:
            hung_up = await self._stream(turn.open(extra), turn.model, hangs_up=True)
        except WebUIClientError as exc:
            if await turn.abandon(exc):  # a new chat refused: it is gone
                self.chat = None
                self.conversation.show([], EMPTY)
            raise
        await turn.save(turn.stream, interrupted=hung_up)
        if hung_up:
            self.notify("Stopped; what arrived is saved")

    async def _stream(
        self,
        opened: AbstractAsyncContextManager[ChatStream],
        model: str,
        view: MessageView | None = None,
        *,
        hangs_up: bool = False,
    ) -> bool:
        """Read one answer into a message view, redrawing at most every 50 ms; whether esc
        hung up on it (`hangs_up`: esc stops it by hanging up, not by asking the server)."""
        conversation = self.conversation
        if view is None:
            info = MessageInfo(id="", role="assistant", speaker=model, content="")
            view = conversation.add(info)
        self.streaming = True
        self._show_top()
        conversation.begin_stream(view)
        started: float | None = None
        stream: ChatStream | None = None
        self._hung_up = False
        self._hang_up = get_current_worker().cancel if hangs_up else None
        try:
            async with opened as stream:
                view.info.id = stream.message_id or ""
                async for event in stream:
                    if isinstance(event, ContentDelta):
                        started = started or time.monotonic()
                        view.set_waiting("")
                        conversation.feed(event.text)
                    elif isinstance(event, Queued):
                        view.set_waiting(event.line())
                    elif isinstance(event, Sources):
                        view.info.sources = list(stream.sources)
                    elif isinstance(event, ToolActivity):  # a call the daemon runs, or its result
                        view.add_tool(event.item, conversation.streamed_length())
        except asyncio.CancelledError:
            if not self._hung_up:
                raise  # the screen is going away
            uncancel_current()  # we hung up: the worker goes on to save what arrived
        finally:
            self._hang_up = None
            view.set_waiting("")
            conversation.end_stream()
            self.streaming = False
            self._show_top()
        if stream is not None:
            seconds = time.monotonic() - started if started else None
            stats = usage_line(stream.usage, seconds)
            notes = [f"error: {stream.error}"] if stream.error else []
            view.set_stats(stats, notes)
            self.query_one("#stats", Static).update(stats)
        return self._hung_up

    async def _after_turn(self, created: bool) -> None:
        """Read the chat back (ids, branches, title) and the chat list."""
        if self.chat is None:
            return
        try:
            chat = await self.client.get_chat(self.chat.id)
            if created and not history_of(chat.chat)[0]:
                await self.client.delete_chat(chat.id)  # refused before anything was saved
                self.chat = None
                self.conversation.show([], EMPTY)
            else:
                self._render_chat(chat)
            await self._reload_list()
        except WebUIClientError as exc:
            self._problem(exc, "reloading the chat")

    def action_stop(self) -> None:
        sources = self.query_one(SourcesPanel)
        if self.close_picker():
            return
        if self.streaming and self._hang_up is not None:
            self._hung_up = True
            self._hang_up()
        elif self.streaming and self.chat is not None:
            self._stop(self.chat.id)
        elif sources.has_class("open"):
            sources.action_close()
        elif self.composer.cancel_edit():
            if self.chat is not None:
                self.conversation.show(infos_of(self.chat.chat), EMPTY)
        elif self.focused is not self.composer:
            self.composer.focus()

    @work(group="stop")
    async def _stop(self, chat_id: str) -> None:
        try:
            await self.client.stop_chat(chat_id)
            self.notify("Stopped; what arrived is saved")
        except WebUIClientError as exc:
            self._problem(exc, "stopping")

    def action_new_chat(self) -> None:
        if self.streaming:
            self.notify("An answer is still streaming: esc stops it", severity="warning")
            return
        self.chat = None
        self.query_one("#stats", Static).update("")
        self.query_one("#chat-title", Static).update("New chat")
        self.conversation.show([], EMPTY)
        self.composer.cancel_edit()
        self.composer.focus()

    def action_pick_model(self) -> None:
        self._pick_model()

    @work(group="model")
    async def _pick_model(self) -> None:
        try:
            models = await self.client.list_models()
        except WebUIClientError as exc:
            self._problem(exc, "listing models")
            return
        options = [(m.id, m.display_name) for m in models]
        chosen = await self.app.push_screen_wait(PickScreen("Model", options, self.model))
        if not chosen:
            return
        self.model = chosen
        self._show_top()
        if self.chat is not None:
            try:
                await self.client.update_chat(self.chat.id, {"models": [chosen]})
            except WebUIClientError as exc:
                self._problem(exc, "changing the model")
