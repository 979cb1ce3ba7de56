"""ShareRepo: shared chat snapshots, reachable by their share id."""

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads
from webui_daemon.storage.rows import ChatShareRow

_COLUMNS = "id, chat_id, user_id, title, document, meta, created_at, updated_at"


class ShareRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, share_id: str) -> ChatShareRow | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM chat_share WHERE id = ?", (share_id,)
        )
        if row is None:
            return None
        values = dict(row)
        values["document"] = loads(values["document"]) or {}
        values["meta"] = loads(values["meta"]) or {}
        return ChatShareRow(**values)

    async def put(self, conn: aiosqlite.Connection, share: ChatShareRow) -> None:
        """Store the snapshot; sharing again replaces it and keeps the share id."""
        await conn.execute(
            f"INSERT INTO chat_share ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, "
            "document = excluded.document, meta = excluded.meta, updated_at = excluded.updated_at",
            (
                share.id,
                share.chat_id,
                share.user_id,
                share.title,
                dumps(share.document),
                dumps(share.meta),
                share.created_at,
                share.updated_at,
            ),
        )

    async def delete_for_chat(self, conn: aiosqlite.Connection, chat_id: str) -> bool:
        cur = await conn.execute("DELETE FROM chat_share WHERE chat_id = ?", (chat_id,))
        return cur.rowcount > 0
