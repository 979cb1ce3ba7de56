"""The form a picked prompt's input variables are asked in (`{{topic}}`, `{{tone | select:...}}`),
one field per variable as Open WebUI's web UI asks them: a line, a text area or a choice."""

import re
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from webui_tui.client.templates import default_of, options_of

CLIPBOARD = "CLIPBOARD"
# What a line of each HTML input type of the web UI's form expects, where that needs saying.
FORMATS = {
    "date": "YYYY-MM-DD",
    "time": "HH:MM",
    "datetime-local": "YYYY-MM-DD HH:MM",
    "month": "YYYY-MM",
    "week": "YYYY-Www",
    "color": "#rrggbb",
    "email": "name@example.com",
    "url": "https://…",
    "map": "latitude, longitude",
}
NUMERIC = ("number", "range")


def in_text_order(text: str, variables: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The variables in the order they first stand in `text` (the form asks them so)."""

    def first(name: str) -> int:
        found = re.search(r"{{\s*" + re.escape(name) + r"\s*[|}]", text)
        return found.start() if found else len(text)

    return dict(sorted(variables.items(), key=lambda item: first(item[0])))


class PromptInputsScreen(ModalScreen[dict[str, str] | None]):
    """Answers each variable's value (every variable, empty where left empty) on Submit, ctrl+s
    or enter on the last line; None on Cancel or escape. Required fields must be filled."""

    DEFAULT_CSS = """
    PromptInputsScreen { align: center middle; }
    PromptInputsScreen > VerticalScroll {
        width: 70; max-width: 95%; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    PromptInputsScreen .field-label { margin-top: 1; }
    PromptInputsScreen Input, PromptInputsScreen Select { background: $boost; }
    PromptInputsScreen TextArea { height: 4; background: $boost; }
    PromptInputsScreen #form-error { color: $error; display: none; }
    PromptInputsScreen #form-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    PromptInputsScreen Button { margin-left: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Submit", priority=True),
    ]

    def __init__(
        self,
        title: str,
        variables: dict[str, dict[str, Any]],
        *,
        clipboard: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.variables = variables
        self.clipboard = clipboard
        self.fields: list[tuple[str, dict[str, Any], Widget]] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Content.assemble((self.title_text, "bold")))
            yield Static(Content("ctrl+s or Submit fills them in; esc leaves them as they are"))
            for index, (name, spec) in enumerate(self.variables.items()):
                field = self._field(f"field-{index}", name, spec)
                self.fields.append((name, spec, field))
                yield Label(self._label(name, spec), classes="field-label")
                yield field
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Submit", variant="primary", id="submit")
                yield Button("Cancel", id="cancel")

    @staticmethod
    def _label(name: str, spec: dict[str, Any]) -> Content:
        kind = str(spec.get("type") or "text")
        shown = "Clipboard (paste the text)" if name == CLIPBOARD else name
        parts: list[str | tuple[str, str]] = [(shown, "bold")]
        if kind not in ("text", ""):
            parts.append((f"  {kind}", "dim"))
        if spec.get("required") is True:
            parts.append(("  required", "italic"))
        return Content.assemble(*parts)

    def _field(self, widget_id: str, name: str, spec: dict[str, Any]) -> Widget:
        kind = str(spec.get("type") or "text")
        default = default_of(spec)
        if name == CLIPBOARD and default is None:
            default = self.clipboard
        if kind == "select":
            options = options_of(spec)
            value = default if default in options else Select.NULL
            return Select([(o, o) for o in options], value=value, id=widget_id, compact=True)
        if kind == "checkbox":
            return Checkbox(name, value=str(default).lower() == "true", id=widget_id)
        if kind == "textarea" or name == CLIPBOARD:
            return TextArea(default or "", id=widget_id, soft_wrap=True, compact=True)
        placeholder = str(spec.get("placeholder") or FORMATS.get(kind, ""))
        return Input(
            default or "",
            placeholder=placeholder,
            type="number" if kind in NUMERIC else "text",
            id=widget_id,
            compact=True,
        )

    def on_mount(self) -> None:
        if self.fields:
            self.fields[0][2].focus()

    @staticmethod
    def _value(field: Widget) -> str:
        if isinstance(field, Select):
            return "" if field.value is Select.NULL else str(field.value)
        if isinstance(field, Checkbox):
            return "true" if field.value else "false"
        if isinstance(field, TextArea):
            return field.text
        if isinstance(field, Input):
            return field.value
        return ""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter on a line goes to the next field; on the last one it submits."""
        event.stop()
        widgets = [field for _, _, field in self.fields]
        index = widgets.index(event.input) if event.input in widgets else len(widgets) - 1
        if index + 1 < len(widgets):
            widgets[index + 1].focus()
        else:
            self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        values = {name: self._value(field) for name, _, field in self.fields}
        for name, spec, field in self.fields:
            if spec.get("required") is True and not values[name].strip():
                error = self.query_one("#form-error", Static)
                error.update(Content(f"{name} is required"))
                error.display = True
                field.focus()
                return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
