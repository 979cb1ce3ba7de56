"""The streaming Markdown (finished blocks kept rendered) draws what one Markdown draws."""

import io

import pytest
from rich.console import Console, RenderableType

from webui_tui.app.widgets.streamed import StreamedMarkdown, markdown

DOC = (
    "# Title\n\nSome *para* text, long enough to wrap at forty cells wide, and more.\n\n"
    "- a\n- b\n\n  continued\n- c\n\n```python\nprint(1)\n\n\nx = 2\n```\n\n---\n\n"
    "After the rule.\n> quote\n> more\n\n1. one\n2. two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "Para two\n===\n\n    indented code\n\n<div>html</div>\n\ntext ![img](x.png) more\n***\n"
    "## h2\nLast para with `code` and [a link](http://x).\n"
)


def lines(renderable: RenderableType, width: int) -> list[list[tuple[str, str]]]:
    console = Console(file=io.StringIO(), width=width, color_system="truecolor")
    return [
        [(ch, str(seg.style)) for seg in line for ch in seg.text]
        for line in console.render_lines(renderable, pad=False)
    ]


@pytest.mark.parametrize("width", [40, 77])
def test_each_line_streamed_draws_as_one_markdown(width: int) -> None:
    streamed = StreamedMarkdown()
    for end in range(1, len(DOC) + 1):
        shown = streamed.update(DOC[:end])  # every character: blocks are finished on the way
        if DOC[end - 1] == "\n":
            assert lines(shown, width) == lines(markdown(DOC[:end]), width), DOC[:end]


def test_a_text_that_is_not_a_continuation_starts_over() -> None:
    streamed = StreamedMarkdown()
    streamed.update("First para.\n\nSecond")
    assert lines(streamed.update("Other.\n\nText"), 40) == lines(markdown("Other.\n\nText"), 40)
