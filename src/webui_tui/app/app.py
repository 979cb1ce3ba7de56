"""WebUIApp: the screens as modes, one place for failures, reconnecting, theme and keymap, the
help screen (F1, `?`) and the command palette's own commands (`commands.py`).

Built with a `TuiClient` (tests point one at a test daemon's socket); `webui tui` builds it
with discovery, the stored token and auto-start.
"""

import asyncio
import re
from collections.abc import Callable, Iterable
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette, Provider
from textual.screen import Screen

from webui_tui.app.commands import WebUICommands
from webui_tui.app.config import TuiConfig
from webui_tui.app.screens.admin import AdminScreen
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.help import HelpScreen, key_sections, title_of
from webui_tui.app.screens.knowledge import KnowledgeScreen
from webui_tui.app.screens.memories import MemoriesScreen
from webui_tui.app.screens.settings import SettingsScreen
from webui_tui.app.widgets.notice import Problem, Reconnected
from webui_tui.app.workers import ReportsWorkerFailures, work
from webui_tui.client.connect import client_turns_forced
from webui_tui.client.env_check import stale
from webui_tui.client.errors import DaemonUnreachable, WebUIClientError
from webui_tui.client.tui_extra import TuiClient

RECONNECT_EVERY_S = 1.0


class WebUIApp(ReportsWorkerFailures, App[None]):
    TITLE = "webui"
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {WebUICommands}
    # The footer shows what fits at its width, in this order after the screen's keys (F1 first).
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: F1 opens the help over a dialog too, and closes it again.
        Binding("f1", "help", "Help", id="app.help", priority=True),
        Binding("question_mark", "help", "Help", id="app.help_key", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding(
            "ctrl+p", "command_palette", "Commands", id="app.commands", show=False, priority=True
        ),
        Binding("f2", "mode('chat')", "Chat", id="app.chat"),
        Binding("f3", "mode('knowledge')", "Knowledge", id="app.knowledge"),
        Binding("f4", "mode('admin')", "Admin", id="app.admin"),
        Binding("f5", "mode('settings')", "Settings", id="app.settings"),
        # Priority: the chat's text area has f6 (select line) too.
        Binding("f6", "mode('memories')", "Memories", id="app.memories", priority=True),
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
        self._check_environment()

    @work(group="environment")
    async def _check_environment(self) -> None:
        """A provider URL this shell names that the daemon does not use: said once, at start
        (a model it serves would otherwise just be "not found")."""
        line = await stale(self.client)
        if line:
            self.notify(line, title="Provider settings", severity="warning", timeout=12)

    async def on_unmount(self) -> None:
        await self.client.aclose()

    async def action_mode(self, mode: str) -> None:
        if mode != self.current_mode:
            await self.switch_mode(mode)

    def get_key_display(self, binding: Binding) -> str:
        shown = super().get_key_display(binding)
        return shown.upper() if re.fullmatch(r"f\d+", shown) else shown  # F1, not f1

    # --- help and the command palette ---

    def action_help(self) -> None:
        """F1 and `?`: the keys of the screen shown (a second F1 closes them)."""
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        below: Screen[object] = next(
            s for s in reversed(self.screen_stack) if not isinstance(s, CommandPalette)
        )
        sections = key_sections(self, below, self.config.keys)
        self.push_screen(HelpScreen(title_of(below), sections))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # Textual's "Keys" panel is replaced by the help screen ("Keys and help").
        for command in super().get_system_commands(screen):
            if command.title not in {"Keys", "Maximize", "Minimize"}:
                yield command

    async def run_command(self, action: str, where: str) -> None:
        """A palette command: an app action, or a chat screen action run on that screen."""
        if where == "app":
            await self.run_action(action)
            return
        await self.action_mode("chat")
        await self.screen.run_action(action)

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
