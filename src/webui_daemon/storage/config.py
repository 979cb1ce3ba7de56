"""ConfigRepo: persistent key/value settings (Open WebUI's persistent config)."""

import json
import time
from typing import Any

from webui_daemon.storage.db import Database


class ConfigRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> dict[str, Any]:
        rows = await self._db.fetchall("SELECT key, value FROM config")
        return {str(r[0]): json.loads(r[1]) for r in rows}

    async def get(self, key: str) -> Any:
        row = await self._db.fetchone("SELECT value FROM config WHERE key = ?", (key,))
        return None if row is None else json.loads(row[0])

    async def set_many(self, values: dict[str, Any]) -> None:
        now = int(time.time())
        async with self._db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO config (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                [(k, json.dumps(v), now) for k, v in values.items()],
            )
