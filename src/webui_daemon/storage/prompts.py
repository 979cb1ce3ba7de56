"""PromptRepo: the prompt library, its version history and its access grants (all SQL here)."""

import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads
from webui_daemon.storage.grants import GrantRepo, GrantRow, Principal

_COLUMNS = (
    "id, command, user_id, name, content, data, meta, tags, is_active, version_id, "
    "created_at, updated_at"
)
_ORDER = {"name": "p.name", "created_at": "p.created_at", "updated_at": "p.updated_at"}


@dataclass(frozen=True, slots=True)
class PromptRow:
    id: str
    command: str
    user_id: str
    name: str
    content: str
    created_at: int
    updated_at: int
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    tags: tuple[str, ...] = ()
    is_active: bool = True
    version_id: str | None = None
    grants: tuple[GrantRow, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: str
    prompt_id: str
    parent_id: str | None
    snapshot: dict[str, Any]
    user_id: str
    commit_message: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class PromptQuery:
    """A page of /prompts/list: free text, created by the caller or shared with them, a tag."""

    text: str | None = None
    view: str | None = None  # "created" (by `viewer`) | "shared" (with them)
    viewer: str | None = None
    tag: str | None = None
    order_by: str | None = None
    ascending: bool = False
    limit: int | None = None
    offset: int = 0


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _unless_command_taken(exc: sqlite3.IntegrityError) -> None:
    """Let the unique command a concurrent request took first pass; anything else is a bug."""
    if "prompt.command" not in str(exc):
        raise exc


def _history(r: aiosqlite.Row) -> HistoryRow:
    values = dict(r)
    values["snapshot"] = loads(values["snapshot"]) or {}
    return HistoryRow(**values)


class PromptRepo:
    def __init__(self, db: Database) -> None:
        self._db = db
        self.grants = GrantRepo(db, "prompt")

    async def _rows(self, rows: Sequence[aiosqlite.Row]) -> list[PromptRow]:
        grants = await self.grants.of([str(r["id"]) for r in rows])
        out = []
        for r in rows:
            values = dict(r)
            values["data"] = loads(values["data"])
            values["meta"] = loads(values["meta"])
            values["tags"] = tuple(loads(values["tags"]) or ())
            values["is_active"] = bool(values["is_active"])
            out.append(PromptRow(**values, grants=grants[str(r["id"])]))
        return out

    async def get(self, prompt_id: str) -> PromptRow | None:
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM prompt WHERE id = ?", (prompt_id,))
        return next(iter(await self._rows(rows)), None)

    async def by_command(self, command: str) -> PromptRow | None:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM prompt WHERE command = ?", (command,)
        )
        return next(iter(await self._rows(rows)), None)

    async def page(
        self, who: Principal | None, query: PromptQuery = PromptQuery()
    ) -> tuple[list[PromptRow], int]:
        """Prompts `who` may read (everyone's when None: an admin), newest change first."""
        where: list[str] = []
        params: list[Any] = []
        if who is not None:
            sql, access_params = self.grants.clause(who, "read", "p")
            where.append(sql)
            params.extend(access_params)
        if query.view in ("created", "shared") and query.viewer is not None:
            where.append("p.user_id = ?" if query.view == "created" else "p.user_id != ?")
            params.append(query.viewer)
        if query.text:
            where.append(
                "(p.name LIKE ? ESCAPE '\\' OR p.command LIKE ? ESCAPE '\\' OR p.content LIKE ? "
                "ESCAPE '\\' OR u.name LIKE ? ESCAPE '\\' OR u.email LIKE ? ESCAPE '\\')"
            )
            params.extend([_like(query.text)] * 5)
        if query.tag:
            where.append("EXISTS (SELECT 1 FROM json_each(p.tags) t WHERE lower(t.value) = ?)")
            params.append(query.tag.lower())
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        joined = f"FROM prompt p LEFT JOIN user u ON u.id = p.user_id {clause}"
        total = await self._db.fetchone(f"SELECT COUNT(*) {joined}", params)
        order = _ORDER.get(query.order_by or "", "p.updated_at")
        direction = "ASC" if query.ascending else "DESC"
        columns = ", ".join(f"p.{c.strip()}" for c in _COLUMNS.split(","))
        rows = await self._db.fetchall(
            f"SELECT {columns} {joined} ORDER BY {order} {direction}, p.id LIMIT ? OFFSET ?",
            [*params, -1 if query.limit is None else query.limit, query.offset],
        )
        return await self._rows(rows), int(total[0]) if total else 0

    async def tags(self, who: Principal | None) -> list[str]:
        where, params = "", list[Any]()
        if who is not None:
            sql, params = self.grants.clause(who, "read", "p")
            where = f"WHERE {sql}"
        rows = await self._db.fetchall(
            f"SELECT DISTINCT t.value FROM prompt p, json_each(p.tags) t {where} ORDER BY 1",
            params,
        )
        return [str(r[0]) for r in rows]

    async def writable_ids(self, who: Principal, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        sql, params = self.grants.clause(who, "write", "p")
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetchall(
            f"SELECT p.id FROM prompt p WHERE p.id IN ({marks}) AND {sql}", [*ids, *params]
        )
        return {str(r[0]) for r in rows}

    # ---- writes: each one transaction ---------------------------------------------------------

    @staticmethod
    async def _add_history(
        conn: aiosqlite.Connection,
        row: PromptRow,
        user_id: str,
        message: str | None,
        history_id: str | None = None,
    ) -> str:
        async with conn.execute(
            "SELECT id FROM prompt_history WHERE prompt_id = ? ORDER BY created_at DESC, rowid "
            "DESC LIMIT 1",
            (row.id,),
        ) as cur:
            parent = await cur.fetchone()
        history_id = history_id or str(uuid.uuid4())
        await conn.execute(
            "INSERT INTO prompt_history (id, prompt_id, parent_id, snapshot, user_id, "
            "commit_message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                history_id,
                row.id,
                None if parent is None else str(parent[0]),
                dumps(snapshot(row)),
                user_id,
                message,
                row.updated_at,
            ),
        )
        return history_id

    async def insert(self, row: PromptRow, message: str | None) -> PromptRow | None:
        """The prompt, its grants and its first version, together; None if the command is
        taken (by a request that got there first)."""
        try:
            return await self._insert(row, message)
        except sqlite3.IntegrityError as exc:
            _unless_command_taken(exc)
            return None

    async def _insert(self, row: PromptRow, message: str | None) -> PromptRow:
        row = replace(row, version_id=str(uuid.uuid4()))
        async with self._db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO prompt ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.id,
                    row.command,
                    row.user_id,
                    row.name,
                    row.content,
                    dumps(row.data),
                    dumps(row.meta),
                    dumps(list(row.tags)),
                    int(row.is_active),
                    row.version_id,
                    row.created_at,
                    row.updated_at,
                ),
            )
            await self.grants.write(conn, row.id, row.grants)
            await self._add_history(conn, row, row.user_id, message, row.version_id)
        return row

    async def save(
        self,
        row: PromptRow,
        *,
        history_by: str | None = None,
        message: str | None = None,
        grants: bool = False,
    ) -> PromptRow | None:
        """Store `row`'s fields; with `history_by`, also a new version (made current, as 0.12
        does for a production update); with `grants`, replace its grants too. None if the
        command is taken."""
        try:
            return await self._save(row, history_by, message, grants)
        except sqlite3.IntegrityError as exc:
            _unless_command_taken(exc)
            return None

    async def _save(
        self, row: PromptRow, history_by: str | None, message: str | None, grants: bool
    ) -> PromptRow:
        async with self._db.transaction() as conn:
            if history_by is not None:
                row = replace(
                    row, version_id=await self._add_history(conn, row, history_by, message)
                )
            await conn.execute(
                "UPDATE prompt SET command = ?, name = ?, content = ?, data = ?, meta = ?, "
                "tags = ?, is_active = ?, version_id = ?, updated_at = ? WHERE id = ?",
                (
                    row.command,
                    row.name,
                    row.content,
                    dumps(row.data),
                    dumps(row.meta),
                    dumps(list(row.tags)),
                    int(row.is_active),
                    row.version_id,
                    row.updated_at,
                    row.id,
                ),
            )
            if grants:
                await self.grants.write(conn, row.id, row.grants)
        return row

    async def delete(self, prompt_id: str) -> bool:
        async with self._db.transaction() as conn:
            cur = await conn.execute("DELETE FROM prompt WHERE id = ?", (prompt_id,))
            return cur.rowcount > 0

    # ---- history -------------------------------------------------------------------------------

    async def history(self, prompt_id: str, limit: int, offset: int) -> list[HistoryRow]:
        rows = await self._db.fetchall(
            "SELECT id, prompt_id, parent_id, snapshot, user_id, commit_message, created_at "
            "FROM prompt_history WHERE prompt_id = ? ORDER BY created_at DESC, rowid DESC "
            "LIMIT ? OFFSET ?",
            (prompt_id, limit, offset),
        )
        return [_history(r) for r in rows]

    async def history_entry(self, prompt_id: str, history_id: str) -> HistoryRow | None:
        row = await self._db.fetchone(
            "SELECT id, prompt_id, parent_id, snapshot, user_id, commit_message, created_at "
            "FROM prompt_history WHERE id = ? AND prompt_id = ?",
            (history_id, prompt_id),
        )
        return None if row is None else _history(row)

    async def delete_history(self, prompt_id: str, history_id: str) -> bool:
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM prompt_history WHERE id = ? AND prompt_id = ?",
                (history_id, prompt_id),
            )
            return cur.rowcount > 0


def snapshot(row: PromptRow) -> dict[str, Any]:
    """A version as 0.12 records it."""
    return {
        "name": row.name,
        "content": row.content,
        "command": row.command,
        "data": row.data or {},
        "meta": row.meta or {},
        "tags": list(row.tags),
        "access_grants": [
            {
                "principal_type": g.principal_type,
                "principal_id": g.principal_id,
                "permission": g.permission,
            }
            for g in row.grants
        ],
    }
