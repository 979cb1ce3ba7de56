"""Settings: your default model and memory switch (kept by the server), the theme and where
keybindings live.

The theme is saved in the TUI's config file; keybinding overrides are edited there by hand
(`[keys]`, binding id = keys) and read when the app starts.
"""

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Select, Static, Switch

from webui_tui.app.config import TuiConfig, config_path
from webui_tui.app.widgets.keys_footer import KeysFooter
from webui_tui.app.widgets.notice import Problem, Reconnected
from webui_tui.app.workers import ReportsWorkerFailures, work
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.tui_extra import TuiClient

KEYS_HELP = """Keybindings: add overrides to {path}
  [keys]
  "app.quit" = "ctrl+q,f10"
Binding ids: chat.new chat.model chat.search chat.chats chat.messages chat.regenerate
chat.stop message.prev_branch message.next_branch message.regenerate message.edit
message.copy message.copy_code chats.rename chats.delete chats.pin chats.archive
chats.tag chats.export memories.new memories.edit memories.delete app.chat app.knowledge
app.admin app.settings app.memories app.quit"""


class SettingsScreen(ReportsWorkerFailures, Screen[None]):
    CSS_PATH = "settings.tcss"

    def __init__(self, client: TuiClient, config: TuiConfig) -> None:
        super().__init__()
        self.client = client
        self.config = config
        self._loading = True

    def compose(self) -> ComposeResult:
        yield Static("webui · Settings", id="topbar")
        with VerticalScroll(id="form"):
            yield Label("Default model (new chats)")
            yield Select[str]([], id="default-model", prompt="(first listed)")
            yield Label("Memory: give chats what you asked to be remembered (F6 manages it)")
            yield Switch(value=False, id="memory")
            yield Label("Theme")
            themes = sorted(self.app.available_themes)
            yield Select[str](
                ((name, name) for name in themes),
                id="theme",
                allow_blank=False,
                value=self.app.theme,
            )
            yield Static(KEYS_HELP.format(path=self.config.path or config_path()), id="keys-help")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load()

    def on_reconnected(self, _: Reconnected) -> None:
        self.load()

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        self._loading = True
        try:
            models = await self.client.list_models()
            current = await self.client.default_model()
            memory = await self.client.memory_enabled()
        except WebUIClientError as exc:
            self.post_message(Problem(exc, "loading settings"))
            return
        select = self.query_one("#default-model", Select)
        select.set_options((m.display_name, m.id) for m in models)
        if current in {m.id for m in models}:
            select.value = current
        self.query_one("#memory", Switch).value = memory
        self.call_after_refresh(self._loaded)

    def _loaded(self) -> None:
        self._loading = False

    @on(Select.Changed, "#default-model")
    def _model_changed(self, event: Select.Changed) -> None:
        if self._loading:
            return
        value = event.value if isinstance(event.value, str) else None
        self.save_model(value)

    @work(exclusive=True, group="save")
    async def save_model(self, model_id: str | None) -> None:
        try:
            await self.client.set_default_model(model_id)
        except WebUIClientError as exc:
            self.post_message(Problem(exc, "saving the default model"))
            return
        self.notify(f"Default model: {model_id or '(first listed)'}")

    @on(Switch.Changed, "#memory")
    def _memory_changed(self, event: Switch.Changed) -> None:
        if not self._loading:
            self.save_memory(event.value)

    @work(exclusive=True, group="save-memory")
    async def save_memory(self, enabled: bool) -> None:
        try:
            await self.client.set_memory_enabled(enabled)
        except WebUIClientError as exc:
            self.post_message(Problem(exc, "saving the memory setting"))
            return
        self.notify("Memory on: chats get your memories" if enabled else "Memory off")

    @on(Select.Changed, "#theme")
    def _theme_changed(self, event: Select.Changed) -> None:
        if not isinstance(event.value, str) or event.value == self.app.theme:
            return  # the value it was mounted with
        self.app.theme = event.value
        self.config.theme = event.value
        try:
            path = self.config.save()
        except OSError as exc:
            self.post_message(Problem(exc, "saving the theme"))
            return
        self.notify(f"Theme {event.value} saved in {path}")
