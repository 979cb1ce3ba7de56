"""The attach dialog (ctrl+b): tick knowledge bases, name files (paths or globs) for the next
message. Enter attaches, escape cancels; a path that names no file keeps the dialog open."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, SelectionList, Static

from webui_tui.app.screens.dialogs import DIALOG_CSS
from webui_tui.app.screens.knowledge import expand_paths


@dataclass
class AttachChoice:
    knowledge: list[str] = field(default_factory=list)  # the ticked base ids, in list order
    files: list[Path] = field(default_factory=list)


class AttachScreen(ModalScreen[AttachChoice | None]):
    """Answers the ticked bases and the files named; None on escape."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="AttachScreen")
        + """
    AttachScreen SelectionList { height: auto; max-height: 8; }
    AttachScreen Label { margin-bottom: 0; }
    AttachScreen #paths { margin-bottom: 1; }
    AttachScreen #attach-error { color: $error; }
    AttachScreen #attach-hint { color: $text-muted; }
    """
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "save", "Attach", priority=True),
    ]

    def __init__(
        self, bases: list[tuple[str, str]], ticked: set[str], *, focus: str = "knowledge"
    ) -> None:
        super().__init__()
        self.bases = bases
        self.ticked = ticked
        self.focus_on = focus

    def compose(self) -> ComposeResult:
        with Vertical():
            if self.bases:
                yield Label("Knowledge bases [dim](space ticks)[/dim]")
                yield SelectionList[str](
                    *((name, kb_id, kb_id in self.ticked) for kb_id, name in self.bases),
                    id="bases",
                )
            else:
                yield Label("No knowledge bases yet (F3 makes one)")
            yield Label("Files [dim](paths or globs, space-separated)[/dim]")
            yield Input(placeholder="~/notes/*.md report.pdf", id="paths")
            yield Static("", id="attach-error")
            yield Static("enter attaches · tab moves · esc cancels", id="attach-hint")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Attach to the next message"
        lists = self.query(SelectionList)
        if self.focus_on == "knowledge" and lists:
            lists.first().focus()
        else:
            self.query_one("#paths", Input).focus()

    def action_save(self) -> None:
        text = self.query_one("#paths", Input).value
        missing = [part for part in text.split() if not expand_paths(part)]
        if missing:
            self.query_one("#attach-error", Static).update(f"No such file: {' '.join(missing)}")
            return
        lists = self.query(SelectionList)
        ticked = set(lists.first().selected) if lists else set()
        knowledge = [kb_id for kb_id, _ in self.bases if kb_id in ticked]
        self.dismiss(AttachChoice(knowledge, expand_paths(text)))

    def action_cancel(self) -> None:
        self.dismiss(None)
