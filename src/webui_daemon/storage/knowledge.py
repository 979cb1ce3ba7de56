"""KnowledgeRepo: knowledge bases, their access grants and the files they hold."""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads, set_clause
from webui_daemon.storage.files import FILE_COLUMNS, FileRow, file_from_row
from webui_daemon.storage.grants import GrantRow, Principal, grant_clause
from webui_daemon.storage.grants import marks as _marks

_COLUMNS = "id, user_id, name, description, meta, data, created_at, updated_at"
_UPDATABLE = frozenset({"name", "description", "meta", "data"})


@dataclass(frozen=True, slots=True)
class KnowledgeRow:
    id: str
    user_id: str
    name: str
    description: str
    created_at: int
    updated_at: int
    meta: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    grants: tuple[GrantRow, ...] = ()
    file_count: int = 0


def access_clause(who: Principal, permission: str, alias: str = "k") -> tuple[str, list[Any]]:
    """SQL that holds when `who` owns the knowledge base or holds a grant for `permission`."""
    return grant_clause(who, permission, alias=alias, table="knowledge_grant", key="knowledge_id")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class KnowledgeRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _grants(self, ids: list[str]) -> dict[str, tuple[GrantRow, ...]]:
        out: dict[str, list[GrantRow]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            rows = await self._db.fetchall(
                "SELECT knowledge_id, principal_type, principal_id, permission "
                f"FROM knowledge_grant WHERE knowledge_id IN ({_marks(part)}) "
                "ORDER BY principal_type, principal_id, permission",
                part,
            )
            for r in rows:
                out[str(r[0])].append(GrantRow(str(r[1]), str(r[2]), str(r[3])))
        return {k: tuple(v) for k, v in out.items()}

    async def _rows(self, rows: list[aiosqlite.Row]) -> list[KnowledgeRow]:
        ids = [str(r["id"]) for r in rows]
        grants = await self._grants(ids)
        out = []
        for r in rows:
            values = dict(r)
            values["meta"] = loads(values["meta"])
            values["data"] = loads(values["data"])
            out.append(KnowledgeRow(**values, grants=grants[str(r["id"])]))
        return out

    @staticmethod
    async def _write_grants(
        conn: aiosqlite.Connection, knowledge_id: str, grants: Sequence[GrantRow]
    ) -> None:
        await conn.execute("DELETE FROM knowledge_grant WHERE knowledge_id = ?", (knowledge_id,))
        await conn.executemany(
            "INSERT OR IGNORE INTO knowledge_grant "
            "(knowledge_id, principal_type, principal_id, permission) VALUES (?, ?, ?, ?)",
            [(knowledge_id, g.principal_type, g.principal_id, g.permission) for g in grants],
        )

    async def insert(self, row: KnowledgeRow) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO knowledge ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.id,
                    row.user_id,
                    row.name,
                    row.description,
                    dumps(row.meta),
                    dumps(row.data),
                    row.created_at,
                    row.updated_at,
                ),
            )
            await self._write_grants(conn, row.id, row.grants)

    async def get(self, knowledge_id: str) -> KnowledgeRow | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS}, (SELECT COUNT(*) FROM knowledge_file f "
            "WHERE f.knowledge_id = knowledge.id) AS file_count FROM knowledge WHERE id = ?",
            (knowledge_id,),
        )
        if row is None:
            return None
        return (await self._rows([row]))[0]

    async def page(
        self,
        who: Principal | None,
        *,
        permission: str = "read",
        query: str | None = None,
        owned_only: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[list[KnowledgeRow], int]:
        """Knowledge bases `who` may read (or write); everyone's when `who` is None (admin)."""
        where: list[str] = []
        params: list[Any] = []
        if who is not None:
            if owned_only:
                where.append("k.user_id = ?")
                params.append(who.user_id)
            else:
                sql, access_params = access_clause(who, permission)
                where.append(sql)
                params.extend(access_params)
        if query:
            where.append("(k.name LIKE ? ESCAPE '\\' OR k.description LIKE ? ESCAPE '\\')")
            params.extend([_like(query), _like(query)])
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        total = await self._db.fetchone(f"SELECT COUNT(*) FROM knowledge k {clause}", params)
        columns = ", ".join(f"k.{c.strip()}" for c in _COLUMNS.split(","))
        rows = await self._db.fetchall(
            f"SELECT {columns}, (SELECT COUNT(*) FROM knowledge_file f "
            "WHERE f.knowledge_id = k.id) AS file_count "
            f"FROM knowledge k {clause} ORDER BY k.updated_at DESC, k.id LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],
        )
        return await self._rows(rows), int(total[0]) if total else 0

    async def update(
        self, knowledge_id: str, *, grants: Sequence[GrantRow] | None = None, **fields: Any
    ) -> bool:
        assignments, values = set_clause(
            fields, _UPDATABLE, ("meta", "data"), updated_at=int(time.time())
        )
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                f"UPDATE knowledge SET {assignments} WHERE id = ?", [*values, knowledge_id]
            )
            if cur.rowcount == 0:
                return False
            if grants is not None:
                await self._write_grants(conn, knowledge_id, grants)
        return True

    async def touch(self, knowledge_id: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE knowledge SET updated_at = ? WHERE id = ?",
                (int(time.time()), knowledge_id),
            )

    async def delete(self, knowledge_id: str) -> bool:
        async with self._db.transaction() as conn:
            cur = await conn.execute("DELETE FROM knowledge WHERE id = ?", (knowledge_id,))
            return cur.rowcount > 0

    # ---- files of a knowledge base -------------------------------------------------------

    async def file_ids(self, knowledge_ids: Sequence[str]) -> list[str]:
        if not knowledge_ids:
            return []
        rows = await self._db.fetchall(
            f"SELECT DISTINCT file_id FROM knowledge_file WHERE knowledge_id IN "
            f"({_marks(knowledge_ids)}) ORDER BY file_id",
            list(knowledge_ids),
        )
        return [str(r[0]) for r in rows]

    async def searchable_files(self, knowledge_ids: Sequence[str]) -> list[FileRow]:
        """Completed, indexed files of knowledge bases, with only what a search needs (no
        meta, no text): one query, cheap even for thousands of files."""
        if not knowledge_ids:
            return []
        rows = await self._db.fetchall(
            "SELECT DISTINCT f.id, f.user_id, f.kind, f.hash, f.filename, f.chunk_count, "
            "f.index_key, f.created_at, f.updated_at FROM knowledge_file kf "
            "JOIN file f ON f.id = kf.file_id "
            f"WHERE kf.knowledge_id IN ({_marks(knowledge_ids)}) "
            "AND f.status = 'completed' AND f.chunk_count > 0",
            list(knowledge_ids),
        )
        return [
            FileRow(
                id=r[0],
                user_id=r[1],
                kind=r[2],
                hash=r[3],
                filename=r[4],
                status="completed",
                chunk_count=int(r[5]),
                index_key=r[6],
                created_at=int(r[7]),
                updated_at=int(r[8]),
            )
            for r in rows
        ]

    async def files(
        self,
        knowledge_id: str,
        *,
        query: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[list[FileRow], int]:
        where, params = "kf.knowledge_id = ?", [knowledge_id]
        if query:
            where += " AND f.filename LIKE ? ESCAPE '\\'"
            params.append(_like(query))
        total = await self._db.fetchone(
            f"SELECT COUNT(*) FROM knowledge_file kf JOIN file f ON f.id = kf.file_id "
            f"WHERE {where}",
            params,
        )
        columns = ", ".join(f"f.{c.strip()}" for c in FILE_COLUMNS.split(","))
        rows = await self._db.fetchall(
            f"SELECT {columns} FROM knowledge_file kf JOIN file f ON f.id = kf.file_id "
            f"WHERE {where} ORDER BY kf.created_at, f.id LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],
        )
        return [file_from_row(r) for r in rows], int(total[0]) if total else 0

    async def has_hash(self, knowledge_id: str, content_hash: str, except_file: str) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM knowledge_file kf JOIN file f ON f.id = kf.file_id "
            "WHERE kf.knowledge_id = ? AND f.hash = ? AND f.id != ? LIMIT 1",
            (knowledge_id, content_hash, except_file),
        )
        return row is not None

    async def add_files(self, knowledge_id: str, file_ids: Sequence[str], user_id: str) -> None:
        now = int(time.time())
        async with self._db.transaction() as conn:
            await conn.executemany(
                "INSERT OR IGNORE INTO knowledge_file (knowledge_id, file_id, user_id, created_at) "
                "VALUES (?, ?, ?, ?)",
                [(knowledge_id, f, user_id, now) for f in file_ids],
            )
            await conn.execute(
                "UPDATE knowledge SET updated_at = ? WHERE id = ?", (now, knowledge_id)
            )

    async def remove_file(self, knowledge_id: str, file_id: str) -> bool:
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM knowledge_file WHERE knowledge_id = ? AND file_id = ?",
                (knowledge_id, file_id),
            )
            await conn.execute(
                "UPDATE knowledge SET updated_at = ? WHERE id = ?",
                (int(time.time()), knowledge_id),
            )
            return cur.rowcount > 0

    async def reset(self, knowledge_id: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM knowledge_file WHERE knowledge_id = ?", (knowledge_id,))
            await conn.execute(
                "UPDATE knowledge SET updated_at = ? WHERE id = ?",
                (int(time.time()), knowledge_id),
            )

    async def readable_with_file(self, file_id: str, who: Principal) -> bool:
        """Whether `who` may read some knowledge base that holds the file."""
        sql, params = access_clause(who, "read")
        row = await self._db.fetchone(
            "SELECT 1 FROM knowledge_file kf JOIN knowledge k ON k.id = kf.knowledge_id "
            f"WHERE kf.file_id = ? AND {sql} LIMIT 1",
            [file_id, *params],
        )
        return row is not None
