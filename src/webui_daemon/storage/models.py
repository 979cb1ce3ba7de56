"""ModelRepo: workspace model records (presets, and overrides of provider models)."""

import time
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads

_COLUMNS = (
    "id, user_id, base_model_id, name, meta, params, access_grants, is_active, "
    "created_at, updated_at"
)


@dataclass(frozen=True, slots=True)
class ModelRow:
    id: str
    user_id: str
    name: str
    created_at: int
    updated_at: int
    base_model_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    # Open WebUI 0.12's grants: {"principal_type": "user"|"group", "principal_id", "permission"}.
    access_grants: list[dict[str, Any]] = field(default_factory=list)
    is_active: bool = True


def _values(model: ModelRow) -> tuple[Any, ...]:
    """The row's values in `_COLUMNS` order."""
    return (
        model.id,
        model.user_id,
        model.base_model_id,
        model.name,
        dumps(model.meta),
        dumps(model.params),
        dumps(model.access_grants),
        int(model.is_active),
        model.created_at,
        model.updated_at,
    )


def _row(row: aiosqlite.Row) -> ModelRow:
    values = dict(row)
    for column in ("meta", "params"):
        values[column] = loads(values[column]) or {}
    values["access_grants"] = loads(values["access_grants"]) or []
    values["is_active"] = bool(values["is_active"])
    return ModelRow(**values)


class ModelRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[ModelRow]:
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM model ORDER BY created_at, id")
        return [_row(r) for r in rows]

    async def get(self, model_id: str) -> ModelRow | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM model WHERE id = ?", (model_id,))
        return _row(row) if row else None

    async def insert(self, model: ModelRow) -> bool:
        """False when the id is taken."""
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                f"INSERT OR IGNORE INTO model ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _values(model),
            )
            return cur.rowcount > 0

    async def save_many(self, models: list[ModelRow], *, delete_others: bool = False) -> None:
        """Insert or replace `models` in one transaction; with `delete_others`, every other
        record goes (a sync)."""
        async with self._db.transaction() as conn:
            if delete_others:
                keep = [m.id for m in models]
                marks = ", ".join("?" for _ in keep)
                where = f" WHERE id NOT IN ({marks})" if keep else ""
                await conn.execute(f"DELETE FROM model{where}", keep)
            await conn.executemany(
                f"INSERT INTO model ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET base_model_id = excluded.base_model_id, "
                "name = excluded.name, meta = excluded.meta, params = excluded.params, "
                "access_grants = excluded.access_grants, is_active = excluded.is_active, "
                "updated_at = excluded.updated_at",
                [_values(m) for m in models],
            )

    async def update(self, model: ModelRow) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE model SET base_model_id = ?, name = ?, meta = ?, params = ?, "
                "access_grants = ?, is_active = ?, updated_at = ? WHERE id = ?",
                (
                    model.base_model_id,
                    model.name,
                    dumps(model.meta),
                    dumps(model.params),
                    dumps(model.access_grants),
                    int(model.is_active),
                    int(time.time()),
                    model.id,
                ),
            )

    async def delete(self, model_id: str) -> bool:
        async with self._db.transaction() as conn:
            cur = await conn.execute("DELETE FROM model WHERE id = ?", (model_id,))
            return cur.rowcount > 0

    async def delete_all(self) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM model")
