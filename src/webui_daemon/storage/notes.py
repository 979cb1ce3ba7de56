"""NoteRepo: notes (0.12's `note` table), their grants (access_grant, 'note') and pins."""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads
from webui_daemon.storage.grants import GrantRepo, GrantRow, Principal

_COLUMNS = ("id", "user_id", "title", "data", "meta", "created_at", "updated_at")
_SELECT = ", ".join(f"n.{c}" for c in _COLUMNS)
# 0.12's sort keys (`order_by`) and their columns; anything else sorts by updated_at.
_ORDER = {"name": "n.title", "created_at": "n.created_at", "updated_at": "n.updated_at"}

Permission = Literal["read", "write", "read_only"]


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: str
    user_id: str
    title: str
    created_at: int  # nanoseconds, as Open WebUI 0.12
    updated_at: int
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    grants: tuple[GrantRow, ...] = ()


def now_ns() -> int:
    return time.time_ns()


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# A field with hyphens and spaces removed, so "to-do" and "todo" find each other (as 0.12).
_SQUEEZED_TITLE = "replace(replace(n.title, '-', ''), ' ', '')"
_SQUEEZED_MD = (
    "replace(replace(coalesce(json_extract(n.data, '$.content.md'), ''), '-', ''), ' ', '')"
)


@dataclass(frozen=True, slots=True)
class NoteQuery:
    """What a note list asks for. `who` None: every note (an admin's search); `owner`
    "mine"/"others" compares with `user_id`, the caller."""

    who: Principal | None
    user_id: str = ""
    permission: Permission = "read"
    words: tuple[str, ...] = ()
    owner: Literal["any", "mine", "others"] = "any"
    order_by: str | None = None
    ascending: bool = False
    pinned_by: str | None = None  # only the notes this user pinned, latest pin first
    limit: int | None = None
    offset: int = 0


class NoteRepo:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.grants = GrantRepo(db, "note")

    async def _rows(self, rows: Sequence[aiosqlite.Row]) -> list[NoteRow]:
        grants = await self.grants.of([str(r["id"]) for r in rows])
        out = []
        for r in rows:
            values = dict(r)
            values["data"] = loads(values["data"])
            values["meta"] = loads(values["meta"])
            out.append(NoteRow(**values, grants=grants[str(r["id"])]))
        return out

    async def insert(self, row: NoteRow) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO note ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    row.id,
                    row.user_id,
                    row.title,
                    dumps(row.data),
                    dumps(row.meta),
                    row.created_at,
                    row.updated_at,
                ),
            )
            await self.grants.write(conn, row.id, row.grants)

    async def get(self, note_id: str) -> NoteRow | None:
        row = await self._db.fetchone(f"SELECT {_SELECT} FROM note n WHERE n.id = ?", (note_id,))
        return None if row is None else (await self._rows([row]))[0]

    def _where(self, query: NoteQuery) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if query.who is not None:
            if query.permission == "read_only":
                readable, read_params = self.grants.clause(query.who, "read", "n")
                writable, write_params = self.grants.clause(query.who, "write", "n")
                where.append(f"{readable} AND NOT {writable}")
                params.extend([*read_params, *write_params])
            else:
                sql, clause_params = self.grants.clause(query.who, query.permission, "n")
                where.append(sql)
                params.extend(clause_params)
        if query.owner != "any":
            where.append("n.user_id = ?" if query.owner == "mine" else "n.user_id != ?")
            params.append(query.user_id)
        for word in query.words:
            where.append(
                f"({_SQUEEZED_TITLE} LIKE ? ESCAPE '\\' OR {_SQUEEZED_MD} LIKE ? ESCAPE '\\')"
            )
            params.extend([_like(word), _like(word)])
        if query.pinned_by is not None:
            where.append("p.user_id IS NOT NULL")
        return where, params

    async def page(self, query: NoteQuery) -> tuple[list[NoteRow], int]:
        """The notes a query selects (a page of them) and how many it selects in all."""
        where, params = self._where(query)
        join = ""
        join_params: list[Any] = []
        if query.pinned_by is not None:
            join = "LEFT JOIN pinned_note p ON p.note_id = n.id AND p.user_id = ?"
            join_params.append(query.pinned_by)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        total = await self._db.fetchone(
            f"SELECT COUNT(*) FROM note n {join} {clause}", [*join_params, *params]
        )
        if query.pinned_by is not None:
            order = "p.created_at DESC"
        else:
            column = _ORDER.get(query.order_by or "", "n.updated_at")
            order = f"{column} {'ASC' if query.ascending else 'DESC'}"
        rows = await self._db.fetchall(
            f"SELECT {_SELECT} FROM note n {join} {clause} ORDER BY {order}, n.id LIMIT ? OFFSET ?",
            [*join_params, *params, -1 if query.limit is None else query.limit, query.offset],
        )
        return await self._rows(rows), int(total[0]) if total else 0

    async def update(
        self,
        note_id: str,
        *,
        title: str,
        data: dict[str, Any] | None,
        meta: dict[str, Any] | None,
        updated_at: int,
    ) -> bool:
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE note SET title = ?, data = ?, meta = ?, updated_at = ? WHERE id = ?",
                (title, dumps(data), dumps(meta), updated_at, note_id),
            )
            return cur.rowcount > 0

    async def set_grants(self, note_id: str, grants: Sequence[GrantRow]) -> bool:
        async with self._db.transaction() as conn:
            async with conn.execute("SELECT 1 FROM note WHERE id = ?", (note_id,)) as cur:
                if await cur.fetchone() is None:
                    return False
            await self.grants.write(conn, note_id, grants)
        return True

    async def delete(self, note_id: str) -> bool:
        """The note, its pins (cascade) and its grants (trigger note_grants_gone)."""
        async with self._db.transaction() as conn:
            cur = await conn.execute("DELETE FROM note WHERE id = ?", (note_id,))
            return cur.rowcount > 0

    # ---- pins ----------------------------------------------------------------------------

    async def toggle_pin(self, note_id: str, user_id: str) -> bool:
        """Pin the note for the user, or unpin it if pinned; whether it is pinned now."""
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM pinned_note WHERE user_id = ? AND note_id = ?", (user_id, note_id)
            )
            if cur.rowcount > 0:
                return False
            await conn.execute(
                "INSERT INTO pinned_note (user_id, note_id, created_at) VALUES (?, ?, ?)",
                (user_id, note_id, now_ns()),
            )
            return True

    async def pinned_ids(self, user_id: str) -> set[str]:
        rows = await self._db.fetchall(
            "SELECT note_id FROM pinned_note WHERE user_id = ?", (user_id,)
        )
        return {str(r[0]) for r in rows}
