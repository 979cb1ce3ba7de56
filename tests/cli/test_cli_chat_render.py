"""How `webui chat` writes an answer: Markdown cut into blocks, the terminal writer, pipes."""

import io

import pytest
from rich.console import Console

from webui_tui.cli.answer_out import PlainWriter
from webui_tui.cli.markdown_live import MarkdownWriter, Trimmed
from webui_tui.markdown_blocks import BlockSplitter

DOC = (
    "# Title\n\n"
    "A paragraph\nover two lines.\n\n"
    "```python\ndef f():\n\n    return 1\n```\n\n"
    "- item one\n\n  still item one\n- item two\n\n"
    "~~~\nblank line below\n\n~~~\n\n"
    "Last words.\n"
)
BLOCKS = [
    "# Title\n\n",
    "A paragraph\nover two lines.\n\n",
    "```python\ndef f():\n\n    return 1\n```\n\n",
    "- item one\n\n  still item one\n- item two\n\n",
    "~~~\nblank line below\n\n~~~\n\n",
]


def _split(pieces: list[str]) -> tuple[list[str], str]:
    splitter = BlockSplitter()
    blocks: list[str] = []
    for piece in pieces:
        blocks += splitter.feed(piece)
    return blocks, splitter.close()


@pytest.mark.parametrize("size", [1, 3, 7, len(DOC)])
def test_blocks_end_where_the_next_block_begins(size: int) -> None:
    blocks, rest = _split([DOC[i : i + size] for i in range(0, len(DOC), size)])
    assert blocks == BLOCKS  # each with the blank lines after it
    assert rest == "Last words.\n"
    assert "".join([*blocks, rest]) == DOC


def test_a_block_ends_once_the_next_one_has_begun() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("Para.\n\n") == []  # the next line may still continue it (a list's)
    assert splitter.feed("    code\n") == ["Para.\n\n"]  # indented code after a paragraph
    assert splitter.feed("\nNext") == ["    code\n\n"]  # after a blank line: begun already
    assert splitter.feed("\n\n2") == []  # may become an ordered list's item yet
    assert splitter.feed(" is a number\n") == ["Next\n\n"]
    assert splitter.rest == "2 is a number\n"
    assert splitter.close() == "2 is a number\n" and splitter.rest == ""


def test_an_unclosed_fence_holds_everything() -> None:
    blocks, rest = _split(["```\na\n\nb\n\nc\n"])
    assert blocks == [] and rest == "```\na\n\nb\n\nc\n"


def _console(height: int = 10) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=60, height=height, color_system=None)
    return console, out


def test_trimmed_drops_blank_edges_and_keeps_the_tail() -> None:
    console, out = _console()
    console.print(Trimmed("\n\nline 1\nline 2\nline 3\n\n", last=2))
    assert [line.rstrip() for line in out.getvalue().splitlines()] == ["line 2", "line 3"]


async def test_markdown_writer_prints_each_block_once() -> None:
    console, out = _console(height=8)
    writer = MarkdownWriter(console)
    for i in range(0, len(DOC), 4):
        writer.content(DOC[i : i + 4])
    writer.finish()
    writer.finish()  # a second call changes nothing
    text = out.getvalue()
    for words in ("Title", "over two lines.", "def f():", "still item one", "Last words."):
        assert text.count(words) >= 1
    # Finished blocks are printed once; only the live region (erased each time) repeats.
    printed = text.split("\x1b[?25h")[-1] if "\x1b[?25h" in text else text
    assert printed.count("Last words.") == 1


def test_plain_writer_is_exact_and_ends_with_one_newline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The exact text, then a newline only when it does not end with one (the user guide's
    piped-output rule), in a pipe as on a terminal."""
    piped = PlainWriter(terminal=False)
    piped.content("no newline")
    piped.finish()
    assert capsys.readouterr().out == "no newline\n"
    piped = PlainWriter(terminal=False)
    piped.content("ends with one\n")
    piped.finish()
    assert capsys.readouterr().out == "ends with one\n"
    terminal = PlainWriter(terminal=True)
    terminal.content("text")
    terminal.finish()
    terminal.finish()
    assert capsys.readouterr().out == "text\n"
