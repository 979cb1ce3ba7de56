"""Streaming Markdown on a terminal without flicker or repeated lines (imports rich).

Finished blocks (see `blocks.BlockSplitter`) are printed once, above a small live region that
shows only the block still being written. The live region is cut to its last lines so it
always fits on the screen: a region taller than the screen cannot be redrawn in place, which
is what makes naive "re-render everything" streaming repeat lines in the scrollback.
"""

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment
from rich.text import Text

from webui_tui.cli.blocks import BlockSplitter

REFRESH_PER_SECOND = 12
THINKING_LINES = 4


def _blank(line: list[Segment]) -> bool:
    return all(not seg.text.strip() and not (seg.style and seg.style.bgcolor) for seg in line)


class Trimmed:
    """A renderable without its leading and trailing blank lines, optionally only its tail."""

    def __init__(self, renderable: RenderableType, last: int | None = None) -> None:
        self.renderable = renderable
        self.last = last

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.renderable, options, pad=False)
        start, end = 0, len(lines)
        while start < end and _blank(lines[start]):
            start += 1
        while end > start and _blank(lines[end - 1]):
            end -= 1
        if self.last is not None:
            start = max(start, end - self.last)
        newline = Segment.line()
        for line in lines[start:end]:
            yield from line
            yield newline


class MarkdownWriter:
    """Renders the answer block by block; see the module docstring."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self._splitter = BlockSplitter()
        self._thinking: list[str] = []
        self._printed = False
        self._started = False
        self._finished = False
        self._live = Live(
            console=self.console,
            auto_refresh=True,
            refresh_per_second=REFRESH_PER_SECOND,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def _update(self, renderable: RenderableType) -> None:
        if not self._started:
            # Started with the first token: an error before it leaves the terminal untouched.
            self._started = True
            self._live.start()
        self._live.update(renderable)

    def _room(self) -> int:
        # One line spare: the cursor sits below the region.
        return max(2, self.console.size.height - 2)

    def content(self, text: str) -> None:
        for block in self._splitter.feed(text):
            self._print_block(block)
        rest = self._splitter.rest
        if not rest.strip():
            self._update(Text(""))
        elif self._printed:  # the blank line that will separate it from the block above
            self._update(Group(Text(""), Trimmed(Markdown(rest), last=self._room() - 1)))
        else:
            self._update(Trimmed(Markdown(rest), last=self._room()))

    def reasoning(self, text: str) -> None:
        if self._splitter.rest or self._printed:
            return  # the answer has started: thinking is no longer shown
        self._thinking.append(text)
        thought = Text("".join(self._thinking).strip(), style="dim italic")
        self._update(Trimmed(thought, last=min(THINKING_LINES, self._room())))

    def _print_block(self, block: str) -> None:
        if not block.strip():
            return
        if self._printed:
            self._live.console.print()
        self._live.console.print(Trimmed(Markdown(block)))
        self._printed = True

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._started:
            self._live.update(Text(""), refresh=True)
            self._live.stop()
        self._print_block(self._splitter.close())
