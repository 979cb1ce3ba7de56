"""GroupRepo: groups and their members."""

import time
from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads, set_clause
from webui_daemon.storage.rows import GroupRow

_COLUMNS = "id, user_id, name, description, permissions, data, meta, created_at, updated_at"
_UPDATABLE = frozenset({"name", "description", "permissions", "data", "meta"})
_JSON = frozenset({"permissions", "data", "meta"})


class GroupRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _members(self, group_ids: list[str]) -> dict[str, list[str]]:
        if not group_ids:
            return {}
        marks = ",".join("?" * len(group_ids))
        rows = await self._db.fetchall(
            f"SELECT group_id, user_id FROM group_member WHERE group_id IN ({marks}) "
            "ORDER BY created_at, user_id",
            group_ids,
        )
        members: dict[str, list[str]] = {g: [] for g in group_ids}
        for row in rows:
            members[str(row[0])].append(str(row[1]))
        return members

    def _row(self, row: aiosqlite.Row, user_ids: list[str]) -> GroupRow:
        values = dict(row)
        for column in _JSON:
            values[column] = loads(values[column])
        return GroupRow(**values, user_ids=user_ids)

    async def all(self) -> list[GroupRow]:
        rows = await self._db.fetchall(f'SELECT {_COLUMNS} FROM "group" ORDER BY name, id')
        members = await self._members([str(r["id"]) for r in rows])
        return [self._row(r, members[str(r["id"])]) for r in rows]

    async def get(self, group_id: str) -> GroupRow | None:
        row = await self._db.fetchone(
            f'SELECT {_COLUMNS} FROM "group" WHERE id = ?',
            (group_id,),
        )
        if row is None:
            return None
        members = await self._members([group_id])
        return self._row(row, members[group_id])

    async def for_user(self, user_id: str) -> list[GroupRow]:
        rows = await self._db.fetchall(
            f"SELECT {', '.join('g.' + c.strip() for c in _COLUMNS.split(','))} "
            'FROM "group" g JOIN group_member m ON m.group_id = g.id WHERE m.user_id = ? '
            "ORDER BY g.name",
            (user_id,),
        )
        members = await self._members([str(r["id"]) for r in rows])
        return [self._row(r, members[str(r["id"])]) for r in rows]

    async def group_ids_by_user(self, user_ids: list[str]) -> dict[str, list[str]]:
        if not user_ids:
            return {}
        marks = ",".join("?" * len(user_ids))
        rows = await self._db.fetchall(
            f"SELECT user_id, group_id FROM group_member WHERE user_id IN ({marks})",
            user_ids,
        )
        out: dict[str, list[str]] = {u: [] for u in user_ids}
        for row in rows:
            out[str(row[0])].append(str(row[1]))
        return out

    async def insert(self, group: GroupRow) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                f'INSERT INTO "group" ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
                (
                    group.id,
                    group.user_id,
                    group.name,
                    group.description,
                    dumps(group.permissions),
                    dumps(group.data),
                    dumps(group.meta),
                    group.created_at,
                    group.updated_at,
                ),
            )

    async def update(self, group_id: str, **fields: Any) -> bool:
        assignments, values = set_clause(fields, _UPDATABLE, _JSON, updated_at=int(time.time()))
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                f'UPDATE "group" SET {assignments} WHERE id = ?', (*values, group_id)
            )
            return cur.rowcount > 0

    async def delete(self, group_id: str) -> bool:
        async with self._db.transaction() as conn:
            cur = await conn.execute('DELETE FROM "group" WHERE id = ?', (group_id,))
            return cur.rowcount > 0

    async def add_members(self, group_id: str, user_ids: list[str]) -> None:
        """Add the users that exist; unknown ids are ignored, as Open WebUI does."""
        now = int(time.time())
        async with self._db.transaction() as conn:
            await conn.executemany(
                "INSERT OR IGNORE INTO group_member (group_id, user_id, created_at) "
                "SELECT ?, id, ? FROM user WHERE id = ?",
                [(group_id, now, uid) for uid in user_ids],
            )
            await conn.execute('UPDATE "group" SET updated_at = ? WHERE id = ?', (now, group_id))

    async def remove_members(self, group_id: str, user_ids: list[str]) -> None:
        now = int(time.time())
        async with self._db.transaction() as conn:
            await conn.executemany(
                "DELETE FROM group_member WHERE group_id = ? AND user_id = ?",
                [(group_id, uid) for uid in user_ids],
            )
            await conn.execute('UPDATE "group" SET updated_at = ? WHERE id = ?', (now, group_id))
