"""TagRepo: a user's chat tags (`{id, name, user_id, meta}`; chats list tag ids in meta.tags)."""

from collections.abc import Iterable

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads
from webui_daemon.storage.rows import TagRow

_COLUMNS = "id, name, user_id, meta"


def _tag(row: aiosqlite.Row) -> TagRow:
    return TagRow(id=str(row[0]), name=str(row[1]), user_id=str(row[2]), meta=loads(row[3]))


class TagRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def for_user(self, user_id: str) -> list[TagRow]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM tag WHERE user_id = ? ORDER BY id", (user_id,)
        )
        return [_tag(r) for r in rows]

    async def by_ids(self, user_id: str, tag_ids: list[str]) -> list[TagRow]:
        """The user's tags with these ids, in the order given (unknown ids are skipped)."""
        if not tag_ids:
            return []
        marks = ",".join("?" * len(tag_ids))
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM tag WHERE user_id = ? AND id IN ({marks})",
            (user_id, *tag_ids),
        )
        found = {str(r[0]): _tag(r) for r in rows}
        return [found[t] for t in tag_ids if t in found]

    async def ensure(
        self, conn: aiosqlite.Connection, user_id: str, tags: Iterable[tuple[str, str]]
    ) -> None:
        """Create the (id, name) tags the user does not have yet."""
        await conn.executemany(
            "INSERT OR IGNORE INTO tag (id, name, user_id, meta) VALUES (?, ?, ?, ?)",
            [(tag_id, name, user_id, dumps({})) for tag_id, name in tags],
        )

    async def delete_except(self, conn: aiosqlite.Connection, user_id: str, keep: set[str]) -> None:
        """Forget the user's tags that no chat uses any more (Open WebUI prunes them too)."""
        async with conn.execute("SELECT id FROM tag WHERE user_id = ?", (user_id,)) as cur:
            unused = [str(r[0]) for r in await cur.fetchall() if str(r[0]) not in keep]
        await conn.executemany(
            "DELETE FROM tag WHERE user_id = ? AND id = ?", [(user_id, t) for t in unused]
        )
