"""Ctrl-C while an answer streams (`webui chat`): ask the server to stop, then hang up."""

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from webui_tui.client.errors import WebUIClientError

# After a stop request, how long the daemon may take to end the stream before we hang up.
STOP_GRACE_S = 5.0


class Interrupts:
    """Ctrl-C while an answer streams: the first asks to stop, the second hangs up.

    Use as `async with Interrupts() as interrupts:`; set `stop` once there is a turn to stop.
    """

    def __init__(self) -> None:
        self._task = asyncio.current_task()
        self._loop = asyncio.get_running_loop()
        self.stop: Callable[[], Awaitable[Any]] | None = None
        self.count = 0
        self._stopping: asyncio.Task[None] | None = None
        self._watchdog: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> "Interrupts":
        self._loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        self._loop.set_exception_handler(_quiet_handler)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._loop.remove_signal_handler(signal.SIGINT)
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._stopping is not None:
            # Let the stop request finish: cancelling a read as its answer arrives makes
            # anyio report an InvalidStateError.
            await asyncio.wait({self._stopping}, timeout=STOP_GRACE_S)

    def _on_sigint(self) -> None:
        self.count += 1
        if self.count == 1 and self.stop is not None:
            self._stopping = self._loop.create_task(self._ask_to_stop(self.stop))
            # The daemon ends the stream once the turn is stopped and saved; if it does not
            # in time, hang up.
            self._watchdog = self._loop.call_later(STOP_GRACE_S, self._hang_up)
        else:
            self._hang_up()

    async def _ask_to_stop(self, stop: Callable[[], Awaitable[Any]]) -> None:
        try:
            await stop()
        except WebUIClientError:
            self._hang_up()

    def _hang_up(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


def _quiet_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """No tracebacks at a person for library noise after a cancelled read (WEBUI_DEBUG shows)."""
    noise = isinstance(context.get("exception"), asyncio.InvalidStateError)
    if noise and not os.environ.get("WEBUI_DEBUG"):
        return
    loop.default_exception_handler(context)
