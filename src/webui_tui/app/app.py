"""WebUIApp: the screens as modes, one place for failures, reconnecting, theme and keymap.

Built with a `TuiClient` (tests point one at a test daemon's socket); `webui tui` builds it
with discovery, the stored token and auto-start.
"""

import asyncio
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from webui_tui.app.config import TuiConfig
from webui_tui.app.screens.admin import AdminScreen
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.knowledge import KnowledgeScreen
from webui_tui.app.screens.memories import MemoriesScreen
from webui_tui.app.screens.settings import SettingsScreen
from webui_tui.app.widgets.notice import Problem, Reconnected
from webui_tui.app.workers import ReportsWorkerFailures, work
from webui_tui.client.connect import client_turns_forced
from webui_tui.client.errors import DaemonUnreachable, WebUIClientError
from webui_tui.client.tui_extra import TuiClient

RECONNECT_EVERY_S = 1.0


class WebUIApp(ReportsWorkerFailures, App[None]):
    TITLE = "webui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "mode('chat')", "Chat", id="app.chat"),
        Binding("f3", "mode('knowledge')", "Knowledge", id="app.knowledge"),
        Binding("f4", "mode('admin')", "Admin", id="app.admin"),
        Binding("f5", "mode('settings')", "Settings", id="app.settings"),
        # Not in the footer (its line is full at 80 columns): Settings and the guide name it.
        # Priority: the chat's text area has f6 (select line) too.
        Binding("f6", "mode('memories')", "Memories", id="app.memories", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(
        self,
        client: TuiClient,
        *,
        config: TuiConfig | None = None,
        start_mode: str = "chat",
    ) -> None:
        super().__init__()
        self.client = client
        # `WEBUI_CLIENT_TURNS=1`: turns saved from the client, as `webui chat` does with it.
        client.client_turns = client.client_turns or client_turns_forced()
        self.config = config or TuiConfig.load()
        self.start_mode = start_mode
        self._reconnecting = False
        self.add_mode("chat", lambda: ChatScreen(client))
        self.add_mode("knowledge", lambda: KnowledgeScreen(client))
        self.add_mode("admin", lambda: AdminScreen(client))
        self.add_mode("settings", lambda: SettingsScreen(client, self.config))
        self.add_mode("memories", lambda: MemoriesScreen(client))
        if self.config.keys:
            self.set_keymap(self.config.keys)

    def on_mount(self) -> None:
        if self.config.theme and self.config.theme in self.available_themes:
            self.theme = self.config.theme
        self.switch_mode(self.start_mode)

    async def on_unmount(self) -> None:
        await self.client.aclose()

    async def action_mode(self, mode: str) -> None:
        if mode != self.current_mode:
            await self.switch_mode(mode)

    # --- the one place failures are shown ---

    def on_problem(self, event: Problem) -> None:
        error = event.error
        text = error.message if isinstance(error, WebUIClientError) else str(error)
        if event.doing:
            text = f"{event.doing}: {text}"
        if isinstance(error, DaemonUnreachable):
            if self._reconnecting:
                return
            self._reconnecting = True
            self.notify(
                f"{text}. Reconnecting…", title="Daemon gone", severity="error", timeout=3600
            )
            self._reconnect()
        else:
            self.notify(text, title="Problem", severity="error", timeout=8)

    @work(exclusive=True, group="reconnect")
    async def _reconnect(self) -> None:
        while True:
            await asyncio.sleep(RECONNECT_EVERY_S)
            try:
                if await self.client.health():
                    break
            except WebUIClientError:
                continue
        self._reconnecting = False
        self.clear_notifications()
        self.notify("Reconnected to the daemon")
        self.screen.post_message(Reconnected())
