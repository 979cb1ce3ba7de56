"""No echo of keystrokes on the terminal while an answer is drawn on it.

The terminal echoes what is typed, Ctrl-C included (as `^C`), at the cursor. rich pads each
line of the live region to the full width, so the cursor waits at the last column and an echo
there wraps onto a new line: the region is then one line taller than rich knows, its redraw
leaves the top line behind, and the answer's first line shows twice. Echo is off from the
first token to the end of the answer (Ctrl-C still interrupts: signals stay on).
"""

import atexit
import contextlib
import sys
from typing import Any


class EchoOff:
    """`start()` turns echo off on the terminal of stdout; `stop()` puts it back (idempotent)."""

    def __init__(self) -> None:
        self._saved: tuple[int, list[Any]] | None = None

    def start(self) -> None:
        if self._saved is not None:
            return
        try:
            import termios

            fd = sys.stdout.fileno()
            attrs = termios.tcgetattr(fd)
        except (ImportError, OSError, ValueError, AttributeError):
            return  # not a terminal (or not POSIX): nothing echoes into the answer
        except Exception:  # termios.error (not an OSError subclass)
            return
        saved = list(attrs)
        attrs[3] &= ~(termios.ECHO | termios.ECHOCTL)
        with contextlib.suppress(Exception):
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            self._saved = (fd, saved)
            atexit.register(self.stop)  # never leave a terminal without echo

    def stop(self) -> None:
        if self._saved is None:
            return
        fd, saved = self._saved
        self._saved = None
        with contextlib.suppress(Exception):
            import termios

            termios.tcsetattr(fd, termios.TCSANOW, saved)
