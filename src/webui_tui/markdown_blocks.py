"""Where the finished part of a streaming Markdown text ends: one rule for `webui chat` and the TUI.

Both front ends draw a streaming answer's finished blocks once and redraw only the block still
being written, so a finished block must render the same however much text follows it. The
rule here is the parser's own: the text's complete lines are parsed with the block rules of
the parser rich's `Markdown` uses (markdown-it with tables), and every top-level block but the
last is finished. By CommonMark's block structure, a block followed by the first line of the
next one is closed and stays closed whatever comes after, while the last block can still grow
or change its kind (a paragraph becomes a setext heading or a table's head, a list turns loose,
a fence runs on until it is closed). A line still being written is left out of the parse (its
first characters can look like the start of a block its end denies: ```` ``` ```` then `` ` ``
is no fence), unless a blank line comes before it (see `BlockSplitter._has_begun_block`).
Blank lines belong to the block they follow.

Link reference definitions (`[x]: url`) reach across blocks (a link in any block may use one):
no cut is made after the first one, so from there the text renders as one. A definition that
comes after a finished block that used it is the one case where a finished block draws
differently from the whole text: the TUI then draws the whole text as one Markdown
(`StreamedMarkdown`); `webui chat` cannot take back what it printed.

Imports markdown-it, which rich's Markdown loads anyway; a piped `webui chat` imports neither.
"""

import re
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

_LINE_END = re.compile(r"\r\n?|\n")  # as markdown-it counts lines (it turns \r\n and \r into \n)
_DIGITS = re.compile(r"[ \t]*[0-9]{1,9}")

# How rich 15's Markdown draws top-level blocks one after the other: it keeps a flag, set by
# each element it closes (False for a rule, True for the rest), and puts a blank line before an
# element it draws when the flag is set (the flag starts unset: a part drawn alone has no blank
# line before it that the whole text's drawing has). An element inside a list, quote or table
# is collected by its parent, which only sets the flag; inline tokens other than images leave
# the flag alone.
_COLLECTING = frozenset(
    {
        "blockquote_open",
        "bullet_list_open",
        "ordered_list_open",
        "list_item_open",
        "table_open",
        "thead_open",
        "tbody_open",
        "tr_open",
    }
)
_PASSIVE = frozenset({"text", "hardbreak", "softbreak", "link_open", "link_close", "html_inline"})
_INLINE_STYLES = frozenset({"em", "strong", "code", "s"})


@cache
def _parser() -> MarkdownIt:
    # rich's parser is MarkdownIt().enable("strikethrough").enable("table"); strikethrough is
    # inline, and the inline parse is not needed to find blocks.
    return MarkdownIt().enable("table").disable(["inline", "text_join"])


def _top_level(tokens: Sequence[Token]) -> list[Token]:
    return [t for t in tokens if t.level == 0 and t.nesting != -1 and t.map is not None]


def _flat(tokens: Sequence[Token]) -> Iterator[Token]:
    """The tokens as rich walks them (an inline token's children in its place)."""
    for token in tokens:
        if token.children and not (token.type == "fence" or token.tag == "img"):
            yield from _flat(token.children)
        else:
            yield token


def _reads_flag(tokens: Sequence[Token]) -> bool:
    """Whether the first thing rich draws of `tokens` comes after a blank line when the flag
    was set before them (rather than after one of their own, or none, whatever came before)."""
    open_types: list[str] = []
    for token in _flat(tokens):
        if token.type in _PASSIVE or (
            token.tag in _INLINE_STYLES and token.type not in ("fence", "code_block")
        ):
            continue
        if token.nesting == 1:
            open_types.append(token.type)
            continue
        if token.nesting == -1:
            open_types.pop()
        if token.type == "inline":
            return False  # an empty one: it sets the flag without drawing
        return not open_types or open_types[-1] not in _COLLECTING
    return False


def flag_edges(tokens: Sequence[Token]) -> tuple[bool, bool | None]:
    """How a part of a text (tokens: its `Markdown.parsed`) drawn alone joins the parts drawn
    before it, as rich draws the whole text: whether it begins by reading rich's flag (then a
    blank line goes before it when the flag is set), and the flag it leaves set (None: it
    leaves the flag as it was)."""
    last = next((token.type for token in reversed(tokens) if token.level == 0), None)
    return _reads_flag(tokens), None if last is None else last != "hr"


class BlockSplitter:
    """Feed text as it streams; get back the blocks it finished. `rest` is the open block.

    The finished blocks and `rest` together are exactly the text fed (blank lines go with the
    block before them). The blocks are the same however the text is fed, and so is `rest`
    whenever the text fed ends a line.
    """

    def __init__(self) -> None:
        self.rest = ""
        self._line = 0  # where the line being written starts in `rest`
        self._after_blank = False  # a blank line comes before it (in `rest`)
        self._tried = False  # it has been parsed once (see `_has_begun_block`)

    def feed(self, text: str) -> list[str]:
        start = len(self.rest)
        self.rest += text
        last_end = max(text.rfind("\n"), text.rfind("\r"))
        end = None
        if last_end >= 0:
            self._line, self._tried = start + last_end + 1, False
            self._after_blank = self._follows_blank_line()
            end = self._line
        if self._after_blank and not self._tried and self._has_begun_block():
            self._tried = True
            end = len(self.rest)
        if end is None:
            return []  # nothing new to learn
        env: dict[str, Any] = {}
        maps = [b.map for b in _top_level(_parser().parse(self.rest[:end], env)) if b.map]
        starts = [start for start, _ in maps]
        if env.get("references"):
            # A definition may serve a link in any block: the cuts stop at the first one, or
            # at the list or quote that holds it (at the top level it begins a block itself).
            first = min((ref.get("map") or [0])[0] for ref in env["references"].values())
            starts = [line for line in starts if line <= first]
            if not any(start <= first < stop for start, stop in maps):
                starts.append(first)
        if len(starts) < 2:
            return []
        cuts = _line_offsets(self.rest, starts[1:])
        finished = [self.rest[a:b] for a, b in zip([0, *cuts], cuts, strict=False)]
        self.rest = self.rest[cuts[-1] :]
        self._line -= cuts[-1]
        self._after_blank = self._after_blank and self._line > 0
        return finished

    def _follows_blank_line(self) -> bool:
        """Whether the line being written comes after a blank line of `rest`."""
        end = self._line - 1
        if end < 0:
            return False
        if self.rest[end] == "\n" and end and self.rest[end - 1] == "\r":
            end -= 1
        begin = max(self.rest.rfind("\n", 0, end), self.rest.rfind("\r", 0, end)) + 1
        return not self.rest[begin:end].strip(" \t")

    def _has_begun_block(self) -> bool:
        """Whether the line being written (after a blank line) shows already that it begins a
        block, if the parse says so.

        After a blank line a block goes on only at an indentation or with a list marker, which
        the line's first characters show, or inside a fence or an HTML block, which the parse
        knows; except a number, which may yet become an ordered list's next item (`2` then
        `2. b`). So the next block's start is known before its first line is whole.
        """
        line = self.rest[self._line :]
        return bool(line.strip(" \t")) and not _DIGITS.fullmatch(line)

    def close(self) -> str:
        """The last block (whatever is left), and a fresh start."""
        rest = self.rest
        self.rest, self._line, self._after_blank, self._tried = "", 0, False, False
        return rest


def _line_offsets(text: str, lines: list[int]) -> list[int]:
    """Where each of `lines` (ascending line numbers, from 1) of `text` starts."""
    offsets: list[int] = []
    wanted = iter(lines)
    line = next(wanted)
    for number, found in enumerate(_LINE_END.finditer(text), start=1):
        if number == line:
            offsets.append(found.end())
            line = next(wanted, 0)
            if not line:
                break
    return offsets
