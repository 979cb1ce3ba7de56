"""ConnectionRepo: provider connection settings as an admin saved them (one row per kind)."""

import time
from dataclasses import dataclass, field
from typing import Any

from webui_daemon.storage.db import Database, dumps, loads


@dataclass(frozen=True, slots=True)
class ConnectionConfigRow:
    provider: str  # "ollama" | "openai"
    enabled: bool
    urls: list[str]
    api_keys: list[str] = field(default_factory=list)
    configs: dict[str, Any] = field(default_factory=dict)
    updated_at: int = 0


class ConnectionRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, provider: str) -> ConnectionConfigRow | None:
        row = await self._db.fetchone(
            "SELECT provider, enabled, urls, api_keys, configs, updated_at "
            "FROM connection_config WHERE provider = ?",
            (provider,),
        )
        if row is None:
            return None
        return ConnectionConfigRow(
            provider=str(row["provider"]),
            enabled=bool(row["enabled"]),
            urls=list(loads(row["urls"]) or []),
            api_keys=list(loads(row["api_keys"]) or []),
            configs=dict(loads(row["configs"]) or {}),
            updated_at=int(row["updated_at"]),
        )

    async def save(self, row: ConnectionConfigRow) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO connection_config "
                "(provider, enabled, urls, api_keys, configs, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider) DO UPDATE SET "
                "enabled = excluded.enabled, urls = excluded.urls, "
                "api_keys = excluded.api_keys, configs = excluded.configs, "
                "updated_at = excluded.updated_at",
                (
                    row.provider,
                    int(row.enabled),
                    dumps(row.urls),
                    dumps(row.api_keys),
                    dumps(row.configs),
                    int(time.time()),
                ),
            )
