"""The prompt picker over the composer: the user's prompts whose command or name holds what
follows the `/`, or one line saying why there is nothing to pick."""

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from webui_daemon.schemas.prompts import Prompt

SHOWN = 50  # at most this many matches are listed (the list scrolls)


def matching(prompts: list[Prompt], query: str) -> list[Prompt]:
    """Active prompts whose command or name contains `query` (any case); the commands that
    start with it first, each group in the server's order."""
    wanted = query.lower()
    found = [
        p
        for p in prompts
        if p.is_active and (wanted in p.command.lower() or wanted in p.name.lower())
    ]
    return sorted(found, key=lambda p: not p.command.lower().startswith(wanted))


class PromptPicker(Vertical):
    """Hidden until `show_matches` or `show_note`; never takes the focus (the composer keeps it
    and hands over ↑ ↓ enter tab while there are matches)."""

    DEFAULT_CSS = """
    PromptPicker { display: none; height: auto; max-height: 8; padding: 0 1;
                   border-top: solid $primary 40%; border-title-color: $text-muted; }
    PromptPicker.open { display: block; }
    PromptPicker > Static { color: $text-muted; }
    PromptPicker > OptionList { height: auto; max-height: 7; border: none; padding: 0; }
    PromptPicker > OptionList > .option-list--option-highlighted {
        color: $block-cursor-foreground; background: $block-cursor-background;
        text-style: $block-cursor-text-style;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.matches: list[Prompt] = []
        self.border_title = "Prompts: ↑↓ enter/tab picks, esc closes"

    def compose(self) -> ComposeResult:
        yield Static("", id="picker-note")
        options = OptionList(id="picker-options")
        options.can_focus = False
        yield options

    @property
    def is_open(self) -> bool:
        return self.has_class("open")

    @property
    def has_matches(self) -> bool:
        return self.is_open and bool(self.matches)

    def show_matches(self, prompts: list[Prompt], query: str) -> None:
        """List what matches `query`, the first highlighted; a note when nothing does."""
        self.matches = matching(prompts, query)[:SHOWN]
        if not self.matches:
            anything = any(p.is_active for p in prompts)
            self.show_note(f"No prompt matches /{query}" if anything else "No prompts yet")
            return
        options = self.query_one(OptionList)
        options.set_options(
            Option(Content.assemble(("/" + p.command, "bold"), "  ", (p.name, "dim")))
            for p in self.matches
        )
        options.highlighted = 0
        options.display = True
        self.query_one(Static).display = False
        self.add_class("open")

    def show_note(self, text: str) -> None:
        """One line instead of a list (loading, nothing there, a failure)."""
        self.matches = []
        self.query_one(OptionList).display = False
        note = self.query_one(Static)
        note.update(Content(text))
        note.display = True
        self.add_class("open")

    def close(self) -> bool:
        """Hide; whether it was open."""
        was_open = self.is_open
        self.matches = []
        self.remove_class("open")
        return was_open

    def move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self.matches:
            current = options.highlighted or 0
            options.highlighted = (current + step) % len(self.matches)

    @property
    def chosen(self) -> Prompt | None:
        index = self.query_one(OptionList).highlighted
        if not self.matches or index is None or index >= len(self.matches):
            return None
        return self.matches[index]
