"""The chat screen's message keys: moving between messages, branches (◀ ▶), edit,
regenerate, sources, and copying the last answer.

`MessageActions` is mixed into `ChatScreen`; the daemon is called only in its workers.
"""

from typing import Any

from textual.screen import Screen

from webui_daemon.schemas.chats import ChatResponse
from webui_tui.app.screens.chat_doc import infos_of
from webui_tui.app.tree import leaf_under, siblings
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.conversation import Conversation
from webui_tui.app.widgets.message_view import MessageView
from webui_tui.app.widgets.notice import Problem
from webui_tui.app.widgets.sources import SourcesPanel
from webui_tui.app.workers import work
from webui_tui.client.client_turns import save_tree
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.transcript import history_of
from webui_tui.client.tui_extra import TuiClient

EMPTY = "Ask anything. Enter sends, ctrl+j adds a line, ctrl+o picks the model."


class MessageActions(Screen[None]):
    """Needs `client`, `chat`, `streaming`, a `Conversation` and a `Composer`, and the
    screen's `_regenerate` worker."""

    client: TuiClient
    chat: ChatResponse | None
    streaming: bool

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    def _regenerate(self, user_message_id: str) -> object:
        """Stream a new answer to that user message (ChatScreen's worker)."""
        raise NotImplementedError

    def _problem(self, exc: BaseException, doing: str = "") -> None:
        self.post_message(Problem(exc, doing))

    def on_message_view_move_asked(self, event: MessageView.MoveAsked) -> None:
        views = self.conversation.views
        index = views.index(event.view) + event.step if event.view in views else -1
        if index < 0:
            first = self.conversation.load_earlier()
            if first is not None:
                self.call_after_refresh(self._focus_before, first)
            return
        if index >= len(views):
            self.composer.focus()
            return
        views[index].focus()
        self.conversation.scroll_to_widget(views[index], animate=False)

    def _focus_before(self, view: MessageView) -> None:
        views = self.conversation.views
        if view in views and views.index(view) > 0:
            views[views.index(view) - 1].focus()

    def on_message_view_branch_asked(self, event: MessageView.BranchAsked) -> None:
        if self.chat is None or self.streaming:
            return
        messages, _ = history_of(self.chat.chat)
        sibs = siblings(messages, event.message_id)
        if len(sibs) < 2 or event.message_id not in sibs:
            return
        chosen = sibs[(sibs.index(event.message_id) + event.step) % len(sibs)]
        leaf = leaf_under(messages, chosen)
        self.chat.chat.setdefault("history", {})["currentId"] = leaf
        self.conversation.show(infos_of(self.chat.chat), EMPTY)
        view = self.conversation.view_of(chosen)
        if view is not None:
            view.focus()
        self._save_current(self.chat, leaf)

    @work(group="branch")
    async def _save_current(self, chat: ChatResponse, leaf: str) -> None:
        try:
            if await self.client.server_turns():
                await self.client.set_current(chat.id, leaf)
            else:  # Open WebUI replaces `history` whole: send all of it
                await save_tree(self.client, chat.id, chat.chat)
        except WebUIClientError as exc:
            self._problem(exc, "switching branch")

    def on_message_view_action_asked(self, event: MessageView.ActionAsked) -> None:
        if self.chat is None:
            return
        messages, _ = history_of(self.chat.chat)
        message: dict[str, Any] = messages.get(event.message_id) or {}
        if event.action == "sources":
            view = self.conversation.view_of(event.message_id)
            self.query_one(SourcesPanel).show_sources(view.info.sources if view else [])
        elif event.action == "edit":
            if message.get("role") != "user":
                self.notify("Only your own messages can be edited", severity="warning")
                return
            self.composer.start_edit(event.message_id, str(message.get("content") or ""))
        elif event.action == "regenerate":
            self._regenerate_from(message)

    def _regenerate_from(self, message: dict[str, Any]) -> None:
        if self.streaming or self.chat is None:
            return
        user_id = message.get("id") if message.get("role") == "user" else message.get("parentId")
        if not user_id:
            return
        self.conversation.show(infos_of(self.chat.chat, str(user_id)))
        self._regenerate(str(user_id))

    def action_regenerate_last(self) -> None:
        if self.chat is None:
            return
        messages, current = history_of(self.chat.chat)
        if current and current in messages:
            self._regenerate_from(messages[current])

    def action_last_message(self) -> None:
        views = self.conversation.views
        if views:
            views[-1].focus()
            self.conversation.scroll_end(animate=False)

    def action_copy_last(self) -> None:
        answers = [v for v in self.conversation.views if v.info.role == "assistant"]
        if not answers or not answers[-1].info.content:
            self.notify("No answer to copy yet", severity="warning")
            return
        answers[-1].action_copy()
