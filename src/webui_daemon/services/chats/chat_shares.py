"""ChatShareService: shared chats are snapshots stored under a share id (as Open WebUI does)."""

import uuid

from webui_daemon.schemas.chats import ChatResponse
from webui_daemon.services.chats.chat_mapping import share_response
from webui_daemon.services.chats.chats import ChatService, not_found, now
from webui_daemon.storage.chats import ChatRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.rows import ChatShareRow
from webui_daemon.storage.shares import ShareRepo


class ChatShareService:
    def __init__(
        self, db: Database, chats: ChatService, chat_repo: ChatRepo, shares: ShareRepo
    ) -> None:
        self._db = db
        self._chats = chats
        self._chat_repo = chat_repo
        self._shares = shares

    async def share(self, user_id: str, chat_id: str) -> ChatResponse:
        """Snapshot the chat as it is now; sharing again refreshes it under the same id."""
        chat = await self._chats.get(user_id, chat_id)
        share_id = chat.share_id or str(uuid.uuid4())
        async with self._db.transaction() as conn:
            if await self._chat_repo.get(chat_id, user_id, conn) is None:
                raise not_found()
            await self._shares.put(
                conn,
                ChatShareRow(
                    id=share_id,
                    chat_id=chat_id,
                    user_id=user_id,
                    title=chat.title,
                    document=chat.chat,
                    meta=chat.meta,
                    created_at=chat.created_at,
                    updated_at=now(),
                ),
            )
            await self._chat_repo.update(conn, chat_id, share_id=share_id)
        return await self._chats.get(user_id, chat_id)

    async def unshare(self, user_id: str, chat_id: str) -> bool:
        async with self._db.transaction() as conn:
            row = await self._chat_repo.get(chat_id, user_id, conn)
            if row is None:
                raise not_found()
            if row.share_id is None:
                return False
            await self._shares.delete_for_chat(conn, chat_id)
            await self._chat_repo.update(conn, chat_id, share_id=None)
        return True

    async def shared(self, share_id: str, reader_id: str) -> ChatResponse:
        share = await self._shares.get(share_id)
        if share is None:
            raise not_found()
        return share_response(share, reader_id)
