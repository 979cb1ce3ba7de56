"""Markdown that grows while an answer streams, re-rendering only its last block.

A redraw of a streaming message used to parse and wrap the whole answer, twice (once for its
height, once for its lines), so each redraw cost more as the answer grew. Here the finished
top-level blocks (all but the last, which may still change) are rendered once and kept as
lines; a redraw renders the last block, once. When the stream ends the message is rendered
as one Markdown again, exactly as a reopened chat shows it.
"""

from collections.abc import Hashable

from markdown_it import MarkdownIt
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import Markdown
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

# As rich's Markdown parses (so the blocks found here are the blocks it renders).
_PARSER = MarkdownIt().enable("strikethrough").enable("table")


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


def _top_blocks(text: str) -> list[tuple[int, str]]:
    """(first line, token type) of each top-level block of `text`."""
    return [
        (token.map[0], token.type)
        for token in _PARSER.parse(text)
        if token.level == 0 and token.nesting in (0, 1) and token.map is not None
    ]


def _line_offset(text: str, line: int) -> int:
    """Where line `line` (from 0) of `text` starts."""
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


# Top-level blocks rich renders with no blank line of their own before them: it puts one
# between them and the block before unless that one was a rule. (Lists, quotes and tables
# bring their own blank line, from the blocks inside them.)
_LEAVES = {"paragraph_open", "heading_open", "fence", "code_block", "hr", "html_block"}
_BLANK = Text("")


class StreamedMarkdown:
    """The Markdown of a streaming answer: finished blocks kept rendered, the last one redone."""

    def __init__(self) -> None:
        self._done = ""  # the source of the finished blocks, a prefix of the text
        # their renderings, with the type of the first and of the last block of each
        self._parts: list[tuple[str, str, Rendered]] = []

    def update(self, text: str) -> RenderableType:
        """The renderable for `text` (usually the text before plus more)."""
        if not text.startswith(self._done):
            self._done, self._parts = "", []
        tail = text[len(self._done) :]
        # (markdown-it counts lines after turning \r\n and \r into \n: not split then)
        blocks = _top_blocks(tail) if "\r" not in tail else []
        if len(blocks) > 1:
            finished = tail[: _line_offset(tail, blocks[-1][0])]
            self._parts.append((blocks[0][1], blocks[-2][1], Rendered(markdown(finished))))
            self._done += finished
            tail = tail[len(finished) :]
            blocks = blocks[-1:]
        parts = list(self._parts)
        if blocks:
            parts.append((blocks[0][1], blocks[-1][1], Rendered(markdown(tail))))
        out: list[RenderableType] = []
        last = ""
        for first, end, rendered in parts:
            if out and last != "hr" and first in _LEAVES:
                out.append(_BLANK)
            out.append(rendered)
            last = end
        return Group(*out)
