"""Streaming Markdown on a terminal without flicker or repeated lines (imports rich).

Finished blocks (see `blocks.BlockSplitter`) are printed once, above a small live region that
shows only the block still being written. The live region is cut to its last lines so it
always fits on the screen: a region taller than the screen cannot be redrawn in place, which
is what makes naive "re-render everything" streaming repeat lines in the scrollback.
"""

import asyncio
import time

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.live import Live
from rich.markdown import Markdown
from rich.segment import Segment
from rich.text import Text

from webui_tui.cli.blocks import BlockSplitter
from webui_tui.cli.tty_echo import EchoOff

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
        self._printed = False
        self._started = False
        self._finished = False
        self._last_draw = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._echo = EchoOff()
        self._live = Live(
            console=self.console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def _room(self) -> int:
        # One line spare: the cursor sits below the region.
        return max(2, self.console.size.height - 2)

    def _tail(self) -> RenderableType:
        """The live region: the open block (or the model's thinking), cut to fit the screen."""
        rest = self._splitter.rest
        if rest.strip():
            if self._printed:  # with the blank line that will separate it from the block above
                return Group(Text(""), Trimmed(Markdown(rest), last=self._room() - 1))
            return Trimmed(Markdown(rest), last=self._room())
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
        self._live.update(self._tail(), refresh=True)
        self._last_draw = time.monotonic()

    def content(self, text: str) -> None:
        blocks = self._splitter.feed(text)
        if blocks and self._started:
            # Printing redraws the region below the block: with the new tail, not the old one.
            self._live.update(self._tail())
        for block in blocks:
            self._print_block(block)
        self._changed()

    def reasoning(self, text: str) -> None:
        if self._splitter.rest or self._printed:
            return  # the answer has started: thinking is no longer shown
        self._thinking.append(text)
        self._changed()

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
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._started:
            self._live.update(Text(""), refresh=True)
            self._live.stop()
        self._print_block(self._splitter.close())
        self._echo.stop()
