"""ChatService's streaming API on a real SQLite database: one message row at a time."""

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from webui_daemon.schemas.chats import ChatForm
from webui_daemon.services import errors
from webui_daemon.services.chats.chat_lists import ChatListService
from webui_daemon.services.chats.chats import ChatService
from webui_daemon.storage.chats import ChatRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.folders import FolderRepo
from webui_daemon.storage.rows import UserRow
from webui_daemon.storage.tags import TagRepo
from webui_daemon.storage.users import UserRepo


class Fixture:
    def __init__(self, db: Database) -> None:
        self.db = db
        repo, folders = ChatRepo(db), FolderRepo(db)
        self.chats = ChatService(db, repo, folders, TagRepo(db))
        self.lists = ChatListService(db, repo, folders)

    async def user(self, name: str) -> str:
        now = int(time.time())
        row = UserRow(
            id=f"id-{name}",
            email=f"{name}@example.com",
            name=name,
            role="user",
            profile_image_url="",
            last_active_at=now,
            created_at=now,
            updated_at=now,
        )
        async with self.db.transaction() as conn:
            await UserRepo(self.db).insert(conn, row, "x")
        return row.id

    async def chat(self, user_id: str) -> str:
        doc = {
            "title": "Streaming",
            "history": {
                "messages": {
                    "u1": {"id": "u1", "parentId": None, "childrenIds": [], "role": "user",
                           "content": "tell me about otters", "timestamp": 1}
                },
                "currentId": "u1",
            },
        }  # fmt: skip
        return (await self.chats.create(user_id, ChatForm(chat=doc))).id

    async def search(self, user_id: str, text: str) -> list[str]:
        return [c.id for c in await self.lists.search(user_id, text, None)]


@pytest.fixture
async def fx(tmp_path: Path) -> AsyncIterator[Fixture]:
    db = Database(tmp_path / "chats.db")
    await db.open()
    try:
        yield Fixture(db)
    finally:
        await db.close()


def assistant(mid: str, parent: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "parentId": parent,
        "childrenIds": [],
        "role": "assistant",
        "content": "",
        "model": "m",
        "timestamp": 2,
        "done": False,
        **extra,
    }


async def test_add_then_stream_into_a_message(fx: Fixture) -> None:
    alice = await fx.user("alice")
    chat_id = await fx.chat(alice)
    await fx.chats.add_message(alice, chat_id, assistant("a1", "u1"))
    chat = await fx.chats.get(alice, chat_id)
    assert chat.current_message_id == "a1"
    assert chat.chat["history"]["messages"]["u1"]["childrenIds"] == ["a1"]
    assert [m["id"] for m in chat.chat["messages"]] == ["u1", "a1"]

    for text in ("Otters ", "Otters are ", "Otters are aquatic mammals."):
        await fx.chats.update_message(chat_id, "a1", {"content": text})
    await fx.chats.update_message(
        chat_id, "a1", {"done": True, "usage": {"total_tokens": 9}, "id": "ignored"}
    )
    message = (await fx.chats.get(alice, chat_id)).chat["history"]["messages"]["a1"]
    assert message["content"] == "Otters are aquatic mammals."
    assert message["done"] is True and message["usage"] == {"total_tokens": 9}
    assert message["id"] == "a1" and message["model"] == "m"
    # The index follows every write: the new words are found, the replaced ones are gone.
    assert await fx.search(alice, "aquatic") == [chat_id]
    await fx.chats.update_message(chat_id, "a1", {"content": "Beavers build dams."})
    assert await fx.search(alice, "aquatic") == []
    assert await fx.search(alice, "beavers") == [chat_id]


async def test_update_message_writes_one_message_row(fx: Fixture) -> None:
    alice = await fx.user("alice")
    chat_id = await fx.chat(alice)
    await fx.chats.add_message(alice, chat_id, assistant("a1", "u1"))
    statements: list[str] = []
    writer = fx.db._writer
    assert writer is not None
    await writer.set_trace_callback(statements.append)
    await fx.chats.update_message(chat_id, "a1", {"content": "a long answer " * 50})
    await writer.set_trace_callback(None)  # type: ignore[arg-type]
    # The trace repeats a statement for each trigger step, and shows FTS internals as comments.
    writes = list(
        dict.fromkeys(s for s in statements if s.split()[0] in {"INSERT", "UPDATE", "DELETE"})
    )
    # One message row, plus updated_at (a no-op within the same second); never the document.
    assert [w.split()[1] for w in writes] == ["chat_message", "chat"]
    assert "document" not in writes[1] and "WHERE chat_id" in writes[0]


async def test_add_message_regenerate_sibling_and_set_current(fx: Fixture) -> None:
    alice = await fx.user("alice")
    chat_id = await fx.chat(alice)
    await fx.chats.add_message(alice, chat_id, assistant("a1", "u1"))
    await fx.chats.add_message(alice, chat_id, assistant("a2", "u1"), set_current=False)
    chat = await fx.chats.get(alice, chat_id)
    assert chat.chat["history"]["messages"]["u1"]["childrenIds"] == ["a1", "a2"]
    assert chat.current_message_id == "a1"
    # Adding an existing message merges into it and never duplicates the link.
    await fx.chats.add_message(alice, chat_id, {"id": "a2", "parentId": "u1", "content": "x"})
    chat = await fx.chats.get(alice, chat_id)
    assert chat.chat["history"]["messages"]["u1"]["childrenIds"] == ["a1", "a2"]
    assert chat.chat["history"]["messages"]["a2"]["content"] == "x"
    assert chat.chat["history"]["messages"]["a2"]["model"] == "m"
    assert [m["id"] for m in chat.chat["messages"]] == ["u1", "a2"]


async def test_message_path_and_set_title(fx: Fixture) -> None:
    alice = await fx.user("alice")
    chat_id = await fx.chat(alice)
    await fx.chats.add_message(alice, chat_id, assistant("a1", "u1", content="hi"))
    user2 = {"id": "u2", "parentId": "a1", "role": "user", "content": "more", "timestamp": 3}
    await fx.chats.add_message(alice, chat_id, user2)
    path = await fx.chats.message_path(alice, chat_id, "u2")
    assert [m["id"] for m in path] == ["u1", "a1", "u2"]
    assert path[1]["content"] == "hi" and path[2]["childrenIds"] == []
    await fx.chats.set_title(chat_id, "Otter facts")
    chat = await fx.chats.get(alice, chat_id)
    assert chat.title == "Otter facts" and chat.chat["title"] == "Otter facts"
    assert await fx.search(alice, "otter facts") == [chat_id]
    with pytest.raises(errors.NotFound):
        await fx.chats.message_path(alice, chat_id, "missing")


async def test_ownership_and_bad_messages(fx: Fixture) -> None:
    alice, bob = await fx.user("alice"), await fx.user("bob")
    chat_id = await fx.chat(alice)
    for call in (
        fx.chats.get(bob, chat_id),
        fx.chats.add_message(bob, chat_id, assistant("b1", "u1")),
        fx.chats.message_path(bob, chat_id, "u1"),
        fx.chats.get(alice, "missing"),
    ):
        with pytest.raises(errors.Unauthorized) as caught:
            await call
        assert caught.value.status == 401
    bad_messages: list[dict[str, Any]] = [
        {"parentId": "u1"},
        {"id": "", "parentId": "u1"},
        {"id": "x", "parentId": "not-here"},
        {"id": "x", "parentId": 5},
        {"id": "u1", "parentId": "u1"},
    ]
    for bad in bad_messages:
        with pytest.raises(errors.WebUIError) as failed:
            await fx.chats.add_message(alice, chat_id, bad)
        assert failed.value.status == 400
    with pytest.raises(errors.NotFound):
        await fx.chats.update_message(chat_id, "missing", {"content": "x"})
    assert [m["id"] for m in (await fx.chats.get(alice, chat_id)).chat["messages"]] == ["u1"]


async def test_temporary_chats_are_not_stored(fx: Fixture) -> None:
    alice = await fx.user("alice")
    await fx.chats.add_message(alice, "local:abc", assistant("a1", "u1"))
    await fx.chats.update_message("temporary:x", "a1", {"content": "x"})
    await fx.chats.set_title("local:abc", "t")
    with pytest.raises(errors.Unauthorized):
        await fx.chats.get(alice, "local:abc")
