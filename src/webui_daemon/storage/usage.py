"""Usage counters per user, day and model (all SQL of `usage_daily`)."""

from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from webui_daemon.storage.db import Database


@dataclass(frozen=True, slots=True)
class UsageRow:
    user_id: str
    user_name: str
    day: str  # YYYY-MM-DD, UTC
    model: str
    requests: int
    tokens_in: int
    tokens_out: int


class UsageRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, conn: aiosqlite.Connection, counts: Iterable[tuple[str, str, str, int, int, int]]
    ) -> None:
        """Add (user_id, day, model, requests, tokens_in, tokens_out) to the counters. Users
        deleted meanwhile are skipped (their counters went with them)."""
        await conn.executemany(
            "INSERT INTO usage_daily (user_id, day, model, requests, tokens_in, tokens_out) "
            "SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM user WHERE id = ?1) "
            "ON CONFLICT (user_id, day, model) DO UPDATE SET "
            "requests = requests + excluded.requests, "
            "tokens_in = tokens_in + excluded.tokens_in, "
            "tokens_out = tokens_out + excluded.tokens_out",
            list(counts),
        )

    async def since(self, day: str, user_id: str | None = None) -> list[UsageRow]:
        """Counters from `day` on (one user's, or everyone's), newest day first."""
        where, params = "u.day >= ?", [day]
        if user_id is not None:
            where += " AND u.user_id = ?"
            params.append(user_id)
        rows = await self._db.fetchall(
            "SELECT u.user_id, COALESCE(p.name, ''), u.day, u.model, u.requests, u.tokens_in, "
            "u.tokens_out FROM usage_daily u LEFT JOIN user p ON p.id = u.user_id "
            f"WHERE {where} ORDER BY u.day DESC, p.name, u.model",
            params,
        )
        return [UsageRow(*(row[i] for i in range(7))) for row in rows]
