"""The chat screen's tools: which tool servers the model may call in a chat (ctrl+s, or the
palette's "Pick tools for this chat"), sent as `tool_ids` with each message of that chat, as
`webui chat --tool` sends them.

`ToolPicking` is mixed into `ChatScreen`. The choice is kept per chat for this session (a new
chat's choice goes with it once it is created); the list offers the tool servers the user may
use (`GET /api/v1/tools/`).
"""

from typing import Any

from textual.screen import Screen

from webui_daemon.schemas.chats import ChatResponse
from webui_tui.app.screens.dialogs import ChooseManyScreen
from webui_tui.app.widgets.notice import Problem
from webui_tui.app.workers import work
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.tui_extra import TuiClient

NEW_CHAT = ""  # the key of the choice made before a chat exists


class ToolPicking(Screen[None]):
    """Needs `client` and `chat`; calls `_show_top` after a change."""

    client: TuiClient
    chat: ChatResponse | None
    _tool_choice: dict[str, list[str]] | None = None

    @property
    def _choices(self) -> dict[str, list[str]]:
        if self._tool_choice is None:
            self._tool_choice = {}
        return self._tool_choice

    def chat_tool_ids(self) -> list[str]:
        """The tool ids chosen for the chat shown now."""
        return list(self._choices.get(self.chat.id if self.chat else NEW_CHAT, []))

    def tool_extra(self, extra: dict[str, Any] | None) -> dict[str, Any] | None:
        """The request's extra body keys with this chat's `tool_ids`."""
        chosen = self.chat_tool_ids()
        if not chosen:
            return extra
        return {**(extra or {}), "tool_ids": chosen}

    def keep_tools_for(self, chat_id: str) -> None:
        """A new chat was created: the choice made for it goes with it."""
        if NEW_CHAT in self._choices:
            self._choices[chat_id] = self._choices.pop(NEW_CHAT)

    def tools_label(self) -> str:
        chosen = self.chat_tool_ids()
        return f"  · tools: {', '.join(chosen)}" if chosen else ""

    def action_pick_tools(self) -> None:
        self._pick_tools()

    @work(group="tools")
    async def _pick_tools(self) -> None:
        try:
            tools = await self.client.list_tools()
        except WebUIClientError as exc:
            self.post_message(Problem(exc, "listing tools"))
            return
        if not tools:
            self.notify("No tool servers you may use: an admin adds them (`webui tools add`)")
            return
        options = [(t.id, f"{t.name} ({t.id})") for t in tools]
        title = "Tools the model may call in this chat"
        chosen = await self.app.push_screen_wait(
            ChooseManyScreen(title, options, set(self.chat_tool_ids()))
        )
        if chosen is None:
            return
        self._choices[self.chat.id if self.chat else NEW_CHAT] = chosen
        self._show_top()
        said = f"Tools for this chat: {', '.join(chosen)}" if chosen else "No tools in this chat"
        self.notify(said)

    def _show_top(self) -> None:
        """Redraw the top bar (ChatScreen's, which mixes this class in)."""
        raise NotImplementedError
