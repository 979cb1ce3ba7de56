"""Schema migrations: named, append-only, recorded in `_migrations`, all-or-nothing; and the
connection settings Database gives every connection (WAL, foreign keys, busy timeout)."""

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from webui_daemon.storage.db import Database
from webui_daemon.storage.migrations import (
    MIGRATIONS,
    Migration,
    applied_migrations,
    apply_migrations,
)

NAMES = [m.name for m in MIGRATIONS]


@pytest.fixture
async def conn(tmp_path: Path) -> AsyncIterator[aiosqlite.Connection]:
    connection = await aiosqlite.connect(tmp_path / "test.db", isolation_level=None)
    try:
        yield connection
    finally:
        await connection.close()


async def _recorded(conn: aiosqlite.Connection) -> list[tuple[str, int]]:
    async with conn.execute("SELECT name, applied_at FROM _migrations ORDER BY rowid") as cur:
        return [(str(r[0]), int(r[1])) for r in await cur.fetchall()]


async def _tables(conn: aiosqlite.Connection) -> set[str]:
    async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cur:
        return {str(r[0]) for r in await cur.fetchall()}


def test_migration_names_are_unique_numbered_and_in_order() -> None:
    assert MIGRATIONS, "no migrations at all"
    assert len(set(NAMES)) == len(NAMES)
    for index, name in enumerate(NAMES, start=1):
        # Also keeps names safe to embed in the recording SQL (no quotes).
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+", name), name
        assert int(name[:4]) == index, f"{name}: numbers must run 0001, 0002, ... without gaps"


async def test_blank_database_gets_every_migration_once(conn: aiosqlite.Connection) -> None:
    assert await apply_migrations(conn) == NAMES
    recorded = await _recorded(conn)
    assert [name for name, _ in recorded] == NAMES
    assert all(applied_at > 1_600_000_000 for _, applied_at in recorded)
    assert await applied_migrations(conn) == NAMES
    assert {"user", "auth", "api_key", "revoked_token", "group", "group_member", "config"} <= (
        await _tables(conn)
    )
    assert not conn.in_transaction

    # Running again applies nothing and records nothing new.
    assert await apply_migrations(conn) == []
    assert await _recorded(conn) == recorded


async def _schema(conn: aiosqlite.Connection) -> list[tuple[str, str]]:
    async with conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
    ) as cur:
        return [(str(r[0]), str(r[1])) for r in await cur.fetchall()]


async def test_upgrade_from_each_older_schema_keeps_data(tmp_path: Path) -> None:
    blank = await aiosqlite.connect(tmp_path / "blank.db", isolation_level=None)
    try:
        await apply_migrations(blank)
        expected = await _schema(blank)
    finally:
        await blank.close()
    for done in range(1, len(MIGRATIONS)):
        conn = await aiosqlite.connect(tmp_path / f"from-{done}.db", isolation_level=None)
        try:
            assert await apply_migrations(conn, MIGRATIONS[:done]) == NAMES[:done]
            await conn.execute(
                "INSERT INTO config (key, value, updated_at) VALUES ('probe', '1', 0)"
            )
            assert await apply_migrations(conn) == NAMES[done:]
            assert await applied_migrations(conn) == NAMES
            assert await _schema(conn) == expected  # the same schema as from a blank database
            async with conn.execute("SELECT value FROM config WHERE key = 'probe'") as cur:
                assert await cur.fetchone() == ("1",)
        finally:
            await conn.close()


FAILING = (
    Migration("0001_fine", "CREATE TABLE fine (x INTEGER);"),
    Migration(
        "0002_broken",
        """
        CREATE TABLE half_done (x INTEGER);
        INSERT INTO fine (x) VALUES (42);
        ALTER TABLE fine ADD COLUMN y TEXT;
        INSERT INTO no_such_table VALUES (1);
        """,
    ),
    Migration("0003_later", "CREATE TABLE later (x INTEGER);"),
)


async def test_failing_migration_leaves_neither_changes_nor_record(
    conn: aiosqlite.Connection,
) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        await apply_migrations(conn, FAILING)
    assert await applied_migrations(conn) == ["0001_fine"]
    tables = await _tables(conn)
    assert "fine" in tables
    assert "half_done" not in tables and "later" not in tables
    async with conn.execute("SELECT COUNT(*) FROM fine") as cur:
        assert await cur.fetchone() == (0,)
    async with conn.execute("SELECT name FROM pragma_table_info('fine')") as cur:
        assert [r[0] for r in await cur.fetchall()] == ["x"]
    assert not conn.in_transaction

    # Once the migration is fixed, the same connection carries on from where it stopped.
    fixed = (
        FAILING[0],
        Migration("0002_broken", "CREATE TABLE half_done (x INTEGER);"),
        FAILING[2],
    )
    assert await apply_migrations(conn, fixed) == ["0002_broken", "0003_later"]
    assert await applied_migrations(conn) == ["0001_fine", "0002_broken", "0003_later"]


async def test_syntax_error_in_the_first_statement(conn: aiosqlite.Connection) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await apply_migrations(conn, (Migration("0001_typo", "CREAT TABLE t (x);"),))
    assert await applied_migrations(conn) == []
    assert not conn.in_transaction


async def _pragma(conn: aiosqlite.Connection, name: str) -> object:
    async with conn.execute(f"PRAGMA {name}") as cur:
        row = await cur.fetchone()
    assert row is not None
    return row[0]


async def test_database_connections_use_wal_foreign_keys_and_a_busy_timeout(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "webui.db")
    await db.open()
    try:
        async with db.transaction() as writer:
            for conn in (db.reader, writer):
                assert await _pragma(conn, "journal_mode") == "wal"
                assert await _pragma(conn, "foreign_keys") == 1
                assert await _pragma(conn, "busy_timeout") == 5000
        names = await db.fetchall("SELECT name FROM _migrations ORDER BY rowid")
        assert [r[0] for r in names] == NAMES

        # Foreign keys are enforced, and cascades run.
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO group_member (group_id, user_id, created_at) "
                    "VALUES ('no-group', 'no-user', 0)"
                )
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO user (id, email, name, role, profile_image_url, last_active_at, "
                "created_at, updated_at) VALUES ('u1', 'u@x.io', 'U', 'user', '/u.png', 0, 0, 0)"
            )
            await conn.execute("INSERT INTO auth (id, password) VALUES ('u1', 'h')")
        async with db.transaction() as conn:
            await conn.execute("DELETE FROM user WHERE id = 'u1'")
        assert await db.fetchall("SELECT id FROM auth") == []
        assert await db.ping()
    finally:
        await db.close()

    # Opening the same file again migrates nothing.
    again = Database(tmp_path / "webui.db")
    await again.open()
    try:
        rows = await again.fetchall("SELECT COUNT(*) FROM _migrations")
        assert rows[0][0] == len(NAMES)
    finally:
        await again.close()


async def test_a_failed_transaction_rolls_back(tmp_path: Path) -> None:
    db = Database(tmp_path / "webui.db")
    await db.open()
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO config (key, value, updated_at) VALUES ('k', '1', 0)"
                )
                raise RuntimeError("boom")
        assert await db.fetchall("SELECT key FROM config") == []
        # The writer is usable again (the lock was released, no transaction left open).
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO config (key, value, updated_at) VALUES ('k', '2', 0)")
        assert [r[0] for r in await db.fetchall("SELECT value FROM config")] == ["2"]
    finally:
        await db.close()


@pytest.mark.parametrize("yields", [1, 2, 3, 4, 5, 6])
async def test_a_transaction_cancelled_at_any_point_leaves_the_writer_usable(
    tmp_path: Path, yields: int
) -> None:
    # Cancelled while BEGIN, the INSERT or COMMIT is on its way to SQLite's thread (a client
    # that hung up, an ingest job cancelled): every later write used to fail with "cannot start
    # a transaction within a transaction".
    db = Database(tmp_path / "webui.db")
    await db.open()
    try:

        async def write(value: str) -> None:
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO config (key, value, updated_at) VALUES (?, ?, 0)", (value, value)
                )

        task = asyncio.create_task(write("cancelled"))
        for _ in range(yields):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await write("after")
        keys = {r[0] for r in await db.fetchall("SELECT key FROM config")}
        # All or nothing: the cancelled write committed whole or not at all.
        assert "after" in keys and keys <= {"after", "cancelled"}
    finally:
        await db.close()
