"""Usage counters (`webui usage`): requests and tokens per user, UTC day and model.

Each finished generation adds to counters in memory; they are written in one transaction every
`flush_every` seconds, before a report, and when the daemon stops (a daemon that is killed loses
at most that many seconds of counts, never a chat). Tokens are the provider's counts (`usage` of
the answer) when it gave them, else estimated from the text (about 4 characters a token).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from webui_daemon.services.scheduling.queue import Ticket
from webui_daemon.storage.db import Database
from webui_daemon.storage.rows import UserRow
from webui_daemon.storage.usage import UsageRepo

log = logging.getLogger(__name__)


def utc_day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


class UsageRecorder:
    def __init__(
        self,
        db: Database,
        repo: UsageRepo,
        *,
        flush_every: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._repo = repo
        self._flush_every = flush_every
        self._clock = clock
        self._pending: dict[tuple[str, str, str], list[int]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    def finished(self, ticket: Ticket) -> None:
        """A generation gave its slot back: count it (the scheduler's `on_finished`)."""
        tokens_out = ticket.tokens_out if ticket.tokens_out is not None else ticket.chars // 4
        key = (ticket.user_id, utc_day(self._clock()), ticket.model)
        counts = self._pending.setdefault(key, [0, 0, 0])
        counts[0] += 1
        counts[1] += ticket.tokens_in or 0
        counts[2] += tokens_out

    async def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        rows = [(u, d, m, c[0], c[1], c[2]) for (u, d, m), c in pending.items()]
        try:
            async with self._db.transaction() as conn:
                await self._repo.add(conn, rows)
        except Exception:
            log.exception("could not save usage counters")
            for (u, d, m), c in pending.items():  # keep them for the next flush
                counts = self._pending.setdefault((u, d, m), [0, 0, 0])
                for i in range(3):
                    counts[i] += c[i]

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_every)
            await self.flush()

    async def report(
        self, caller: UserRow, *, user_id: str | None, since_days: int
    ) -> list[dict[str, Any]]:
        """Counters of the last `since_days` days (today included): the caller's own, or for an
        admin everyone's (or `user_id`'s)."""
        await self.flush()
        if caller.role != "admin":
            user_id = caller.id
        start = datetime.fromtimestamp(self._clock(), UTC) - timedelta(days=since_days - 1)
        rows = await self._repo.since(start.strftime("%Y-%m-%d"), user_id)
        return [
            {
                "user_id": r.user_id,
                "user_name": r.user_name,
                "day": r.day,
                "model": r.model,
                "requests": r.requests,
                "tokens_in": r.tokens_in,
                "tokens_out": r.tokens_out,
            }
            for r in rows
        ]
