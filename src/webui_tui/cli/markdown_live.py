"""Streaming Markdown on a terminal without flicker or repeated lines (imports rich).

Finished blocks (cut where `webui_tui.markdown_blocks` says, as in the TUI) are printed once,
above a small live region that shows only the block still being written. What is printed is
what rich draws for the whole answer, less its leading and trailing blank lines. The live
region is cut to its last lines so it always fits on the screen: a region taller than the
screen cannot be redrawn in place, which is what makes naive "re-render everything" streaming
repeat lines in the scrollback.
"""

import asyncio
import time

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment
from rich.text import Text

from webui_tui.cli.tty_echo import EchoOff
from webui_tui.markdown_blocks import BlockSplitter, flag_edges

REFRESH_PER_SECOND = 15
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


class _Lines:
    """Rendered lines, drawn as they are."""

    def __init__(self, lines: list[list[Segment]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        newline = Segment.line()
        for line in self.lines:
            yield from line
            yield newline


class _Region:
    """The live region, drawn from the writer's state whenever rich draws it (so a block
    printed above it never leaves the region showing that block again)."""

    def __init__(self, writer: "MarkdownWriter") -> None:
        self.writer = writer

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.writer.region()


class MarkdownWriter:
    """Renders the answer block by block; see the module docstring.

    Everything is drawn from the caller's thread (no refresh thread): rich draws a live region
    from a second thread without ordering its writes against prints from the first, which
    leaves stale copies of the region in the scrollback. Redraws are throttled, and a redraw
    still owed is scheduled on the running event loop.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self._splitter = BlockSplitter()
        self._thinking: list[str] = []
        self._printed = False  # a line that is not blank has been printed
        self._held: list[list[Segment]] = []  # blank lines after it, printed if more follows
        self._flag = False  # rich's blank-line flag after what is printed (flag_edges)
        self._started = False
        self._finished = False
        self._last_draw = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._echo = EchoOff()
        self._live = Live(
            _Region(self),
            console=self.console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    @property
    def rest(self) -> str:
        """The source of the open block (in the live region); the text before it is printed."""
        return self._splitter.rest

    def _room(self) -> int:
        # One line spare: the cursor sits below the region.
        return max(2, self.console.size.height - 2)

    def _layout(self, source: str) -> tuple[list[list[Segment]], list[list[Segment]], bool | None]:
        """The lines `source` adds below what is printed, the blank lines at their end (held
        back), and the flag it leaves: together, what rich draws for the whole text, trimmed."""
        part = Markdown(source)
        lines = self.console.render_lines(part, self.console.options, pad=False)
        reads, leaves = flag_edges(part.parsed)
        if reads and self._flag:
            lines.insert(0, [])
        lines = self._held + lines
        start, end = 0, len(lines)
        while not self._printed and start < end and _blank(lines[start]):
            start += 1
        while end > start and _blank(lines[end - 1]):
            end -= 1
        return lines[start:end], lines[end:], leaves

    def region(self) -> RenderableType:
        """The live region: the open block (or the model's thinking), cut to fit the screen."""
        if self._finished:
            return Text("")
        rest = self._splitter.rest
        if rest.strip():
            lines = self._layout(rest)[0]
            return _Lines(lines[-self._room() :])
        if self._thinking and not self._printed:
            thought = Text("".join(self._thinking).strip(), style="dim italic")
            return Trimmed(thought, last=min(THINKING_LINES, self._room()))
        return Text("")

    def _changed(self) -> None:
        if not self._started:
            # Started with the first token: an error before it leaves the terminal untouched.
            self._started = True
            self._echo.start()  # a ^C echoed into the region would leave a stale line
            self._live.start()
        wait = self._last_draw + 1 / REFRESH_PER_SECOND - time.monotonic()
        if wait <= 0:
            self._draw()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(wait, self._draw)
            except RuntimeError:
                self._draw()  # no event loop to come back later: draw now

    def _draw(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._finished:
            return
        self._live.refresh()
        self._last_draw = time.monotonic()

    def content(self, text: str) -> None:
        blocks = self._splitter.feed(text)
        if blocks:
            self._print("".join(blocks))
        self._changed()

    def reasoning(self, text: str) -> None:
        if self._splitter.rest or self._printed:
            return  # the answer has started: thinking is no longer shown
        self._thinking.append(text)
        self._changed()

    def _print(self, source: str) -> None:
        lines, self._held, leaves = self._layout(source)
        if leaves is not None:
            self._flag = leaves
        if lines:
            self._printed = True  # before printing, which redraws the region below
            self._live.console.print(_Lines(lines))

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._started:
            self._live.refresh()
            self._live.stop()
        self._print(self._splitter.close())
        self._echo.stop()
