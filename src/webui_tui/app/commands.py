"""The command palette's own commands (ctrl+p): the app's actions by name, each with its key
(read from the bindings, keymap applied), found by Textual's fuzzy matcher.

A chat command switches to the chat screen first, then runs the screen's action. Textual's
own commands (theme, quit, screenshot) follow the app's.
"""

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.help import key_text, own_bindings

if TYPE_CHECKING:
    from webui_tui.app.app import WebUIApp


@dataclass(frozen=True)
class Command:
    name: str
    action: str  # an action of the chat screen ("chat" in `where`) or of the app
    where: str = "chat"
    binding_id: str | None = None
    about: str = ""


COMMANDS = [
    Command("New chat", "new_chat", binding_id="chat.new"),
    Command("Pick the model", "pick_model", binding_id="chat.model", about="saved on the chat"),
    Command("Search chats", "search", binding_id="chat.search"),
    Command("Filter chats by tag", "filter_tag", binding_id="chat.tags"),
    Command(
        "Attach files",
        "attach('files')",
        binding_id="chat.attach",
        about="to the next message; paths or globs, uploaded and read by the server",
    ),
    Command(
        "Attach knowledge bases",
        "attach('knowledge')",
        binding_id="chat.attach",
        about="the next message is answered from them, with numbered sources",
    ),
    Command(
        "Pick tools for this chat",
        "pick_tools",
        binding_id="chat.tools",
        about="tool servers the model may call; their calls show in the answer",
    ),
    Command("Use a prompt from your library", "prompt_library", about="types / in the composer"),
    Command("Copy the last answer", "copy_last", about="to the clipboard (OSC 52)"),
    Command("Export the chat as Markdown", "export_chat", about="to a file"),
    Command("Regenerate the last answer", "regenerate_last", binding_id="chat.regenerate"),
    Command("Knowledge", "mode('knowledge')", "app", "app.knowledge", "knowledge bases, files"),
    Command("Admin", "mode('admin')", "app", "app.admin", "users, groups, connections, keys"),
    Command("Settings", "mode('settings')", "app", "app.settings", "default model, theme"),
    Command("Memories", "mode('memories')", "app", "app.memories", "what chats know about you"),
    Command("Chat", "mode('chat')", "app", "app.chat", "the chat screen"),
    Command("Keys and help", "help", "app", "app.help", "the keys of this screen"),
]


def command_help(app: "WebUIApp", command: Command) -> str:
    """`ctrl+n · what it does` (the key as bound now)."""
    owner = ChatScreen if command.where == "chat" else type(app)
    parts = []
    for binding in own_bindings(owner):
        if command.binding_id and binding.id == command.binding_id:
            parts.append(key_text(app, binding, app.config.keys))
            break
    if command.about:
        parts.append(command.about)
    return " · ".join(parts)


class WebUICommands(Provider):
    """The commands of `COMMANDS` in the palette."""

    @property
    def webui(self) -> "WebUIApp":
        return self.app  # type: ignore[return-value]  # only WebUIApp lists this provider

    def _runner(self, command: Command) -> Callable[[], Coroutine[Any, Any, None]]:
        return partial(self.webui.run_command, command.action, command.where)

    def _all(self) -> list[tuple[str, Callable[[], Any], str]]:
        """(name, what runs, help) of the app's commands, then of Textual's."""
        found: list[tuple[str, Callable[[], Any], str]] = [
            (c.name, self._runner(c), command_help(self.webui, c)) for c in COMMANDS
        ]
        found += [(c.title, c.callback, c.help) for c in self.app.get_system_commands(self.screen)]
        return found

    async def discover(self) -> Hits:
        for name, run, about in self._all():
            yield DiscoveryHit(name, run, help=about)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, about in self._all():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, text=name, help=about)
