"""ChatListService: the chat lists (sidebar, pinned, archived, by folder, export) and search.

The sidebar, pinned and archived lists come back as JSON bytes (a list of
ChatTitleIdResponse) built by SQLite, ready to send: the sidebar holds thousands of rows and
is read on every client start. Search (a page of 60 at most) keeps the models.

0.12's list keys: `active` is true while a reply is being generated in the chat (the turn
manager's running turns); `snippet` (search only) is the message text around the first match;
`last_read_at` is null, webui not tracking reads.
"""

from collections.abc import Callable, Collection

from webui_daemon.schemas.chats import ChatResponse, ChatTitleIdResponse
from webui_daemon.services.chats import chat_search
from webui_daemon.services.chats.chat_mapping import chat_response, title_id
from webui_daemon.services.chats.chats import now
from webui_daemon.storage.chats import ChatQuery, ChatRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.folders import FolderRepo

PAGE_SIZE = 60
SNIPPET_LENGTH = 200


def _page(page: int | None) -> tuple[int | None, int]:
    """Open WebUI's chat paging: 60 a page, everything when no page is asked for."""
    if page is None:
        return None, 0
    return PAGE_SIZE, (max(page, 1) - 1) * PAGE_SIZE


class ChatListService:
    def __init__(
        self,
        db: Database,
        chats: ChatRepo,
        folders: FolderRepo,
        active_chats: Callable[[str], Collection[str]] | None = None,
    ) -> None:
        self._db = db
        self._chats = chats
        self._folders = folders
        # A user's chats with a reply being generated (TurnManager.active_chats).
        self._active_chats = active_chats or (lambda _user_id: ())

    async def titles(self, q: ChatQuery) -> list[ChatTitleIdResponse]:
        active = set(self._active_chats(q.user_id)) if q.user_id else set()
        out = []
        for t in await self._chats.titles(q):
            item = title_id(t)
            item.active = t.id in active
            out.append(item)
        return out

    async def titles_json(self, q: ChatQuery) -> bytes:
        if q.user_id:
            q.active_ids = sorted(self._active_chats(q.user_id))
        return await self._chats.titles_json(q)

    async def chats(self, q: ChatQuery) -> list[ChatResponse]:
        rows = await self._chats.chats(q)
        messages = await self._chats.messages([r.id for r in rows])
        return [chat_response(r, messages[r.id]) for r in rows]

    async def sidebar(
        self, user_id: str, page: int | None, *, include_pinned: bool, include_folders: bool
    ) -> bytes:
        """Archived chats never; pinned and in-folder chats only when asked for."""
        limit, offset = _page(page)
        return await self.titles_json(
            ChatQuery(
                user_id=user_id,
                archived=False,
                pinned=None if include_pinned else False,
                in_folder=None if include_folders else False,
                limit=limit,
                offset=offset,
            )
        )

    async def pinned(self, user_id: str) -> bytes:
        return await self.titles_json(ChatQuery(user_id=user_id, archived=False, pinned=True))

    async def filtered(
        self,
        user_id: str,
        *,
        archived: bool | None,
        page: int | None,
        query: str | None,
        order_by: str | None,
        direction: str | None,
    ) -> bytes:
        """The archived list (and the admin's view of a user): title filter, order, page."""
        limit, offset = _page(max(page or 1, 1))
        return await self.titles_json(
            ChatQuery(
                user_id=user_id,
                archived=archived,
                title_like=query,
                order_by=order_by or "updated_at",
                descending=(direction or "desc").lower() != "asc",
                limit=limit,
                offset=offset,
            )
        )

    async def export(self, user_id: str | None) -> list[ChatResponse]:
        """Every chat of the user, archived too (every user's when `user_id` is None)."""
        return await self.chats(ChatQuery(user_id=user_id, archived=None))

    async def archived(self, user_id: str) -> list[ChatResponse]:
        return await self.chats(ChatQuery(user_id=user_id, archived=True))

    async def in_folder(self, user_id: str, folder_id: str) -> list[ChatResponse]:
        """Chats in the folder and the folders below it (not pinned, not archived)."""
        folder_ids = await self._folders.subtree_ids(folder_id, user_id)
        if not folder_ids:
            return []
        return await self.chats(
            ChatQuery(user_id=user_id, folder_ids=folder_ids, pinned=False, archived=False)
        )

    async def set_archived_all(self, user_id: str, archived: bool) -> bool:
        async with self._db.transaction() as conn:
            await self._chats.set_flags_for_user(conn, user_id, archived=archived, now=now())
        return True

    async def search(self, user_id: str, text: str, page: int | None) -> list[ChatTitleIdResponse]:
        """FTS5 over titles and message text, plus Open WebUI's `key:value` filters."""
        terms = chat_search.parse(text)
        match = chat_search.fts_expression(terms.words)
        if terms.words and match is None:
            return []
        folder_ids: list[str] | None = None
        if terms.folders:
            wanted = {chat_search.folder_key(f) for f in terms.folders}
            folder_ids = []
            for folder in await self._folders.for_user(user_id):
                if chat_search.folder_key(folder.name) in wanted:
                    folder_ids += await self._folders.subtree_ids(folder.id, user_id)
            if not folder_ids:
                return []
        limit, offset = _page(max(page or 1, 1))
        found = await self.titles(
            ChatQuery(
                user_id=user_id,
                archived=terms.archived if terms.archived is not None else False,
                pinned=terms.pinned,
                shared=terms.shared,
                tags=terms.tags,
                untagged=terms.untagged,
                folder_ids=folder_ids,
                match=match,
                limit=limit,
                offset=offset,
            )
        )
        if terms.words and found:
            messages = await self._chats.messages([c.id for c in found])
            texts = {cid: [m.content or "" for m in rows] for cid, rows in messages.items()}
            for chat in found:
                chat.snippet = snippet(texts.get(chat.id, []), terms.words)
        return found


def snippet(texts: list[str], words: list[str], length: int = SNIPPET_LENGTH) -> str | None:
    """0.12's search snippet: up to `length` characters of the first message that holds the
    whole search text (else any one word), whitespace folded, "..." where it was cut."""
    phrase = " ".join(words).lower()
    needles = list(dict.fromkeys([phrase, *(w.lower() for w in words)]))
    for needle in needles:
        for text in texts:
            index = text.lower().find(needle)
            if index == -1:
                continue
            start = max(index - length // 2, 0)
            end = min(start + length, len(text))
            if index + len(needle) > end:
                end = min(index + len(needle), len(text))
                start = max(end - length, 0)
            body = " ".join(text[start:end].split())
            return f"{'...' if start else ''}{body}{'...' if end < len(text) else ''}"
    return None
