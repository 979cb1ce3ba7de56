"""Streaming Markdown is cut into finished blocks by one rule (`webui_tui.markdown_blocks`) for
`webui chat` and the TUI: tricky texts, fed in every split, draw as the whole text does."""

import io
import random
import re
from collections.abc import Iterator

import pytest
from rich.console import Console, RenderableType
from rich.markdown import Markdown

from webui_tui.app.widgets.streamed import StreamedMarkdown, markdown
from webui_tui.cli.markdown_live import MarkdownWriter, Trimmed
from webui_tui.markdown_blocks import BlockSplitter

# Texts where a line scanner and a parser disagree on where a block ends, or where rich's
# blank line between two blocks depends on what is inside them.
TEXTS = {
    "loose list": "- one\n\n- two\n\n- three\n\nAfter.\n",
    "setext headings": "Intro.\n\nTitle\n===\n\nBody\n---\n\nEnd.\n",
    "indented code after a paragraph": "Para.\n\n    code\n\n    more code\n\nAfter.\n",
    "table": "Intro.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nAfter.\n",
    "table under a paragraph": "Intro\n| a | b |\n|---|---|\n| 1 | 2 |\nAfter\n\nEnd\n",
    "quotes": "> one\n>\n> two\n\n> three\n\nAfter.\n> q\nlazy\n\nEnd\n",
    "fences": "~~~\na\n\n```\nb\n~~~\n\n````md\n```\ninner\n```\n````\n\nAfter.\n",
    "not a fence": "Para\n``` a ` b\nmore\n\nEnd\n",
    "crlf": "# T\r\n\r\nPara\r\nline\r\n\r\n- a\r\n- b\r\n\r\nEnd\r\n",
    "cr": "A\rB\r\rC\r\r- x\r",
    "html blocks": "<div>\nhtml\n</div>\n\nPara.\n\n<!-- c\n\nstill -->\nAfter.\n",
    "rules": "Para\n\n---\n\nAfter rule\n***\n- list\n\n***\n# H\n",
    "ordered lists": "1. one\n2. two\n\n3. three\n\n10) x\n",
    "nested fence": "- a\n\n  ```\n  code\n\n  ```\n- b\n\n    code in item\n\nEnd\n",
    "link references": "Para [x].\n\n[x]: http://e.com\n\nUse [x].\n\nMore.\n",
    "late link reference": "Para.\n\nMore.\n\n> q\n>\n> [y]: http://e.com\n\nUse [y].\n",
    "unclosed fence": "Para\n\n```py\ncode\n\nmore",
    "leading blank lines": "\n\n  \nPara\n\n\n\n# H\nEnd",
    "headings": "# A\n## B\nText\n#\n",
    "images": (
        "Para\n\n![i](x)\n\n- ![j](y) item\n\n> ![k](z)\n\n"
        "| ![l](w) | b |\n|---|---|\n| | 2 |\n\n---\n![m](v)\n"
    ),
    "empty parts": "---\n| | b |\n|---|---|\n| 1 | |\n\n#\n\n-\n\nx\n",
    "after rules": (
        "***\n- a\n\n***\n> q\n\n***\n```\nc\n```\n***\n    code\n\n***\n<p>h</p>\n\n***\n"
    ),
    "setext or list": "- a\n---\n\nPara\n- b\n\nTitle\n---\n",
    "definition in a quote": "Para\n\n> [y]: http://e.com\n\nUse [y].\n\nMore\n",
    "after blank lines": (
        "- a\n\n  b\n\n- c\n\n   d\n\nx\n\n1. a\n\n   b\n\n10. c\n\n1) d\n\n"
        "* e\n\n*f*\n\n- g\n\n---\n\n- h\n\n\ti\n\n\tcode\n\n\tmore\n\npara\n"
    ),
    "blank lines inside": (
        "```\ncode\n\n```x\n```\n\n<!--\n\n-->\n\n<div>\n\nx\n\n<span>\n\n</span>\n"
    ),
    "inline styles": "Some *em\nacross* lines and `code`\n\n**bold** [link](http://x)\n",
}
# `webui chat` prints a block that uses a link before the definition comes: it stays as printed.
CLI_CANNOT = {"link references"}
WIDTH = 40
_LINK_IDS = re.compile("\x1b]8;[^\x1b]*\x1b\\\\")  # rich numbers each hyperlink it writes


def splits(text: str) -> Iterator[list[str]]:
    """The text char by char, then in random chunks of 1-12 characters (three seeds)."""
    yield list(text)
    for seed in range(3):
        rng = random.Random(seed)  # noqa: S311 - reproducible splits, not a secret
        pieces: list[str] = []
        at = 0
        while at < len(text):
            size = rng.randint(1, 12)
            pieces.append(text[at : at + size])
            at += size
        yield pieces


def lines(renderable: RenderableType) -> list[list[tuple[str, str]]]:
    console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor")
    return [
        [(ch, str(seg.style)) for seg in line for ch in seg.text]
        for line in console.render_lines(renderable, pad=False)
    ]


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=WIDTH, color_system="truecolor"), out


def printed(out: io.StringIO) -> str:
    return _LINK_IDS.sub("", out.getvalue())


def at_once(text: str) -> tuple[list[str], str]:
    splitter = BlockSplitter()
    return splitter.feed(text), splitter.rest


@pytest.mark.parametrize("name", TEXTS)
def test_blocks_and_rest_are_the_text_cut_as_a_whole_feed_cuts_it(name: str) -> None:
    text = TEXTS[name]
    for pieces in splits(text):
        splitter, blocks, fed = BlockSplitter(), [], ""
        for piece in pieces:
            fed += piece
            blocks += splitter.feed(piece)
            assert "".join(blocks) + splitter.rest == fed
            if fed.endswith(("\n", "\r")):  # within a line a cut may come sooner or later
                assert splitter.rest == at_once(fed)[1], (fed, pieces)
        assert (blocks, splitter.rest) == at_once(text)
        assert "".join(blocks) + splitter.close() == text
        assert splitter.rest == ""


@pytest.mark.parametrize("name", TEXTS)
def test_each_split_draws_as_the_whole_text_in_the_tui_and_the_cli(name: str) -> None:
    text = TEXTS[name]
    for pieces in splits(text):
        check_streaming(text, pieces, cli=name not in CLI_CANNOT)


def check_streaming(text: str, pieces: list[str], cli: bool = True) -> None:
    """Feeds `pieces` (making `text`) to the TUI's and the CLI's Markdown; checks each draws
    what the whole text draws, at every piece, and that both cut at the same place."""
    console, whole_out = terminal()
    console.print(Trimmed(Markdown(text)))  # what `webui chat` prints for the answer at once
    whole = printed(whole_out)
    streamed = StreamedMarkdown()
    console, out = terminal()  # not a terminal to rich: the live region draws nothing
    writer = MarkdownWriter(console)
    fed = ""
    for piece in pieces:
        fed += piece
        shown = streamed.update(fed)
        writer.content(piece)
        assert lines(shown) == lines(markdown(fed)), (fed, pieces)
        assert streamed.rest == writer.rest  # the same cut in the TUI and the CLI
        if cli:  # printed once, for good
            assert whole.startswith(printed(out)), (fed, pieces)
    writer.finish()
    if cli:
        assert printed(out) == whole, pieces


def test_random_documents_draw_as_the_whole_text() -> None:
    """Lines of the texts above (and a few more) in random orders, fed char by char."""
    pool = sorted(
        {
            line
            for text in TEXTS.values()
            for line in re.split(r"(?<=\n)", text.replace("\r\n", "\n").replace("\r", "\n"))
            if line
        }
    )
    pool += ["\n", "\n", "  - nested\n", "    indented\n", "2. two\n", "3\n", "> > deep\n"]
    pool += ["Title\n", "===\n", "| x |\n", "|---|\n", "  continued\n", "```\n", "~~~\n"]
    rng = random.Random(7)  # noqa: S311 - reproducible documents, not a secret
    for _ in range(40):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(3, 14)))
        blocks, rest = at_once(text)
        assert "".join(blocks) + rest == text
        check_streaming(text, list(text), cli="]:" not in text)


def test_the_cut_waits_for_a_whole_line() -> None:
    """A line still being written can look like a block it is not: ``` starts a fence, but
    ``` followed by a backtick on the same line is a paragraph's text."""
    splitter = BlockSplitter()
    assert splitter.feed("Para\n```") == []
    assert splitter.feed(" a ` b\n") == []  # one paragraph: nothing finished
    assert splitter.feed("\nNext\n") == ["Para\n``` a ` b\n\n"]


def test_no_cut_is_made_after_a_link_reference_definition() -> None:
    """A definition may serve a link in any block, so from the first one (or from the block
    that holds it, in a quote or a list) the text stays one open block."""
    splitter = BlockSplitter()
    assert splitter.feed("First.\n\nSecond.\n") == ["First.\n\n"]
    assert splitter.feed("\n[x]: http://e.com\n\nUse [x].\n\nMore.\n") == ["Second.\n\n"]
    assert splitter.feed("\nAnd more.\n") == []
    assert splitter.rest == "[x]: http://e.com\n\nUse [x].\n\nMore.\n\nAnd more.\n"
    quoted = BlockSplitter()
    assert quoted.feed("A\n\n> q\n>\n> [x]: http://e.com\n\nB\n\nC\n") == ["A\n\n"]
    assert quoted.rest == "> q\n>\n> [x]: http://e.com\n\nB\n\nC\n"


def test_the_tui_draws_a_text_with_a_definition_as_one() -> None:
    """A link used before its definition: the block that uses it is finished before the
    definition comes, so the TUI draws the text as one Markdown from then on."""
    streamed = StreamedMarkdown()
    streamed.update("See [x].\n\nMore.\n")
    assert streamed.rest == "More.\n"
    text = "See [x].\n\nMore.\n\n[x]: http://e.com\n"
    assert lines(streamed.update(text)) == lines(markdown(text))
    assert "http://e.com" in "".join(ch for line in lines(markdown(text))[:1] for ch, _ in line)
