"""One SQLite database: a writer connection behind a lock and a reader connection, both WAL."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Collection, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from webui_daemon.storage.migrations import apply_migrations

Params = Iterable[Any] | dict[str, Any]


def dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def set_clause(
    fields: dict[str, Any],
    updatable: Collection[str],
    json_columns: Collection[str] = (),
    **always: Any,
) -> tuple[str, list[Any]]:
    """The `a = ?, b = ?` of an UPDATE and its values: only known columns (anything else is a
    programming error), JSON columns encoded; `always` (e.g. updated_at) is added unchecked."""
    unknown = set(fields) - set(updatable)
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    columns = {**fields, **always}
    values = [dumps(v) if k in json_columns else v for k, v in columns.items()]
    return ", ".join(f"{k} = ?" for k in columns), values


async def _to_the_end(statement: Awaitable[Any]) -> None:
    """Await a statement; if the caller is cancelled meanwhile, the statement still finishes
    (and then the cancellation goes on), so the connection's state is known."""
    task = asyncio.ensure_future(statement)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done() and task.cancelled():
                raise
            cancelled = True
    task.result()  # its own error, if any
    if cancelled:
        raise asyncio.CancelledError


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a read never opens a transaction.
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    try:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        await conn.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        await conn.close()  # e.g. "file is not a database": no thread left behind
        raise
    return conn


class Database:
    """Writes go through `transaction()` one at a time; reads use a second connection so they
    never see another coroutine's uncommitted writes, and each read sees every write committed
    before it started."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        try:
            self._writer = await _connect(self.path)
            await apply_migrations(self._writer)
            self._reader = await _connect(self.path)
        except BaseException:
            # aiosqlite's threads are not daemons: an open connection would keep a daemon
            # that failed to start alive forever.
            await self.close()
            raise

    async def close(self) -> None:
        # Taking the lock waits for an in-flight write to commit before the connection goes.
        async with self._write_lock:
            for conn in (self._reader, self._writer):
                if conn is not None:
                    await conn.close()
            self._reader = self._writer = None

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("database is not open")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time: committed when the block ends, rolled back when it
        raises (or is cancelled). BEGIN, COMMIT and ROLLBACK run to the end even when the task
        is cancelled meanwhile: aiosqlite carries a statement out once it is queued, and a BEGIN
        whose caller left used to stay open, failing every later write."""
        async with self._write_lock:
            conn = self._writer
            if conn is None:
                raise RuntimeError("database is not open")
            if conn.in_transaction:  # left open by a crash between statements: start clean
                await _to_the_end(conn.execute("ROLLBACK"))
            await _to_the_end(conn.execute("BEGIN IMMEDIATE"))
            try:
                yield conn
            except BaseException:
                await _to_the_end(conn.execute("ROLLBACK"))
                raise
            await _to_the_end(conn.execute("COMMIT"))

    # Every read runs to completion in one hop to the reader's thread. A statement left open
    # between hops (execute, then fetch, then close) holds the reader's snapshot, and coroutines
    # sharing the connection start theirs inside it: under steady load the snapshot never
    # advanced, so a chat just committed by the writer was "not found" when read back.
    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        rows = await self.reader.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        return list(await self.reader.execute_fetchall(sql, params))

    async def ping(self) -> bool:
        row = await self.fetchone("SELECT 1")
        return row is not None
