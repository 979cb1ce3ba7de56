"""FileRepo: uploaded files and indexed texts, their processing status and extracted text."""

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads, set_clause

# Every column but `content`, which only the routes that show extracted text read.
FILE_COLUMNS = (
    "id, user_id, kind, hash, filename, path, meta, status, error, chunk_count, index_key, "
    "text_collection, auto_process, created_at, updated_at"
)
_UPDATABLE = frozenset(
    {
        "status",
        "error",
        "content",
        "chunk_count",
        "index_key",
        "meta",
        "hash",
        "path",
        "auto_process",
    }
)
_ORDERABLE = frozenset({"created_at", "updated_at", "filename"})


@dataclass(frozen=True, slots=True)
class FileRow:
    id: str
    user_id: str
    kind: str
    hash: str
    filename: str
    created_at: int
    updated_at: int
    path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"
    error: str | None = None
    chunk_count: int = 0
    index_key: str | None = None
    text_collection: str | None = None
    auto_process: bool = True
    content: str | None = None


def file_from_row(row: aiosqlite.Row, *, with_content: bool = False) -> FileRow:
    values = dict(row)
    values["meta"] = loads(values["meta"]) or {}
    values["auto_process"] = bool(values["auto_process"])
    if not with_content:
        values.pop("content", None)
    return FileRow(**values)


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class FileRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, row: FileRow) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO file ({FILE_COLUMNS}, content) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.id,
                    row.user_id,
                    row.kind,
                    row.hash,
                    row.filename,
                    row.path,
                    dumps(row.meta),
                    row.status,
                    row.error,
                    row.chunk_count,
                    row.index_key,
                    row.text_collection,
                    int(row.auto_process),
                    row.created_at,
                    row.updated_at,
                    row.content,
                ),
            )

    async def get(self, file_id: str, *, with_content: bool = False) -> FileRow | None:
        columns = f"{FILE_COLUMNS}, content" if with_content else FILE_COLUMNS
        row = await self._db.fetchone(f"SELECT {columns} FROM file WHERE id = ?", (file_id,))
        return file_from_row(row, with_content=with_content) if row else None

    async def get_many(
        self, file_ids: Sequence[str], *, with_content: bool = False
    ) -> dict[str, FileRow]:
        out: dict[str, FileRow] = {}
        columns = f"{FILE_COLUMNS}, content" if with_content else FILE_COLUMNS
        ids = list(dict.fromkeys(file_ids))
        for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            part = ids[start : start + 500]
            rows = await self._db.fetchall(
                f"SELECT {columns} FROM file WHERE id IN ({_marks(part)})", part
            )
            for r in rows:
                out[str(r["id"])] = file_from_row(r, with_content=with_content)
        return out

    async def page(
        self,
        *,
        user_id: str | None,
        kind: str = "upload",
        filename_like: str | None = None,
        filename_glob: str | None = None,
        order_by: str = "created_at",
        descending: bool = True,
        limit: int | None = None,
        offset: int = 0,
        with_content: bool = False,
    ) -> tuple[list[FileRow], int]:
        """Files of one user (or everyone's when user_id is None), newest first."""
        where, params = ["kind = ?"], [kind]
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        if filename_like:
            where.append("filename LIKE ? ESCAPE '\\'")
            params.append(_like(filename_like))
        if filename_glob:
            where.append("filename GLOB ?")
            params.append(filename_glob)
        clause = " AND ".join(where)
        column = order_by if order_by in _ORDERABLE else "created_at"
        direction = "DESC" if descending else "ASC"
        total = await self._db.fetchone(f"SELECT COUNT(*) FROM file WHERE {clause}", params)
        columns = f"{FILE_COLUMNS}, content" if with_content else FILE_COLUMNS
        rows = await self._db.fetchall(
            f"SELECT {columns} FROM file WHERE {clause} "
            f"ORDER BY {column} {direction}, id LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],
        )
        return [file_from_row(r, with_content=with_content) for r in rows], int(
            total[0]
        ) if total else 0

    async def text_collection(self, user_id: str, name: str) -> list[FileRow]:
        rows = await self._db.fetchall(
            f"SELECT {FILE_COLUMNS} FROM file WHERE user_id = ? AND kind = 'text' "
            "AND text_collection = ? ORDER BY created_at",
            (user_id, name),
        )
        return [file_from_row(r) for r in rows]

    async def completed_with_hash(self, content_hash: str, index_key: str) -> FileRow | None:
        """A file with these bytes whose index rows were built the same way, if any."""
        row = await self._db.fetchone(
            f"SELECT {FILE_COLUMNS}, content FROM file WHERE hash = ? AND status = 'completed' "
            "AND index_key = ? AND content IS NOT NULL ORDER BY created_at LIMIT 1",
            (content_hash, index_key),
        )
        return file_from_row(row, with_content=True) if row else None

    async def unfinished(self) -> list[FileRow]:
        rows = await self._db.fetchall(
            f"SELECT {FILE_COLUMNS} FROM file WHERE status IN ('pending', 'processing') "
            "AND auto_process = 1 "
            "ORDER BY created_at"
        )
        return [file_from_row(r) for r in rows]

    async def stale(self, index_key: str) -> list[FileRow]:
        """Completed files whose index rows were built with another model or chunking."""
        rows = await self._db.fetchall(
            f"SELECT {FILE_COLUMNS} FROM file WHERE status = 'completed' "
            "AND (index_key IS NULL OR index_key != ?) ORDER BY created_at",
            (index_key,),
        )
        return [file_from_row(r) for r in rows]

    async def update(self, file_id: str, **fields: Any) -> bool:
        assignments, values = set_clause(fields, _UPDATABLE, ("meta",), updated_at=int(time.time()))
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                f"UPDATE file SET {assignments} WHERE id = ?", [*values, file_id]
            )
            return cur.rowcount > 0

    async def delete(self, file_ids: Iterable[str]) -> int:
        ids = list(file_ids)
        deleted = 0
        async with self._db.transaction() as conn:
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                cur = await conn.execute(f"DELETE FROM file WHERE id IN ({_marks(part)})", part)
                deleted += cur.rowcount
        return deleted

    async def all_ids(self, kind: str | None = None) -> list[str]:
        if kind is None:
            rows = await self._db.fetchall("SELECT id FROM file")
        else:
            rows = await self._db.fetchall("SELECT id FROM file WHERE kind = ?", (kind,))
        return [str(r[0]) for r in rows]
