"""Streaming Markdown benchmark: the CPU the TUI and `webui chat` spend on a streamed answer.

Run: python -m bench.markdown [--runs 5]

Two answers stream in 4-character tokens: a mixed one (~5,000 characters: headings,
paragraphs, lists, fences, tables, quotes) and one long paragraph (bench.tui's stand-in
answer, 1,000 words). TUI: after every 5 tokens (at 100 tok/s the TUI redraws every 50 ms)
`StreamedMarkdown.update` gets the text so far and its lines are drawn at 80 columns, beside
the same redraws made by drawing the whole text each time (what the TUI did before it kept
finished blocks) and beside drawing the finished answer once. CLI: `MarkdownWriter` gets each
token and prints the finished blocks (its console is no terminal, so no live region), beside
printing the whole answer once. Figures: CPU time of this process per answer, p50 of --runs.
"""

import argparse
import io
import statistics
import time
from collections.abc import Callable

from rich.console import Console, RenderableType

from webui_tui.app.widgets.streamed import StreamedMarkdown, markdown
from webui_tui.cli.markdown_live import MarkdownWriter, Trimmed

WIDTH, TOKEN, EVERY = 80, 4, 5


def mixed_answer() -> str:
    sections = []
    for i in range(12):
        sections.append(
            f"## Step {i}\n\n"
            f"Here is *why* step {i} matters: the `config` value is read once and kept, "
            "so a change needs a restart, as the [guide](http://example.com) says.\n\n"
            "- first, check the file\n- then run the command\n\n  with a note under it\n"
            "- last, look at the log\n\n"
            f"```python\ndef step_{i}(value: int) -> int:\n    total = value * {i}\n\n"
            "    return total + 1\n```\n\n"
            "| name | value |\n|---|---|\n| a | 1 |\n| b | 2 |\n\n"
            "> Note: this applies to every run.\n\n"
        )
    return "".join(sections) + "That is all.\n"


def paragraph_answer() -> str:
    return "".join(f"tok{i} " for i in range(1000))


def cpu(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return statistics.median(times)


def tokens(text: str) -> list[str]:
    return [text[i : i + TOKEN] for i in range(0, len(text), TOKEN)]


def draw(console: Console, renderable: RenderableType) -> None:
    console.render_lines(renderable, pad=False)


def tui_streamed(text: str) -> None:
    console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor")
    streamed, fed = StreamedMarkdown(), ""
    for n, token in enumerate(tokens(text), start=1):
        fed += token
        if n % EVERY == 0:
            draw(console, streamed.update(fed))
    draw(console, streamed.update(fed))


def tui_whole_each_time(text: str) -> None:
    console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor")
    fed = ""
    for n, token in enumerate(tokens(text), start=1):
        fed += token
        if n % EVERY == 0:
            draw(console, markdown(fed))
    draw(console, markdown(fed))


def tui_once(text: str) -> None:
    draw(Console(file=io.StringIO(), width=WIDTH, color_system="truecolor"), markdown(text))


def cli_writer(text: str) -> None:
    writer = MarkdownWriter(Console(file=io.StringIO(), width=WIDTH, color_system="truecolor"))
    for token in tokens(text):
        writer.content(token)
    writer.finish()


def cli_once(text: str) -> None:
    console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor")
    console.print(Trimmed(markdown(text)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.markdown")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for name, text in (("mixed answer", mixed_answer()), ("one paragraph", paragraph_answer())):
        count = len(tokens(text))
        once = cpu(lambda t=text: tui_once(t), args.runs)
        streamed = cpu(lambda t=text: tui_streamed(t), args.runs)
        whole = cpu(lambda t=text: tui_whole_each_time(t), args.runs)
        writer = cpu(lambda t=text: cli_writer(t), args.runs)
        printed = cpu(lambda t=text: cli_once(t), args.runs)
        print(f"{name}: {len(text):,} characters, {count} tokens, {count // EVERY} redraws")
        print(
            f"  TUI streamed: {1000 * streamed:.1f} ms CPU per answer; "
            f"{streamed / whole:.3f} x the whole text drawn each redraw ({1000 * whole:.1f} ms); "
            f"{streamed / once:.1f} x the answer drawn once ({1000 * once:.1f} ms)"
        )
        print(
            f"  CLI writer: {1000 * writer:.1f} ms CPU per answer; "
            f"{writer / printed:.2f} x the answer printed once ({1000 * printed:.1f} ms)"
        )


if __name__ == "__main__":
    main()
