"""Access grants in SQL: who holds one (one clause for every table), and GrantRepo for the
workspace records (prompts, notes) whose grants live in 0.12's one `access_grant` table."""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database


@dataclass(frozen=True, slots=True)
class GrantRow:
    principal_type: str  # "user" | "group"
    principal_id: str  # a user or group id; "*" with "user" means everyone
    permission: str  # "read" | "write"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who asks: a user and the groups they belong to."""

    user_id: str
    group_ids: tuple[str, ...] = field(default_factory=tuple)


def marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def holds_grant(who: Principal, owner_id: str, grants: Sequence[GrantRow], permission: str) -> bool:
    """The owner always; others through a grant (a write grant also allows reading)."""
    if owner_id == who.user_id:
        return True
    allowed = ("read", "write") if permission == "read" else ("write",)
    for grant in grants:
        if grant.permission not in allowed:
            continue
        if grant.principal_type == "user" and grant.principal_id in ("*", who.user_id):
            return True
        if grant.principal_type == "group" and grant.principal_id in who.group_ids:
            return True
    return False


def grant_clause(
    who: Principal,
    permission: str,
    *,
    alias: str,
    table: str,
    key: str,
    kind: str | None = None,
) -> tuple[str, list[Any]]:
    """SQL that holds when `who` owns the row `alias` (its `user_id`) or holds a grant for
    `permission` in `table` (whose `key` column names the row; `kind` its resource_type)."""
    permissions = ["read", "write"] if permission == "read" else ["write"]
    kind_sql = ""
    params: list[Any] = [who.user_id]
    if kind is not None:
        kind_sql = "g.resource_type = ? AND "
        params.append(kind)
    params.extend([*permissions, who.user_id])
    group_sql = "0"
    if who.group_ids:
        group_sql = f"(g.principal_type = 'group' AND g.principal_id IN ({marks(who.group_ids)}))"
        params.extend(who.group_ids)
    sql = (
        f"({alias}.user_id = ? OR EXISTS (SELECT 1 FROM {table} g WHERE {kind_sql}"
        f"g.{key} = {alias}.id AND g.permission IN ({marks(permissions)}) AND "
        f"((g.principal_type = 'user' AND g.principal_id IN (?, '*')) OR {group_sql})))"
    )
    return sql, params


class GrantRepo:
    """The grants of one kind of workspace record (`resource_type`: "prompt", "note")."""

    def __init__(self, db: Database, resource_type: str) -> None:
        self._db = db
        self.kind = resource_type

    def clause(self, who: Principal, permission: str, alias: str) -> tuple[str, list[Any]]:
        return grant_clause(
            who, permission, alias=alias, table="access_grant", key="resource_id", kind=self.kind
        )

    async def of(self, ids: Sequence[str]) -> dict[str, tuple[GrantRow, ...]]:
        out: dict[str, list[GrantRow]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            part = list(ids[start : start + 500])
            rows = await self._db.fetchall(
                "SELECT resource_id, principal_type, principal_id, permission FROM access_grant "
                f"WHERE resource_type = ? AND resource_id IN ({marks(part)}) "
                "ORDER BY created_at, principal_type, principal_id, permission",
                [self.kind, *part],
            )
            for r in rows:
                out[str(r[0])].append(GrantRow(str(r[1]), str(r[2]), str(r[3])))
        return {k: tuple(v) for k, v in out.items()}

    async def write(
        self, conn: aiosqlite.Connection, resource_id: str, grants: Sequence[GrantRow]
    ) -> None:
        """Replace the record's grants, inside the caller's transaction."""
        await conn.execute(
            "DELETE FROM access_grant WHERE resource_type = ? AND resource_id = ?",
            (self.kind, resource_id),
        )
        now = int(time.time())
        await conn.executemany(
            "INSERT OR IGNORE INTO access_grant (resource_type, resource_id, principal_type, "
            "principal_id, permission, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (self.kind, resource_id, g.principal_type, g.principal_id, g.permission, now)
                for g in grants
            ],
        )
