"""Asyncio helpers for clients: calls made at once, and the task after it handled its own
cancellation (Ctrl-C, hang-up)."""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


async def both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Two calls at once. A failure is raised once both have ended: with plain `gather` the
    other call could fail later, unretrieved, as the client closes (a traceback on stderr)."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    for outcome in (a, b):
        if isinstance(outcome, BaseException):
            raise outcome
    return a, b  # type: ignore[return-value]


def uncancel_current() -> None:
    """The cancellation of the current task was ours and is handled: its later awaits (saving
    what arrived, a clean-up request) must run normally."""
    task = asyncio.current_task()
    if task is not None:
        while task.cancelling():
            task.uncancel()
