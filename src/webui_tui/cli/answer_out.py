"""Where a streamed answer goes: exact text in a pipe, rendered Markdown on a terminal.

`writer_for` imports rich only for the terminal writer (`markdown_live`): a piped
`webui chat` stays as light as any other command.
"""

import contextlib
import os
import sys
from typing import Protocol

from webui_tui.cli.tty_echo import EchoOff


class OutputClosed(Exception):
    """Standard output went away (`webui chat ... | head -1`)."""


class AnswerWriter(Protocol):
    def content(self, text: str) -> None: ...

    def reasoning(self, text: str) -> None: ...

    def finish(self) -> None:
        """Show everything still held back; called once, also after an interruption."""


class PlainWriter:
    """The answer's exact text, flushed as it arrives, then a newline when the text does not
    end with one (in a pipe too: a shell prompt, `wc -l` or `while read` then see a whole
    line; `--json`'s `content` is the text without it). On a terminal, echo is off while the
    answer is written (see tty_echo)."""

    def __init__(self, *, terminal: bool = False) -> None:
        self._terminal = terminal
        self._last = "\n"
        self._finished = False
        self._echo: EchoOff | None = EchoOff() if terminal else None

    def content(self, text: str) -> None:
        if self._echo is not None:
            self._echo.start()
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
            raise OutputClosed from None
        self._last = text[-1:] or self._last

    def reasoning(self, text: str) -> None:
        pass  # a pipe gets the answer only

    def finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._last != "\n":
            with contextlib.suppress(OutputClosed):
                self.content("\n")
        if self._echo is not None:
            self._echo.stop()


class SilentWriter:
    """--json: nothing while streaming; the command prints one object at the end."""

    def content(self, text: str) -> None:
        pass

    def reasoning(self, text: str) -> None:
        pass

    def finish(self) -> None:
        pass


class WaitingLine:
    """ "waiting: 3rd in line for … (≈ 20 s)" on stderr while a request waits for a busy node,
    rewritten in place as it moves and erased when the answer starts; only on a terminal."""

    def __init__(self) -> None:
        self._shown = False
        self._terminal = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"

    def show(self, text: str) -> None:
        if self._terminal:
            sys.stderr.write(f"\r\x1b[K{text}")
            sys.stderr.flush()
            self._shown = True

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._shown = False


def writer_for(*, json_out: bool, raw: bool) -> AnswerWriter:
    if json_out:
        return SilentWriter()
    terminal = sys.stdout.isatty()
    if raw or not terminal or os.environ.get("TERM") == "dumb":
        return PlainWriter(terminal=terminal)
    from webui_tui.cli.markdown_live import MarkdownWriter

    return MarkdownWriter()


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; pointing it at /dev/null keeps that quiet.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except OSError:
        pass
