"""ChatTagService: tags on chats (`meta.tags` holds tag ids; the tag table holds their names)."""

from webui_daemon.schemas.chats import ChatTitleIdResponse, TagModel
from webui_daemon.services import errors
from webui_daemon.services.chats.chat_mapping import tag_model, title_id
from webui_daemon.services.chats.chat_tree import tag_id
from webui_daemon.services.chats.chats import not_found
from webui_daemon.storage.chats import ChatQuery, ChatRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.rows import ChatRow
from webui_daemon.storage.tags import TagRepo

# Open WebUI's wording, from ERROR_MESSAGES.DEFAULT("Tag name cannot be 'None'").
TAG_NONE = "[ERROR: Tag name cannot be 'None']"


def _tags(row: ChatRow) -> list[str]:
    return [t for t in row.meta.get("tags") or [] if isinstance(t, str)]


class ChatTagService:
    def __init__(self, db: Database, chats: ChatRepo, tags: TagRepo) -> None:
        self._db = db
        self._chats = chats
        self._tags = tags

    async def _owned(self, user_id: str, chat_id: str) -> ChatRow:
        row = await self._chats.get(chat_id, user_id)
        if row is None:
            raise not_found()
        return row

    async def of_chat(self, user_id: str, chat_id: str) -> list[TagModel]:
        row = await self._owned(user_id, chat_id)
        return [tag_model(t) for t in await self._tags.by_ids(user_id, _tags(row))]

    async def all(self, user_id: str) -> list[TagModel]:
        return [tag_model(t) for t in await self._tags.for_user(user_id)]

    async def add(self, user_id: str, chat_id: str, name: str) -> list[TagModel]:
        tid = tag_id(name)
        if tid == "none":
            raise errors.WebUIError(TAG_NONE)
        async with self._db.transaction() as conn:
            row = await self._chats.get(chat_id, user_id, conn)
            if row is None:
                raise not_found()
            await self._tags.ensure(conn, user_id, [(tid, name)])
            tags = _tags(row)
            if tid not in tags:
                await self._chats.update(conn, chat_id, meta={**row.meta, "tags": [*tags, tid]})
        return await self.of_chat(user_id, chat_id)

    async def remove(self, user_id: str, chat_id: str, name: str | None) -> list[TagModel]:
        """Remove one tag (or every tag when `name` is None) and forget unused tags."""
        async with self._db.transaction() as conn:
            row = await self._chats.get(chat_id, user_id, conn)
            if row is None:
                raise not_found()
            tags = [] if name is None else [t for t in _tags(row) if t != tag_id(name)]
            await self._chats.update(conn, chat_id, meta={**row.meta, "tags": tags})
            in_use = await self._chats.tag_ids_in_use(conn, user_id)
            await self._tags.delete_except(conn, user_id, in_use)
        return await self.of_chat(user_id, chat_id)

    async def chats_with(
        self, user_id: str, name: str, skip: int, limit: int
    ) -> list[ChatTitleIdResponse]:
        titles = await self._chats.titles(
            ChatQuery(user_id=user_id, archived=None, tags=[tag_id(name)], limit=limit, offset=skip)
        )
        return [title_id(t) for t in titles]
