"""ChatRepo: chat rows, their messages (one row each) and chat queries, FTS search included.

The FTS5 indexes (`chat_title_fts`, `chat_message_fts`) are external-content tables kept in
step by triggers (migration 0002), so every write below updates them in its own transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import aiosqlite

from webui_daemon.storage.db import Database, dumps, loads, set_clause
from webui_daemon.storage.rows import ChatMessageRow, ChatRow

_CHAT_COLUMNS = (
    "id, user_id, title, document, current_id, share_id, archived, pinned, folder_id, meta, "
    "created_at, updated_at"
)
_TITLE_COLUMNS = "id, title, updated_at, created_at, archived, pinned"
# One title as the JSON object pydantic writes for a ChatTitleIdResponse: its keys in its
# order, and json_object escapes strings the way pydantic does (compared over every code
# point), so the title lists can send SQLite's text as the response body.
_TITLE_JSON = (
    "json_object('id', c.id, 'title', c.title, 'updated_at', c.updated_at, "
    "'created_at', c.created_at, 'last_read_at', NULL, 'snippet', NULL, "
    "'active', json(CASE WHEN c.id IN (SELECT value FROM json_each(?)) "
    "THEN 'true' ELSE 'false' END), "
    "'archived', json(CASE WHEN c.archived THEN 'true' ELSE 'false' END), "
    "'pinned', json(CASE WHEN c.pinned THEN 'true' ELSE 'false' END))"
)
_MESSAGE_COLUMNS = "chat_id, id, parent_id, children, role, content, data, position"
_UPDATABLE = frozenset(
    {
        "title",
        "document",
        "current_id",
        "share_id",
        "archived",
        "pinned",
        "folder_id",
        "meta",
        "updated_at",
        "created_at",
    }
)
_JSON = frozenset({"document", "meta"})
_ORDERABLE = frozenset({"updated_at", "created_at", "title"})
# Above this many matching messages a search walks the chats instead of mapping matches.
_DENSE_MATCHES = 2000


@dataclass(frozen=True, slots=True)
class ChatTitle:
    id: str
    title: str
    updated_at: int
    created_at: int
    archived: bool
    pinned: bool


@dataclass(slots=True)
class ChatQuery:
    """Which chats to list. None means "either way" for the flags."""

    user_id: str | None = None
    ids: list[str] | None = None
    archived: bool | None = False
    pinned: bool | None = None
    in_folder: bool | None = None
    folder_ids: list[str] | None = None
    shared: bool | None = None
    tags: list[str] = field(default_factory=list)
    untagged: bool = False
    title_like: str | None = None
    # An FTS5 expression built by the caller from quoted terms: matches titles or messages.
    match: str | None = None
    # Set by the repository: the match is common, so walk the chats instead (see _plan).
    dense: bool = False
    order_by: str = "updated_at"
    descending: bool = True
    limit: int | None = None
    offset: int = 0
    # Not a filter: the chats of these ids are marked `active` (a reply is being generated).
    active_ids: list[str] = field(default_factory=list)


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(q: ChatQuery) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if q.user_id is not None:
        clauses.append("c.user_id = ?")
        params.append(q.user_id)
    if q.ids is not None:
        clauses.append(f"c.id IN ({','.join('?' * len(q.ids))})")
        params.extend(q.ids)
    for column, flag in (("c.archived", q.archived), ("c.pinned", q.pinned)):
        if flag is not None:
            clauses.append(f"{column} = ?")
            params.append(int(flag))
    if q.in_folder is not None:
        clauses.append("c.folder_id IS NOT NULL" if q.in_folder else "c.folder_id IS NULL")
    if q.folder_ids is not None:
        clauses.append(f"c.folder_id IN ({','.join('?' * len(q.folder_ids))})")
        params.extend(q.folder_ids)
    if q.shared is not None:
        clauses.append("c.share_id IS NOT NULL" if q.shared else "c.share_id IS NULL")
    for tag in q.tags:
        clauses.append("EXISTS (SELECT 1 FROM json_each(c.meta, '$.tags') t WHERE t.value = ?)")
        params.append(tag)
    if q.untagged:
        clauses.append("NOT EXISTS (SELECT 1 FROM json_each(c.meta, '$.tags'))")
    if q.title_like:
        clauses.append("c.title LIKE ? ESCAPE '\\'")
        params.append(_like(q.title_like))
    if q.match is not None:
        messages = "m.pk IN (SELECT rowid FROM chat_message_fts WHERE chat_message_fts MATCH ?)"
        by_message = (
            f"EXISTS (SELECT 1 FROM chat_message m WHERE m.chat_id = c.id AND {messages})"
            if q.dense
            else f"c.id IN (SELECT m.chat_id FROM chat_message m WHERE {messages})"
        )
        clauses.append(
            "(c.pk IN (SELECT rowid FROM chat_title_fts WHERE chat_title_fts MATCH ?) "
            f"OR {by_message})"
        )
        params.extend([q.match, q.match])
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _order(q: ChatQuery) -> str:
    """A total order: ties on the column are broken by pk, so pages never overlap."""
    column = q.order_by if q.order_by in _ORDERABLE else "updated_at"
    direction = "DESC" if q.descending else "ASC"
    return f"ORDER BY c.{column} {direction}, c.pk {direction}"


def _tail(q: ChatQuery) -> tuple[str, list[Any]]:
    limit = -1 if q.limit is None else q.limit
    return f"{_order(q)} LIMIT ? OFFSET ?", [limit, max(q.offset, 0)]


def _chat(row: aiosqlite.Row) -> ChatRow:
    values = dict(row)
    values["document"] = loads(values["document"]) or {}
    values["meta"] = loads(values["meta"]) or {}
    values["archived"] = bool(values["archived"])
    values["pinned"] = bool(values["pinned"])
    return ChatRow(**values)


def _message(row: aiosqlite.Row) -> ChatMessageRow:
    values = dict(row)
    values["children"] = loads(values["children"]) or []
    values["data"] = loads(values["data"]) or {}
    return ChatMessageRow(**values)


async def _all(
    db: Database, conn: aiosqlite.Connection | None, sql: str, params: Iterable[Any]
) -> list[aiosqlite.Row]:
    if conn is None:
        return await db.fetchall(sql, list(params))
    async with conn.execute(sql, list(params)) as cur:
        return list(await cur.fetchall())


class ChatRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _plan(self, q: ChatQuery) -> ChatQuery:
        """Pick how a text search finds chats. A rare match maps its few messages to chats;
        a common one (thousands of messages) is cheaper checked chat by chat, newest first,
        stopping once a page is full. Counting is bounded, so the probe stays cheap."""
        if q.match is None:
            return q
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM (SELECT rowid FROM chat_message_fts "
            "WHERE chat_message_fts MATCH ? LIMIT ?)",
            (q.match, _DENSE_MATCHES),
        )
        return replace(q, dense=bool(row and row[0] >= _DENSE_MATCHES))

    # ---- chats ------------------------------------------------------------------------------

    async def get(
        self, chat_id: str, user_id: str | None = None, conn: aiosqlite.Connection | None = None
    ) -> ChatRow | None:
        sql = f"SELECT {_CHAT_COLUMNS} FROM chat WHERE id = ?"
        params: list[Any] = [chat_id]
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        rows = await _all(self._db, conn, sql, params)
        return _chat(rows[0]) if rows else None

    async def chats(self, q: ChatQuery) -> list[ChatRow]:
        where, params = _where(await self._plan(q))
        tail, more = _tail(q)
        columns = ", ".join("c." + c.strip() for c in _CHAT_COLUMNS.split(","))
        rows = await self._db.fetchall(
            f"SELECT {columns} FROM chat c {where} {tail}", [*params, *more]
        )
        return [_chat(r) for r in rows]

    async def titles(self, q: ChatQuery) -> list[ChatTitle]:
        where, params = _where(await self._plan(q))
        tail, more = _tail(q)
        columns = ", ".join("c." + c.strip() for c in _TITLE_COLUMNS.split(","))
        rows = await self._db.fetchall(
            f"SELECT {columns} FROM chat c {where} {tail}", [*params, *more]
        )
        return [
            ChatTitle(
                id=str(r[0]),
                title=str(r[1]),
                updated_at=int(r[2]),
                created_at=int(r[3]),
                archived=bool(r[4]),
                pinned=bool(r[5]),
            )
            for r in rows
        ]

    async def titles_json(self, q: ChatQuery) -> bytes:
        """The titles as a JSON array: the bytes pydantic writes for list[ChatTitleIdResponse].

        The inner query picks the page by sorting pks only, so objects are built for the
        page's rows alone (a page of 60 among 1,000 chats with equal updated_at: 1.4 -> 0.3
        ms); the outer ORDER BY, the same total order, is what guarantees their order.
        """
        where, params = _where(await self._plan(q))
        tail, more = _tail(q)
        rows = await self._db.fetchall(
            f"SELECT {_TITLE_JSON} FROM (SELECT c.pk FROM chat c {where} {tail}) AS page "
            f"CROSS JOIN chat c ON c.pk = page.pk {_order(q)}",
            [dumps(q.active_ids), *params, *more],
        )
        return ("[" + ",".join(r[0] for r in rows) + "]").encode()

    async def count(self, q: ChatQuery, conn: aiosqlite.Connection | None = None) -> int:
        where, params = _where(q)
        rows = await _all(self._db, conn, f"SELECT COUNT(*) FROM chat c {where}", params)
        return int(rows[0][0]) if rows else 0

    async def insert(self, conn: aiosqlite.Connection, chat: ChatRow) -> None:
        await conn.execute(
            f"INSERT INTO chat ({_CHAT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                chat.id,
                chat.user_id,
                chat.title,
                dumps(chat.document),
                chat.current_id,
                chat.share_id,
                int(chat.archived),
                int(chat.pinned),
                chat.folder_id,
                dumps(chat.meta),
                chat.created_at,
                chat.updated_at,
            ),
        )

    async def update(self, conn: aiosqlite.Connection, chat_id: str, **fields: Any) -> None:
        if not fields:
            return
        assignments, values = set_clause(fields, _UPDATABLE, _JSON)
        await conn.execute(f"UPDATE chat SET {assignments} WHERE id = ?", (*values, chat_id))

    async def set_title(
        self, conn: aiosqlite.Connection, chat_id: str, title: str, now: int
    ) -> None:
        await conn.execute(
            "UPDATE chat SET title = ?, document = json_set(document, '$.title', ?), "
            "updated_at = ? WHERE id = ?",
            (title, title, now, chat_id),
        )

    async def touch(self, conn: aiosqlite.Connection, chat_id: str, now: int) -> None:
        """Move updated_at forward; a no-op (no row write) within the same second."""
        await conn.execute(
            "UPDATE chat SET updated_at = ? WHERE id = ? AND updated_at < ?", (now, chat_id, now)
        )

    async def set_flags_for_user(
        self, conn: aiosqlite.Connection, user_id: str, *, archived: bool, now: int
    ) -> None:
        await conn.execute(
            "UPDATE chat SET archived = ?, updated_at = ? WHERE user_id = ? AND archived != ?",
            (int(archived), now, user_id, int(archived)),
        )

    async def delete(self, conn: aiosqlite.Connection, chat_id: str) -> bool:
        cur = await conn.execute("DELETE FROM chat WHERE id = ?", (chat_id,))
        return cur.rowcount > 0

    async def delete_where(self, conn: aiosqlite.Connection, q: ChatQuery) -> int:
        where, params = _where(q)
        cur = await conn.execute(
            f"DELETE FROM chat WHERE pk IN (SELECT c.pk FROM chat c {where})", params
        )
        return cur.rowcount

    async def tag_ids_in_use(self, conn: aiosqlite.Connection, user_id: str) -> set[str]:
        rows = await _all(
            self._db,
            conn,
            "SELECT DISTINCT t.value FROM chat c, json_each(c.meta, '$.tags') t "
            "WHERE c.user_id = ?",
            [user_id],
        )
        return {str(r[0]) for r in rows}

    # ---- messages ---------------------------------------------------------------------------

    async def messages(
        self, chat_ids: list[str], conn: aiosqlite.Connection | None = None
    ) -> dict[str, list[ChatMessageRow]]:
        """The messages of each chat, in insertion order."""
        found: dict[str, list[ChatMessageRow]] = {c: [] for c in chat_ids}
        # Chunks keep each statement well under SQLite's bound-parameter limit.
        for start in range(0, len(chat_ids), 500):
            chunk = chat_ids[start : start + 500]
            rows = await _all(
                self._db,
                conn,
                f"SELECT {_MESSAGE_COLUMNS} FROM chat_message "
                f"WHERE chat_id IN ({','.join('?' * len(chunk))}) ORDER BY chat_id, position",
                chunk,
            )
            for row in rows:
                message = _message(row)
                found[message.chat_id].append(message)
        return found

    async def message(
        self, chat_id: str, message_id: str, conn: aiosqlite.Connection | None = None
    ) -> ChatMessageRow | None:
        rows = await _all(
            self._db,
            conn,
            f"SELECT {_MESSAGE_COLUMNS} FROM chat_message WHERE chat_id = ? AND id = ?",
            [chat_id, message_id],
        )
        return _message(rows[0]) if rows else None

    async def path(
        self, chat_id: str, leaf_id: str, conn: aiosqlite.Connection | None = None
    ) -> list[ChatMessageRow]:
        """The messages from the root down to `leaf_id` (a depth bound guards against loops)."""
        rows = await _all(
            self._db,
            conn,
            "WITH RECURSIVE up (pk, parent_id, depth) AS ("
            " SELECT pk, parent_id, 0 FROM chat_message WHERE chat_id = ? AND id = ?"
            " UNION ALL"
            " SELECT m.pk, m.parent_id, up.depth + 1 FROM chat_message m JOIN up"
            " ON m.chat_id = ? AND m.id = up.parent_id WHERE up.depth < 100000"
            f") SELECT {', '.join('m.' + c.strip() for c in _MESSAGE_COLUMNS.split(','))} "
            "FROM up JOIN chat_message m ON m.pk = up.pk ORDER BY up.depth DESC",
            [chat_id, leaf_id, chat_id],
        )
        return [_message(r) for r in rows]

    async def next_position(self, conn: aiosqlite.Connection, chat_id: str) -> int:
        rows = await _all(
            self._db,
            conn,
            "SELECT COALESCE(MAX(position), -1) + 1 FROM chat_message WHERE chat_id = ?",
            [chat_id],
        )
        return int(rows[0][0])

    async def upsert_messages(
        self, conn: aiosqlite.Connection, messages: Iterable[ChatMessageRow]
    ) -> None:
        # ON CONFLICT ... DO UPDATE keeps the row and its pk; the FTS trigger re-indexes only
        # when the content actually changed.
        await conn.executemany(
            f"INSERT INTO chat_message ({_MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id, id) DO UPDATE SET parent_id = excluded.parent_id, "
            "children = excluded.children, role = excluded.role, data = excluded.data, "
            "position = excluded.position, content = excluded.content",
            [
                (
                    m.chat_id,
                    m.id,
                    m.parent_id,
                    dumps(m.children),
                    m.role,
                    m.content,
                    dumps(m.data),
                    m.position,
                )
                for m in messages
            ],
        )

    async def set_message(self, conn: aiosqlite.Connection, message: ChatMessageRow) -> bool:
        """Rewrite one message's role, content and other keys (one row; FTS follows)."""
        cur = await conn.execute(
            "UPDATE chat_message SET role = ?, content = ?, data = ? WHERE chat_id = ? AND id = ?",
            (message.role, message.content, dumps(message.data), message.chat_id, message.id),
        )
        return cur.rowcount > 0

    async def set_children(
        self, conn: aiosqlite.Connection, chat_id: str, message_id: str, children: list[str]
    ) -> None:
        await conn.execute(
            "UPDATE chat_message SET children = ? WHERE chat_id = ? AND id = ?",
            (dumps(children), chat_id, message_id),
        )

    async def finish_unfinished(self, conn: aiosqlite.Connection) -> list[tuple[str, str]]:
        """Mark every assistant message still `done: false` as done and interrupted (its
        content stays as saved); returns their (chat id, message id). A full scan of the
        messages: it runs once, at start-up."""
        cur = await conn.execute(
            "UPDATE chat_message SET data = json_set(data, '$.done', json('true'), "
            "'$.interrupted', json('true')) "
            "WHERE role = 'assistant' AND json_extract(data, '$.done') = 0 "
            "RETURNING chat_id, id"
        )
        return [(str(r[0]), str(r[1])) for r in await cur.fetchall()]

    async def delete_messages(
        self, conn: aiosqlite.Connection, chat_id: str, message_ids: Iterable[str]
    ) -> None:
        await conn.executemany(
            "DELETE FROM chat_message WHERE chat_id = ? AND id = ?",
            [(chat_id, mid) for mid in message_ids],
        )
