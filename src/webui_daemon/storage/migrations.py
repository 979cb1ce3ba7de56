"""Named, append-only schema migrations, recorded in the `_migrations` table.

Never edit or reorder a migration that has shipped: add a new one at the end.
"""

import time
from typing import NamedTuple

import aiosqlite


class Migration(NamedTuple):
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_users_auth_groups",
        """
        CREATE TABLE user (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            username TEXT,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'user', 'pending')),
            profile_image_url TEXT NOT NULL,
            bio TEXT,
            gender TEXT,
            date_of_birth TEXT,
            timezone TEXT,
            info TEXT,
            settings TEXT,
            oauth TEXT,
            os_uid INTEGER UNIQUE,
            last_active_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX user_created_at ON user (created_at);
        CREATE TABLE auth (
            id TEXT PRIMARY KEY REFERENCES user (id) ON DELETE CASCADE,
            password TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE api_key (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL UNIQUE REFERENCES user (id) ON DELETE CASCADE,
            key TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE revoked_token (
            jti TEXT PRIMARY KEY,
            expires_at INTEGER
        );
        CREATE TABLE "group" (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            permissions TEXT,
            data TEXT,
            meta TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE group_member (
            group_id TEXT NOT NULL REFERENCES "group" (id) ON DELETE CASCADE,
            user_id TEXT NOT NULL REFERENCES user (id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (group_id, user_id)
        );
        CREATE INDEX group_member_user ON group_member (user_id);
        CREATE TABLE config (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );
        """,
    ),
)


async def applied_migrations(conn: aiosqlite.Connection) -> list[str]:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations "
        "(name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
    )
    async with conn.execute("SELECT name FROM _migrations ORDER BY rowid") as cur:
        return [str(row[0]) for row in await cur.fetchall()]


async def apply_migrations(
    conn: aiosqlite.Connection, migrations: tuple[Migration, ...] = MIGRATIONS
) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction; return their names."""
    done = set(await applied_migrations(conn))
    applied: list[str] = []
    for migration in migrations:
        if migration.name in done:
            continue
        # One script so that the schema change and its record commit (or fail) together.
        script = (
            "BEGIN IMMEDIATE;\n"
            f"{migration.sql}\n"
            f"INSERT INTO _migrations (name, applied_at) VALUES "
            f"('{migration.name}', {int(time.time())});\n"
            "COMMIT;"
        )
        try:
            await conn.executescript(script)
        except Exception:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        applied.append(migration.name)
    return applied
