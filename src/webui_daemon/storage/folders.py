"""FolderRepo: a user's chat folders (a tree by parent_id)."""

from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads, set_clause
from webui_daemon.storage.rows import FolderRow

_COLUMNS = "id, user_id, parent_id, name, items, meta, data, is_expanded, created_at, updated_at"
_JSON = frozenset({"items", "meta", "data"})
_UPDATABLE = frozenset({"parent_id", "name", "meta", "data", "is_expanded", "updated_at"})


def _folder(row: aiosqlite.Row) -> FolderRow:
    values = dict(row)
    for column in _JSON:
        values[column] = loads(values[column])
    values["is_expanded"] = bool(values["is_expanded"])
    return FolderRow(**values)


class FolderRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_user(self, user_id: str) -> list[FolderRow]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM folder WHERE user_id = ? ORDER BY created_at, rowid",
            (user_id,),
        )
        return [_folder(r) for r in rows]

    async def get(self, folder_id: str, user_id: str) -> FolderRow | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM folder WHERE id = ? AND user_id = ?", (folder_id, user_id)
        )
        return _folder(row) if row else None

    async def by_name(
        self,
        conn: aiosqlite.Connection,
        user_id: str,
        parent_id: str | None,
        name: str,
    ) -> FolderRow | None:
        """A sibling with this name (case-insensitive), as Open WebUI checks on create."""
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM folder WHERE user_id = ? AND parent_id IS ? "
            "AND lower(name) = lower(?)",
            (user_id, parent_id, name),
        ) as cur:
            row = await cur.fetchone()
        return _folder(row) if row else None

    async def subtree_ids(
        self, folder_id: str, user_id: str, conn: aiosqlite.Connection | None = None
    ) -> list[str]:
        """The folder and every folder below it (the user's own only)."""
        sql = (
            "WITH RECURSIVE sub (id) AS ("
            " SELECT id FROM folder WHERE id = ? AND user_id = ?"
            " UNION SELECT f.id FROM folder f JOIN sub ON f.parent_id = sub.id"
            " WHERE f.user_id = ?) SELECT id FROM sub"
        )
        params = (folder_id, user_id, user_id)
        if conn is None:
            rows = await self._db.fetchall(sql, params)
        else:
            async with conn.execute(sql, params) as cur:
                rows = list(await cur.fetchall())
        return [str(r[0]) for r in rows]

    async def insert(self, conn: aiosqlite.Connection, folder: FolderRow) -> None:
        await conn.execute(
            f"INSERT INTO folder ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                folder.id,
                folder.user_id,
                folder.parent_id,
                folder.name,
                dumps(folder.items),
                dumps(folder.meta),
                dumps(folder.data),
                int(folder.is_expanded),
                folder.created_at,
                folder.updated_at,
            ),
        )

    async def update(self, conn: aiosqlite.Connection, folder_id: str, **fields: Any) -> None:
        if not fields:
            return
        assignments, values = set_clause(fields, _UPDATABLE, _JSON)
        await conn.execute(f"UPDATE folder SET {assignments} WHERE id = ?", (*values, folder_id))

    async def delete(self, conn: aiosqlite.Connection, folder_ids: list[str]) -> None:
        await conn.executemany("DELETE FROM folder WHERE id = ?", [(f,) for f in folder_ids])
