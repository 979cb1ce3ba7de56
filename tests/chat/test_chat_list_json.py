"""The title lists SQLite writes as JSON: the same bytes pydantic wrote, same rows and order."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from webui_daemon.schemas.chats import ChatTitleIdResponse
from webui_daemon.services.chats.chat_lists import PAGE_SIZE, ChatListService
from webui_daemon.services.chats.chat_mapping import title_id
from webui_daemon.storage.chats import ChatQuery, ChatRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.folders import FolderRepo
from webui_daemon.storage.rows import ChatRow, FolderRow, UserRow
from webui_daemon.storage.users import UserRepo

# What the routes sent before SQLite wrote the JSON.
_PYDANTIC = TypeAdapter(list[ChatTitleIdResponse])
_KEYS = [
    "id",
    "title",
    "updated_at",
    "created_at",
    "last_read_at",
    "snippet",
    "active",
    "archived",
    "pinned",
]
# Quotes, backslashes, control characters, non-ASCII, astral and line-separator characters.
_AWKWARD = [
    'say "hi"',
    "back\\slash and /slash",
    "tab\tnew\nline\rret\x00nul\x1f\x7f",
    "café — naïve 日本語",
    "emoji 😀 and \u2028\u2029 and \ufeff",
    "",
    '{"not": json}',
]


@dataclass(frozen=True)
class Made:
    """One chat as inserted, in insertion order (its `n` breaks updated_at ties like pk)."""

    n: int
    id: str
    title: str
    updated_at: int
    archived: bool
    pinned: bool
    folder_id: str | None


class Fixture:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.repo = ChatRepo(db)
        self.lists = ChatListService(db, self.repo, FolderRepo(db))
        self.made: list[Made] = []

    async def user(self, name: str) -> str:
        row = UserRow(
            id=f"u-{name}",
            email=f"{name}@example.com",
            name=name,
            role="user",
            profile_image_url="",
            last_active_at=1,
            created_at=1,
            updated_at=1,
        )
        async with self.db.transaction() as conn:
            await UserRepo(self.db).insert(conn, row, "x")
        return row.id

    async def folder(self, user_id: str, name: str) -> str:
        row = FolderRow(id=f"f-{name}", user_id=user_id, name=name, created_at=1, updated_at=1)
        async with self.db.transaction() as conn:
            await FolderRepo(self.db).insert(conn, row)
        return row.id

    async def chat(
        self,
        user_id: str,
        title: str,
        updated_at: int,
        *,
        archived: bool = False,
        pinned: bool = False,
        folder_id: str | None = None,
    ) -> Made:
        made = Made(
            len(self.made), f"c{len(self.made)}", title, updated_at, archived, pinned, folder_id
        )
        row = ChatRow(
            id=made.id,
            user_id=user_id,
            title=title,
            document={"title": title},
            current_id=None,
            share_id=None,
            archived=archived,
            pinned=pinned,
            folder_id=folder_id,
            meta={},
            created_at=1_600_000_000 + made.n,
            updated_at=updated_at,
        )
        async with self.db.transaction() as conn:
            await self.repo.insert(conn, row)
        self.made.append(made)
        return made


@pytest.fixture
async def fx(tmp_path: Path) -> AsyncIterator[Fixture]:
    db = Database(tmp_path / "lists.db")
    await db.open()
    try:
        yield Fixture(db)
    finally:
        await db.close()


def newest_first(chats: list[Made]) -> list[Made]:
    return sorted(chats, key=lambda m: (m.updated_at, m.n), reverse=True)


def expected(chats: list[Made]) -> bytes:
    return _PYDANTIC.dump_json(
        [
            ChatTitleIdResponse(
                id=m.id,
                title=m.title,
                updated_at=m.updated_at,
                created_at=1_600_000_000 + m.n,
                archived=m.archived,
                pinned=m.pinned,
            )
            for m in chats
        ]
    )


async def old_path(repo: ChatRepo, q: ChatQuery) -> bytes:
    return _PYDANTIC.dump_json([title_id(t) for t in await repo.titles(q)])


async def test_sidebar_rules_and_bytes(fx: Fixture) -> None:
    me, other = await fx.user("me"), await fx.user("other")
    folder = await fx.folder(me, "work")
    plain = [await fx.chat(me, t, 1_700_000_000 + i % 3) for i, t in enumerate(_AWKWARD)]
    pinned = await fx.chat(me, "pinned", 1_700_000_001, pinned=True)
    filed = await fx.chat(me, "filed", 1_700_000_002, folder_id=folder)
    both = await fx.chat(me, "pinned and filed", 1_700_000_000, pinned=True, folder_id=folder)
    await fx.chat(me, "archived", 1_700_000_009, archived=True)
    await fx.chat(me, "archived pin", 1_700_000_009, archived=True, pinned=True)
    await fx.chat(other, "someone else's", 1_700_000_005)

    async def sidebar(include_pinned: bool, include_folders: bool) -> bytes:
        return await fx.lists.sidebar(
            me, None, include_pinned=include_pinned, include_folders=include_folders
        )

    assert await sidebar(False, False) == expected(newest_first(plain))
    assert await sidebar(True, False) == expected(newest_first([*plain, pinned]))
    assert await sidebar(False, True) == expected(newest_first([*plain, filed]))
    assert await sidebar(True, True) == expected(newest_first([*plain, pinned, filed, both]))
    assert await fx.lists.pinned(me) == expected(newest_first([pinned, both]))

    listed = json.loads(await sidebar(False, False))
    assert [item["title"] for item in listed] == [m.title for m in newest_first(plain)]
    assert all(list(item) == _KEYS for item in listed)
    assert all(item["archived"] is False and item["pinned"] is False for item in listed)


async def test_pages_of_sixty(fx: Fixture) -> None:
    me = await fx.user("me")
    # Runs of equal updated_at: the pk tie-break must keep the pages apart.
    chats = [await fx.chat(me, f"chat {i}", 1_700_000_000 + i // 7) for i in range(130)]
    order = newest_first(chats)

    async def page(n: int | None) -> bytes:
        return await fx.lists.sidebar(me, n, include_pinned=False, include_folders=False)

    assert await page(None) == expected(order)
    assert await page(1) == expected(order[:PAGE_SIZE])
    assert await page(2) == expected(order[PAGE_SIZE : 2 * PAGE_SIZE])
    assert await page(3) == expected(order[2 * PAGE_SIZE :])
    assert await page(4) == b"[]"
    assert await page(0) == await page(-5) == await page(1)


async def test_archived_list_filter_and_order(fx: Fixture) -> None:
    me = await fx.user("me")
    archived = [
        await fx.chat(me, t, 1_700_000_000 + i, archived=True)
        for i, t in enumerate(["beta", "alpha", "Gamma", 'q"uote', "100%_done", "beta two"])
    ]
    live = await fx.chat(me, "alpha live", 1_700_000_050)

    async def filtered(archived_flag: bool | None = True, **kw: str | None) -> bytes:
        args: dict[str, str | None] = {"query": None, "order_by": None, "direction": None}
        return await fx.lists.filtered(me, archived=archived_flag, page=None, **(args | kw))

    assert await filtered() == expected(newest_first(archived))
    by_title = sorted(archived, key=lambda m: (m.title, m.n))  # BINARY collation: "G" < "a"
    assert await filtered(order_by="title", direction="asc") == expected(by_title)
    assert await filtered(order_by="title") == expected(by_title[::-1])
    betas = [m for m in archived if "beta" in m.title]
    assert await filtered(query="beta") == expected(newest_first(betas))
    percent = [m for m in archived if "%" in m.title]
    assert await filtered(query="%") == expected(percent)
    assert await filtered(query='"') == expected([archived[3]])
    assert await filtered(archived_flag=None) == expected(newest_first([*archived, live]))


async def test_same_bytes_as_the_models(fx: Fixture) -> None:
    me = await fx.user("me")
    folder = await fx.folder(me, "f")
    for i in range(90):
        await fx.chat(
            me,
            _AWKWARD[i % len(_AWKWARD)] + str(i),
            1_700_000_000 + i % 11,
            archived=i % 5 == 0,
            pinned=i % 4 == 0,
            folder_id=folder if i % 6 == 0 else None,
        )
    queries = [
        ChatQuery(user_id=me),
        ChatQuery(user_id=me, archived=None),
        ChatQuery(user_id=me, archived=True, pinned=True),
        ChatQuery(user_id=me, pinned=False, in_folder=False, limit=PAGE_SIZE, offset=PAGE_SIZE),
        ChatQuery(user_id=me, folder_ids=[folder]),
        ChatQuery(user_id=me, archived=None, order_by="title", descending=False, limit=7),
        ChatQuery(user_id=me, archived=None, order_by="created_at", offset=85),
        ChatQuery(user_id=me, title_like="日本"),
        ChatQuery(user_id="nobody"),
    ]
    for q in queries:
        assert await fx.repo.titles_json(q) == await old_path(fx.repo, q), q
    assert await fx.repo.titles_json(ChatQuery(user_id="nobody")) == b"[]"
