"""ChatService: chats and their message trees, as Open WebUI's /api/v1/chats serves them.

Each message is its own row, so the streaming code (`add_message`, `update_message`) writes
one small row at a time; documents are assembled on read. Temporary chats (`local:`,
`temporary:` ids) are never stored.
"""

import time
import uuid
from typing import Any

import aiosqlite

from webui_daemon.schemas.chats import (
    ChatForm,
    ChatImportForm,
    ChatResponse,
)
from webui_daemon.services import errors
from webui_daemon.services.chats import chat_tree
from webui_daemon.services.chats.chat_mapping import (
    chat_response,
    message_dict,
    message_row,
    messages_map,
)
from webui_daemon.storage.chats import ChatQuery, ChatRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.folders import FolderRepo
from webui_daemon.storage.rows import ChatMessageRow, ChatRow
from webui_daemon.storage.tags import TagRepo

DEFAULT_TITLE = "New Chat"
# Open WebUI's wording for a chat that is missing or not yours (answered with 401).
NOT_FOUND = "We could not find what you're looking for :/"
TEMPORARY_PREFIXES = ("local:", "temporary:")
# 0.12's `chat.share_mode` for a reader who may write to the chat.
SHARE_MODE_CONTINUE = "continue"


def now() -> int:
    return int(time.time())


def is_temporary(chat_id: str) -> bool:
    return chat_id.startswith(TEMPORARY_PREFIXES)


def not_found() -> errors.Unauthorized:
    return errors.Unauthorized(NOT_FOUND)


def _bad_tree(exc: chat_tree.TreeError) -> errors.WebUIError:
    return errors.WebUIError(f"Invalid chat document: {exc}")


class ChatService:
    def __init__(
        self,
        db: Database,
        chats: ChatRepo,
        folders: FolderRepo,
        tags: TagRepo,
    ) -> None:
        self._db = db
        self._chats = chats
        self._folders = folders
        self._tags = tags

    # ---- reading ----------------------------------------------------------------------------

    async def _owned(
        self, user_id: str, chat_id: str, conn: aiosqlite.Connection | None = None
    ) -> ChatRow:
        row = await self._chats.get(chat_id, user_id, conn)
        if row is None:
            raise not_found()
        return row

    async def _response(self, row: ChatRow) -> ChatResponse:
        messages = await self._chats.messages([row.id])
        return chat_response(row, messages[row.id])

    async def _responses(self, rows: list[ChatRow]) -> list[ChatResponse]:
        messages = await self._chats.messages([r.id for r in rows])
        return [chat_response(r, messages[r.id]) for r in rows]

    async def get(self, user_id: str, chat_id: str) -> ChatResponse:
        """The chat with its full document; 401 "not found" when missing or not the user's."""
        return await self._response(await self._owned(user_id, chat_id))

    async def read(self, user_id: str, chat_id: str) -> ChatResponse:
        """`GET /chats/{id}`: the chat, and (0.12) whether the reader may continue it
        (`chat.share_mode`): its owner, the only one who reads it here, may."""
        response = await self.get(user_id, chat_id)
        chat = {**response.chat, "share_mode": SHARE_MODE_CONTINUE}
        return response.model_copy(update={"chat": chat})

    async def is_pinned(self, user_id: str, chat_id: str) -> bool:
        return (await self._owned(user_id, chat_id)).pinned

    # ---- creating and updating --------------------------------------------------------------

    async def _check_folder(self, user_id: str, folder_id: str | None) -> None:
        if folder_id is not None and await self._folders.get(folder_id, user_id) is None:
            raise errors.NotFound(NOT_FOUND)

    async def _insert(
        self,
        conn: aiosqlite.Connection,
        user_id: str,
        document: dict[str, Any],
        *,
        meta: dict[str, Any] | None = None,
        pinned: bool = False,
        archived: bool = False,
        folder_id: str | None = None,
        created_at: int | None = None,
        updated_at: int | None = None,
    ) -> str:
        try:
            rest, messages, current, _ = chat_tree.split_document(document)
        except chat_tree.TreeError as exc:
            raise _bad_tree(exc) from exc
        chat_tree.repair(messages)
        title = rest.get("title")
        if not isinstance(title, str):
            title = DEFAULT_TITLE
        rest["title"] = title
        chat_id = str(uuid.uuid4())
        stamp = now()
        meta = dict(meta or {})
        tags = [t for t in meta.get("tags") or [] if isinstance(t, str)]
        if tags:
            meta["tags"] = list(dict.fromkeys(tags))
            await self._tags.ensure(conn, user_id, [(t, t) for t in meta["tags"]])
        await self._chats.insert(
            conn,
            ChatRow(
                id=chat_id,
                user_id=user_id,
                title=title,
                document=rest,
                current_id=chat_tree.pick_current(messages, current),
                share_id=None,
                archived=archived,
                pinned=pinned,
                folder_id=folder_id,
                meta=meta,
                created_at=created_at or stamp,
                updated_at=updated_at or created_at or stamp,
            ),
        )
        await self._chats.upsert_messages(
            conn, [message_row(chat_id, m, i) for i, m in enumerate(messages.values())]
        )
        return chat_id

    async def create(self, user_id: str, form: ChatForm) -> ChatResponse:
        await self._check_folder(user_id, form.folder_id)
        document = dict(form.chat)
        document.setdefault("timestamp", now() * 1000)
        async with self._db.transaction() as conn:
            chat_id = await self._insert(conn, user_id, document, folder_id=form.folder_id)
        return await self.get(user_id, chat_id)

    async def update(self, user_id: str, chat_id: str, form: ChatForm) -> ChatResponse:
        """Shallow-merge the partial document; `history.messages` merges key by key."""
        try:
            rest, incoming, current, has_tree = chat_tree.split_document(form.chat)
        except chat_tree.TreeError as exc:
            raise _bad_tree(exc) from exc
        async with self._db.transaction() as conn:
            row = await self._owned(user_id, chat_id, conn)
            stored = (await self._chats.messages([chat_id], conn))[chat_id]
            messages = messages_map(stored)
            for mid in form.deleted_message_ids or []:
                messages.pop(mid, None)
            messages.update(incoming)
            chat_tree.repair(messages)
            history = {**row.document.get("history", {}), **rest.get("history", {})}
            document = {**row.document, **rest}
            document.pop("share_mode", None)  # what GET answered, not part of the chat (0.12)
            if history:
                document["history"] = history
            title = rest["title"] if isinstance(rest.get("title"), str) else row.title
            document["title"] = title
            sent_current = has_tree and (
                "currentId" in (form.chat.get("history") or {}) or "history" not in form.chat
            )
            wanted = current if sent_current else row.current_id
            await self._chats.update(
                conn,
                chat_id,
                title=title,
                document=document,
                current_id=chat_tree.pick_current(messages, wanted),
                updated_at=now(),
            )
            await self._write_tree(conn, chat_id, messages, stored)
        return await self.get(user_id, chat_id)

    async def _write_tree(
        self,
        conn: aiosqlite.Connection,
        chat_id: str,
        messages: chat_tree.Messages,
        stored: list[ChatMessageRow],
    ) -> None:
        """Write only the messages that changed, and delete the ones that are gone."""
        before = {m.id: m for m in stored}
        position = max((m.position for m in stored), default=-1) + 1
        changed: list[ChatMessageRow] = []
        for mid, message in messages.items():
            old = before.get(mid)
            if old is None:
                changed.append(message_row(chat_id, message, position))
                position += 1
            else:
                row = message_row(chat_id, message, old.position)
                if row != old:
                    changed.append(row)
        await self._chats.delete_messages(conn, chat_id, [m for m in before if m not in messages])
        await self._chats.upsert_messages(conn, changed)

    async def clone(self, user_id: str, chat_id: str, title: str | None) -> ChatResponse:
        source = await self.get(user_id, chat_id)
        document = {
            **source.chat,
            "originalChatId": source.id,
            "branchPointMessageId": source.current_message_id,
            "title": title or f"Clone of {source.title}",
        }
        async with self._db.transaction() as conn:
            new_id = await self._insert(
                conn,
                user_id,
                document,
                meta=source.meta,
                pinned=bool(source.pinned),
                folder_id=source.folder_id,
            )
        return await self.get(user_id, new_id)

    async def import_chats(self, user_id: str, items: list[ChatImportForm]) -> list[ChatResponse]:
        """Import Open WebUI exports: `{chat, meta, pinned, folder_id, ...}` items, or bare
        documents. Each gets a new id; unknown folders are dropped."""
        folder_ids = {f.id for f in await self._folders.for_user(user_id)}
        new_ids: list[str] = []
        async with self._db.transaction() as conn:
            for item in items:
                document = item.chat
                if document is None:
                    extra = item.model_extra or {}
                    if "history" not in extra and "messages" not in extra:
                        raise errors.WebUIError("Each imported chat needs a `chat` document.")
                    document = dict(extra)
                new_ids.append(
                    await self._insert(
                        conn,
                        user_id,
                        document,
                        meta=item.meta,
                        pinned=bool(item.pinned),
                        archived=bool(item.archived),
                        folder_id=item.folder_id if item.folder_id in folder_ids else None,
                        created_at=item.created_at,
                        updated_at=item.updated_at,
                    )
                )
        rows: dict[str, ChatRow] = {}
        for start in range(0, len(new_ids), 500):
            chunk = new_ids[start : start + 500]
            found = await self._chats.chats(ChatQuery(user_id=user_id, ids=chunk, archived=None))
            rows.update((r.id, r) for r in found)
        return await self._responses([rows[i] for i in new_ids if i in rows])

    # ---- flags, folders, sharing, deleting --------------------------------------------------

    async def set_fields(self, user_id: str, chat_id: str, **fields: Any) -> ChatResponse:
        """Change row fields of an owned chat (values may be callables of the current row)."""
        async with self._db.transaction() as conn:
            row = await self._owned(user_id, chat_id, conn)
            values = {k: v(row) if callable(v) else v for k, v in fields.items()}
            await self._chats.update(conn, chat_id, **values, updated_at=now())
        return await self.get(user_id, chat_id)

    async def toggle_pinned(self, user_id: str, chat_id: str) -> ChatResponse:
        return await self.set_fields(user_id, chat_id, pinned=lambda r: not r.pinned)

    async def toggle_archived(self, user_id: str, chat_id: str) -> ChatResponse:
        return await self.set_fields(user_id, chat_id, archived=lambda r: not r.archived)

    async def move_to_folder(
        self, user_id: str, chat_id: str, folder_id: str | None
    ) -> ChatResponse:
        await self._owned(user_id, chat_id)
        await self._check_folder(user_id, folder_id)
        # Open WebUI unpins a chat it moves into a folder.
        return await self.set_fields(user_id, chat_id, folder_id=folder_id, pinned=False)

    async def _prune_tags(self, conn: aiosqlite.Connection, user_id: str) -> None:
        await self._tags.delete_except(
            conn, user_id, await self._chats.tag_ids_in_use(conn, user_id)
        )

    async def delete(self, user_id: str, chat_id: str) -> bool:
        async with self._db.transaction() as conn:
            if await self._chats.get(chat_id, user_id, conn) is None:
                raise errors.NotFound(NOT_FOUND)
            await self._chats.delete(conn, chat_id)
            await self._prune_tags(conn, user_id)
        return True

    async def delete_all(self, user_id: str) -> bool:
        async with self._db.transaction() as conn:
            await self._chats.delete_where(conn, ChatQuery(user_id=user_id, archived=None))
            await self._prune_tags(conn, user_id)
        return True

    # ---- the streaming API: one message at a time -------------------------------------------

    async def add_message(
        self, user_id: str, chat_id: str, message: dict[str, Any], *, set_current: bool = True
    ) -> None:
        """Insert (or merge into) one message of the tree, link it under its parent, and make
        it the current one when `set_current`. One transaction; FTS follows by trigger."""
        if is_temporary(chat_id):
            return
        mid = message.get("id")
        if not isinstance(mid, str) or not mid:
            raise errors.WebUIError("A message needs a non-empty string id.")
        async with self._db.transaction() as conn:
            await self._owned(user_id, chat_id, conn)
            existing = await self._chats.message(chat_id, mid, conn)
            if "parentId" in message:
                parent_id = message["parentId"] or None
            else:
                parent_id = existing.parent_id if existing else None
            if parent_id is not None and not isinstance(parent_id, str):
                raise errors.WebUIError("A message's parentId must be a string or null.")
            parent = None
            if parent_id is not None:
                parent = await self._chats.message(chat_id, parent_id, conn)
                if parent is None:
                    raise errors.WebUIError("The parent message is not in this chat.")
                if existing and any(
                    m.id == mid for m in await self._chats.path(chat_id, parent_id, conn)
                ):
                    raise errors.WebUIError("A message cannot be moved below itself.")
            merged = {k: v for k, v in message.items() if k != "childrenIds"}
            merged["parentId"] = parent_id
            if existing is None:
                merged["childrenIds"] = []
                row = message_row(chat_id, merged, await self._chats.next_position(conn, chat_id))
            else:
                merged = {**message_dict(existing), **merged}
                row = message_row(chat_id, merged, existing.position)
                if existing.parent_id not in (None, parent_id):
                    old = await self._chats.message(chat_id, existing.parent_id, conn)
                    if old is not None:
                        children = [c for c in old.children if c != mid]
                        await self._chats.set_children(conn, chat_id, old.id, children)
            await self._chats.upsert_messages(conn, [row])
            if parent is not None and mid not in parent.children:
                await self._chats.set_children(conn, chat_id, parent.id, [*parent.children, mid])
            fields: dict[str, Any] = {"updated_at": now()}
            if set_current:
                fields["current_id"] = mid
            await self._chats.update(conn, chat_id, **fields)

    async def update_message(self, chat_id: str, message_id: str, fields: dict[str, Any]) -> None:
        """Merge `fields` into one message: one row rewritten (plus updated_at, at most once a
        second). Tree keys (id, parentId, childrenIds) are ignored here."""
        if is_temporary(chat_id):
            return
        async with self._db.transaction() as conn:
            existing = await self._chats.message(chat_id, message_id, conn)
            if existing is None:
                raise errors.NotFound(NOT_FOUND)
            merged = message_dict(existing)
            merged.update({k: v for k, v in fields.items() if k not in chat_tree.STRUCTURE_KEYS})
            row = message_row(chat_id, merged, existing.position)
            await self._chats.set_message(conn, row)
            await self._chats.touch(conn, chat_id, now())

    async def set_title(self, chat_id: str, title: str) -> None:
        if is_temporary(chat_id):
            return
        async with self._db.transaction() as conn:
            await self._chats.set_title(conn, chat_id, title, now())

    async def message_path(self, user_id: str, chat_id: str, leaf_id: str) -> list[dict[str, Any]]:
        """The messages from the root down to `leaf_id`."""
        await self._owned(user_id, chat_id)
        path = await self._chats.path(chat_id, leaf_id)
        if not path:
            raise errors.NotFound(NOT_FOUND)
        return [message_dict(m) for m in path]

    async def update_message_content(
        self, user_id: str, chat_id: str, message_id: str, content: str
    ) -> ChatResponse:
        await self._owned(user_id, chat_id)
        await self.update_message(chat_id, message_id, {"content": content})
        return await self.get(user_id, chat_id)
