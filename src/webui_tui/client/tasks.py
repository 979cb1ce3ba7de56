"""The asyncio task a client runs in, after it handled its own cancellation (Ctrl-C, hang-up)."""

import asyncio


def uncancel_current() -> None:
    """The cancellation of the current task was ours and is handled: its later awaits (saving
    what arrived, a clean-up request) must run normally."""
    task = asyncio.current_task()
    if task is not None:
        while task.cancelling():
            task.uncancel()
