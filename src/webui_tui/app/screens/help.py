"""The help screen (F1, `?`): the keys of the screen below, read from the BINDINGS of the app,
that screen and the widgets on it (keymap overrides from `tui.toml` applied), never a copy.

A widget whose keys are handled in code rather than bound (the composer's enter, `/`) lists
them in `HELP_KEYS` next to that code; `HELP_TITLE` names a section.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

OUR_PACKAGE = "webui_tui."
KEYS_WIDTH = 12  # the keys column (wider keys widen it)


@dataclass
class KeySection:
    title: str
    rows: list[tuple[str, str]]  # (keys as shown, what they do)


def own_bindings(cls: type) -> list[Binding]:
    """The bindings this project's classes in `cls`'s MRO declare (Textual's own are left out:
    cursor keys of a text area are not this app's keys), base classes first."""
    found: list[Binding] = []
    for klass in reversed(cls.__mro__):
        if not klass.__module__.startswith(OUR_PACKAGE) or "BINDINGS" not in klass.__dict__:
            continue
        declared: Iterable[BindingType] = klass.__dict__["BINDINGS"]
        for item in declared:
            found.append(item if isinstance(item, Binding) else Binding(*item))
    return found


def key_text(app: App[Any], binding: Binding, keymap: dict[str, str]) -> str:
    """The binding's keys as the footer writes them (`^n`, `F1`), the keymap's if it has one."""
    keys = keymap.get(binding.id or "", binding.key).split(",")
    if binding.key_display and len(keys) == 1 and keys[0] == binding.key:
        return binding.key_display
    shown = [app.get_key_display(replace(binding, key=k.strip(), key_display=None)) for k in keys]
    return " ".join(shown)


def title_of(node: DOMNode | type) -> str:
    cls = node if isinstance(node, type) else type(node)
    title = getattr(cls, "HELP_TITLE", None)
    if isinstance(title, str):
        return title
    words = re.findall(r"[A-Z][a-z]*", cls.__name__.removesuffix("Screen")) or [cls.__name__]
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def section_of(
    app: App[Any], cls: type, keymap: dict[str, str], title: str | None = None
) -> KeySection:
    rows: dict[tuple[str, str], list[str]] = {}
    for binding in own_bindings(cls):
        if not binding.description:
            continue
        rows.setdefault((binding.action, binding.tooltip or binding.description), []).append(
            key_text(app, binding, keymap)
        )
    extra = [
        (" ".join(app.get_key_display(Binding(key, "")) for key in keys.split()), description)
        for keys, description in getattr(cls, "HELP_KEYS", [])
    ]
    lines = [(" ".join(keys), description) for (_, description), keys in rows.items()]
    return KeySection(title or title_of(cls), lines + extra)


def key_sections(app: App[Any], screen: Screen[object], keymap: dict[str, str]) -> list[KeySection]:
    """The screen's keys, its widgets' (those mounted and those it names in `HELP_WIDGETS`),
    then the app's (`Everywhere`); empty sections left out."""
    classes: list[type] = []
    named: Iterable[type] = getattr(screen, "HELP_WIDGETS", ())
    for cls in [*named, *(type(node) for node in screen.walk_children())]:
        if cls not in classes and cls.__module__.startswith(OUR_PACKAGE):
            classes.append(cls)
    sections = [section_of(app, type(screen), keymap)]
    sections += [section_of(app, cls, keymap) for cls in classes]
    sections.append(section_of(app, type(app), keymap, "Everywhere"))
    return [s for s in sections if s.rows]


class HelpScreen(ModalScreen[None]):
    """The keys, section by section; escape, F1 or `?` closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 76; max-width: 100%; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-keys { height: 1fr; }
    HelpScreen #help-hint { color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark", "close", "Close help", show=False),
    ]

    def __init__(self, title: str, sections: list[KeySection]) -> None:
        super().__init__()
        self.title_text = title
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll(id="help-keys"):
                yield Static(self.table(), id="help-table")
            yield Static("esc or F1 closes · ↑ ↓ scroll · ctrl+p: every command", id="help-hint")

    def on_mount(self) -> None:
        box = self.query_one(Vertical)
        box.border_title = f"Keys: {self.title_text}"
        self.query_one("#help-keys").focus()

    def table(self) -> Group:
        parts: list[RenderableType] = []
        for index, section in enumerate(self.sections):
            title = Text(("\n" if index else "") + section.title, style="bold underline")
            table = Table.grid(padding=(0, 2))
            table.add_column(style="bold", no_wrap=True, min_width=KEYS_WIDTH)
            table.add_column()
            for keys, description in section.rows:
                table.add_row(keys, description)
            parts += [title, table]
        return Group(*parts)

    def action_close(self) -> None:
        self.dismiss(None)
