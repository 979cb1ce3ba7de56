"""Markdown that grows while an answer streams, re-rendering only its last block.

A redraw of a streaming message used to parse and wrap the whole answer, twice (once for its
height, once for its lines), so each redraw cost more as the answer grew. Here the finished
top-level blocks (all but the last, which may still change) are rendered once and kept as
lines; a redraw renders the last block, once. When the stream ends the message is rendered
as one Markdown again, exactly as a reopened chat shows it.
"""

import re
from collections.abc import Hashable

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import Markdown
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

from webui_tui.markdown_blocks import BlockSplitter, flag_edges


def markdown(text: str) -> Markdown:
    return Markdown(text, code_theme="ansi_dark", hyperlinks=False)


class Rendered:
    """A renderable that keeps its lines for the last width it was rendered at.

    Textual renders a widget's content twice per change (height, then lines); with this the
    second one, and every later redraw at the same width, reuses the first.
    """

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._key: Hashable = None
        self._lines: list[list[Segment]] = []

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        key = (
            options.max_width,
            options.justify,
            options.overflow,
            options.no_wrap,
            options.highlight,
            console.color_system,
        )
        if key != self._key:
            self._lines = console.render_lines(
                self.renderable, options.update(height=None), pad=False
            )
            self._key = key
        newline = Segment.line()
        for line in self._lines:
            yield from line
            yield newline

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


_BLANK = Text("")
# A line that may hold a link reference definition (`[x]: url`, maybe in a quote or a list).
_DEFINITION = re.compile(r"^[ \t>*+0-9.)-]*\[[^\]\n]+\]:", re.MULTILINE)


class StreamedMarkdown:
    """The Markdown of a streaming answer: finished blocks kept rendered, the last one redone.

    Where the finished blocks end is `markdown_blocks.BlockSplitter`'s rule, as in `webui chat`.
    """

    def __init__(self) -> None:
        self._text = ""  # the text fed to the splitter
        self._splitter = BlockSplitter()
        # the finished blocks' renderings, with how they join the blocks before (flag_edges)
        self._parts: list[tuple[tuple[bool, bool | None], Rendered]] = []
        self._whole = False  # the text may define a link reference: drawn as one

    @property
    def rest(self) -> str:
        """The source of the open block (redrawn each update); the text before it is kept."""
        return self._splitter.rest

    def update(self, text: str) -> RenderableType:
        """The renderable for `text` (usually the text before plus more)."""
        if not text.startswith(self._text):
            self._text, self._splitter, self._parts = "", BlockSplitter(), []
            self._whole = False
        finished = self._splitter.feed(text[len(self._text) :])
        self._text = text
        # A link reference definition may change how a finished block draws: from the first
        # line that may hold one, the text is drawn as one (correct, if slower).
        self._whole = self._whole or bool(_DEFINITION.search(self._splitter.rest))
        if self._whole:
            self._parts = []
            return Rendered(markdown(text))
        if finished:
            done = markdown("".join(finished))
            self._parts.append((flag_edges(done.parsed), Rendered(done)))
        parts = list(self._parts)
        if self._splitter.rest:
            rest = markdown(self._splitter.rest)
            parts.append((flag_edges(rest.parsed), Rendered(rest)))
        out: list[RenderableType] = []
        flag = False
        for (reads, leaves), rendered in parts:
            if flag and reads:
                out.append(_BLANK)
            out.append(rendered)
            if leaves is not None:
                flag = leaves
        return Group(*out)
