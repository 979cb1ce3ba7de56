"""The sources panel: `[N]` in an answer is the Nth document listed here."""

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from webui_daemon.schemas.citations import number_sources


class SourcesPanel(VerticalScroll):
    """Hidden until a message's sources are asked for (`s`); escape or `s` hides it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,s", "close", "Close sources")]

    DEFAULT_CSS = """
    SourcesPanel { display: none; width: 34; border-left: solid $primary; padding: 0 1; }
    SourcesPanel.open { display: block; }
    SourcesPanel > .source { margin-bottom: 1; }
    """

    def show_sources(self, sources: list[dict[str, Any]]) -> None:
        self.remove_children()
        entries = number_sources(sources)
        widgets = [Static(Text("Sources", style="bold"))]
        for citation in entries:
            text = Text(f"[{citation.number}] ", style="bold")
            text.append(citation.name, style="underline")
            short = " ".join(citation.snippet.split())
            text.append("\n" + (short[:160] + ("…" if len(short) > 160 else "")), style="dim")
            widgets.append(Static(text, classes="source"))
        if not entries:
            widgets.append(Static("This answer has no sources."))
        self.mount_all(widgets)
        self.add_class("open")
        self.focus()

    def action_close(self) -> None:
        self.remove_class("open")
        self.screen.focus_next()
