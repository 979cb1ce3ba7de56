"""MemoryRepo: a user's memories (Open WebUI 0.12's `memory` table); writes take a transaction."""

from dataclasses import dataclass
from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads, set_clause

_COLUMNS = "id, user_id, type, path, content, meta, created_at, updated_at"
_UPDATABLE = frozenset({"type", "path", "content", "meta", "updated_at"})


@dataclass(frozen=True, slots=True)
class MemoryRow:
    id: str
    user_id: str
    type: str  # 'user' or 'context'
    path: str | None
    content: str
    meta: dict[str, Any] | None
    created_at: int
    updated_at: int


def _memory(row: aiosqlite.Row) -> MemoryRow:
    values = dict(row)
    values["meta"] = loads(values["meta"])
    return MemoryRow(**values)


class MemoryRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_user(self, user_id: str) -> list[MemoryRow]:
        """Oldest first, as Open WebUI lists them (insertion order)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM memory WHERE user_id = ? ORDER BY created_at, rowid",
            (user_id,),
        )
        return [_memory(r) for r in rows]

    async def get(
        self, memory_id: str, user_id: str, conn: aiosqlite.Connection | None = None
    ) -> MemoryRow | None:
        """The memory if it is this user's (another user's is reported as absent)."""
        sql = f"SELECT {_COLUMNS} FROM memory WHERE id = ? AND user_id = ?"
        if conn is None:
            row = await self._db.fetchone(sql, (memory_id, user_id))
        else:
            async with conn.execute(sql, (memory_id, user_id)) as cur:
                row = await cur.fetchone()
        return _memory(row) if row else None

    async def insert(self, conn: aiosqlite.Connection, memory: MemoryRow) -> None:
        await conn.execute(
            f"INSERT INTO memory ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                memory.id,
                memory.user_id,
                memory.type,
                memory.path,
                memory.content,
                dumps(memory.meta),
                memory.created_at,
                memory.updated_at,
            ),
        )

    async def update(self, conn: aiosqlite.Connection, memory_id: str, **fields: Any) -> None:
        if not fields:
            return
        assignments, values = set_clause(fields, _UPDATABLE, ("meta",))
        await conn.execute(f"UPDATE memory SET {assignments} WHERE id = ?", (*values, memory_id))

    async def delete(self, conn: aiosqlite.Connection, memory_id: str, user_id: str) -> bool:
        cur = await conn.execute(
            "DELETE FROM memory WHERE id = ? AND user_id = ?", (memory_id, user_id)
        )
        return cur.rowcount > 0

    async def delete_for_user(self, conn: aiosqlite.Connection, user_id: str) -> int:
        cur = await conn.execute("DELETE FROM memory WHERE user_id = ?", (user_id,))
        return cur.rowcount
