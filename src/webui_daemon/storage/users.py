"""UserRepo and AuthRepo: users, password hashes, API keys and revoked tokens."""

import time
from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads, set_clause
from webui_daemon.storage.rows import UserRow

_USER_COLUMNS = (
    "id, email, username, name, role, profile_image_url, bio, gender, date_of_birth, timezone, "
    "info, settings, oauth, os_uid, last_active_at, created_at, updated_at, "
    "status_emoji, status_message, status_expires_at"
)
_JSON_COLUMNS = ("info", "settings", "oauth")
# Columns an update may touch; anything else is a programming error.
_UPDATABLE = frozenset(
    {
        "email",
        "username",
        "name",
        "role",
        "profile_image_url",
        "bio",
        "gender",
        "date_of_birth",
        "timezone",
        "info",
        "settings",
        "oauth",
        "last_active_at",
        "status_emoji",
        "status_message",
        "status_expires_at",
    }
)
_ORDERABLE = frozenset({"created_at", "name", "email", "role", "last_active_at", "updated_at"})


def _user(row: aiosqlite.Row) -> UserRow:
    values = dict(row)
    for column in _JSON_COLUMNS:
        values[column] = loads(values[column])
    return UserRow(**values)


class UserRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, conn: aiosqlite.Connection, user: UserRow, password_hash: str) -> None:
        await conn.execute(
            f"INSERT INTO user ({_USER_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user.id,
                user.email,
                user.username,
                user.name,
                user.role,
                user.profile_image_url,
                user.bio,
                user.gender,
                user.date_of_birth,
                user.timezone,
                dumps(user.info),
                dumps(user.settings),
                dumps(user.oauth),
                user.os_uid,
                user.last_active_at,
                user.created_at,
                user.updated_at,
                user.status_emoji,
                user.status_message,
                user.status_expires_at,
            ),
        )
        await conn.execute(
            "INSERT INTO auth (id, password, active) VALUES (?, ?, 1)", (user.id, password_hash)
        )

    async def email_exists(self, conn: aiosqlite.Connection, email: str) -> bool:
        async with conn.execute("SELECT 1 FROM user WHERE email = ?", (email,)) as cur:
            return (await cur.fetchone()) is not None

    async def count(self, conn: aiosqlite.Connection | None = None) -> int:
        sql = "SELECT COUNT(*) FROM user"
        if conn is not None:
            async with conn.execute(sql) as cur:
                row = await cur.fetchone()
        else:
            row = await self._db.fetchone(sql)
        return int(row[0]) if row else 0

    async def get(self, user_id: str) -> UserRow | None:
        row = await self._db.fetchone(
            f"SELECT {_USER_COLUMNS} FROM user WHERE id = ?",
            (user_id,),
        )
        return _user(row) if row else None

    async def get_by_email(self, email: str) -> UserRow | None:
        row = await self._db.fetchone(
            f"SELECT {_USER_COLUMNS} FROM user WHERE email = ?",
            (email,),
        )
        return _user(row) if row else None

    async def get_by_os_uid(self, uid: int) -> UserRow | None:
        row = await self._db.fetchone(
            f"SELECT {_USER_COLUMNS} FROM user WHERE os_uid = ?",
            (uid,),
        )
        return _user(row) if row else None

    async def get_by_api_key(self, key: str) -> UserRow | None:
        row = await self._db.fetchone(
            f"SELECT {', '.join('u.' + c.strip() for c in _USER_COLUMNS.split(','))} "
            "FROM api_key k JOIN user u ON u.id = k.user_id WHERE k.key = ?",
            (key,),
        )
        return _user(row) if row else None

    async def page(
        self,
        *,
        query: str | None = None,
        order_by: str = "created_at",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[list[UserRow], int]:
        where, params = "", []
        if query:
            where = "WHERE name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\'"
            pattern = (
                "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            params = [pattern, pattern]
        column = order_by if order_by in _ORDERABLE else "created_at"
        direction = "DESC" if descending else "ASC"
        total_row = await self._db.fetchone(
            f"SELECT COUNT(*) FROM user {where}",
            params,
        )
        sql = (
            f"SELECT {_USER_COLUMNS} FROM user {where} "
            f"ORDER BY {column} {direction}, id LIMIT ? OFFSET ?"
        )
        rows = await self._db.fetchall(sql, [*params, -1 if limit is None else limit, offset])
        return [_user(r) for r in rows], int(total_row[0]) if total_row else 0

    async def first(self) -> UserRow | None:
        row = await self._db.fetchone(
            f"SELECT {_USER_COLUMNS} FROM user ORDER BY created_at, rowid LIMIT 1"
        )
        return _user(row) if row else None

    async def update(self, conn: aiosqlite.Connection, user_id: str, **fields: Any) -> None:
        if not fields:
            return
        assignments, values = set_clause(
            fields, _UPDATABLE, _JSON_COLUMNS, updated_at=int(time.time())
        )
        await conn.execute(f"UPDATE user SET {assignments} WHERE id = ?", (*values, user_id))

    async def touch(self, user_id: str) -> None:
        """Record activity; skipped when it would only move last_active_at by under a minute."""
        now = int(time.time())
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE user SET last_active_at = ? WHERE id = ? AND last_active_at < ?",
                (now, user_id, now - 60),
            )

    async def delete(self, conn: aiosqlite.Connection, user_id: str) -> bool:
        cur = await conn.execute("DELETE FROM user WHERE id = ?", (user_id,))
        return cur.rowcount > 0


class AuthRepo:
    """Password hashes, API keys and revoked JWT ids."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def password_hash(self, user_id: str) -> str | None:
        row = await self._db.fetchone(
            "SELECT password FROM auth WHERE id = ? AND active = 1", (user_id,)
        )
        return str(row[0]) if row else None

    async def set_password(self, conn: aiosqlite.Connection, user_id: str, hashed: str) -> None:
        await conn.execute("UPDATE auth SET password = ? WHERE id = ?", (hashed, user_id))

    async def api_key(self, user_id: str) -> str | None:
        row = await self._db.fetchone("SELECT key FROM api_key WHERE user_id = ?", (user_id,))
        return str(row[0]) if row else None

    async def set_api_key(self, user_id: str, key: str) -> None:
        """One key per user: a new key replaces the old one."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO api_key (id, user_id, key, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET key = excluded.key, "
                "created_at = excluded.created_at",
                (f"key_{user_id}", user_id, key, int(time.time())),
            )

    async def delete_api_key(self, user_id: str) -> bool:
        async with self._db.transaction() as conn:
            cur = await conn.execute("DELETE FROM api_key WHERE user_id = ?", (user_id,))
            return cur.rowcount > 0

    async def revoke(self, jti: str, expires_at: int | None) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO revoked_token (jti, expires_at) VALUES (?, ?)",
                (jti, expires_at),
            )
            # Expired tokens fail on their own; forget them so the table stays small.
            await conn.execute(
                "DELETE FROM revoked_token WHERE expires_at IS NOT NULL AND expires_at < ?",
                (int(time.time()),),
            )

    async def is_revoked(self, jti: str) -> bool:
        row = await self._db.fetchone("SELECT 1 FROM revoked_token WHERE jti = ?", (jti,))
        return row is not None
