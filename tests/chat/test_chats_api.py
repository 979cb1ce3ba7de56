"""/api/v1/chats against a real daemon: CRUD, lists, flags, clone, tags, share, export/import."""

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.chats_support import (
    Caller,
    caller,
    document,
    exchange,
    first_admin,
    message,
    path_ids,
)
from tests.daemon_proc import DaemonProc

RESPONSE_KEYS = {
    "id",
    "user_id",
    "title",
    "chat",
    "created_at",
    "updated_at",
    "share_id",
    "archived",
    "pinned",
    "meta",
    "folder_id",
}


@pytest.fixture(scope="module")
def client(daemon: DaemonProc) -> Iterator[httpx.Client]:
    with daemon.unix_client(timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> Caller:
    return first_admin(client)


@pytest.fixture
def alice(admin: Caller) -> Caller:
    """A fresh user per test, so lists start empty."""
    return caller(admin, "Alice")


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["id"] for i in items]


def test_create_get_and_the_response_shape(alice: Caller) -> None:
    before = int(time.time())
    doc = exchange("Capitals", "What is the capital of France?", "Paris.")
    doc["history"]["messages"]["u1"]["files"] = [{"type": "file", "id": "f1"}]
    created = alice.new_chat(doc)
    assert set(created) >= RESPONSE_KEYS
    assert created["user_id"] == alice.id and created["title"] == "Capitals"
    assert created["archived"] is False and created["pinned"] is False
    assert created["share_id"] is None and created["folder_id"] is None
    assert created["meta"] == {}
    # Row timestamps are seconds; the document keeps milliseconds, messages seconds.
    assert before - 1 <= created["created_at"] <= int(time.time()) + 1
    assert created["updated_at"] >= created["created_at"]
    assert created["chat"]["timestamp"] == 1730000000000
    assert created["chat"]["history"]["messages"]["u1"]["timestamp"] == 1730000000
    assert created["chat"]["history"]["currentId"] == "a1"
    assert path_ids(created) == ["u1", "a1"]
    assert created["chat"]["history"]["messages"]["u1"]["files"] == [{"type": "file", "id": "f1"}]
    fetched = alice.ok("get", f"/api/v1/chats/{created['id']}")
    # 0.12: reading a chat also says whether the reader may continue it (the owner may).
    assert fetched["chat"].pop("share_mode") == "continue" and "share_mode" not in created["chat"]
    assert fetched == created


def test_new_chat_defaults(alice: Caller) -> None:
    created = alice.new_chat({})
    assert created["title"] == "New Chat" and created["chat"]["title"] == "New Chat"
    assert created["chat"]["history"] == {"messages": {}, "currentId": None}
    assert created["chat"]["messages"] == []
    # The server stamps the document in milliseconds when the client did not.
    assert abs(created["chat"]["timestamp"] / 1000 - time.time()) < 60


def test_update_is_a_shallow_merge_that_mirrors_the_title(alice: Caller) -> None:
    chat = alice.new_chat(exchange("Old", "q", "a"))
    updated = alice.ok(
        "post",
        f"/api/v1/chats/{chat['id']}",
        json={"chat": {"title": "Renamed", "params": {"temperature": 0.2}, "custom": [1]}},
    )
    assert updated["title"] == "Renamed" and updated["chat"]["title"] == "Renamed"
    assert updated["chat"]["params"] == {"temperature": 0.2} and updated["chat"]["custom"] == [1]
    assert updated["chat"]["models"] == ["llama3.1:8b"]
    assert path_ids(updated) == ["u1", "a1"]
    assert updated["updated_at"] >= chat["updated_at"]
    listed = alice.ok("get", "/api/v1/chats/")
    assert listed[0]["title"] == "Renamed"


def test_list_rules_and_order(alice: Caller, admin: Caller) -> None:
    def imported(title: str, updated_at: int, **flags: Any) -> str:
        item = {"chat": exchange(title, "q", "a"), "updated_at": updated_at, **flags}
        result = alice.ok("post", "/api/v1/chats/import", json={"chats": [item]})
        return str(result[0]["id"])

    folder = alice.ok("post", "/api/v1/folders/", json={"name": "F"})
    older = imported("older", 1_700_000_000)
    newer = imported("newer", 1_700_000_100)
    pinned = imported("pinned", 1_700_000_050, pinned=True)
    archived = imported("archived", 1_700_000_060, archived=True)
    in_folder = imported("in folder", 1_700_000_070, folder_id=folder["id"])
    plain = alice.ok("get", "/api/v1/chats/")
    assert ids(plain) == [newer, older]
    assert set(plain[0]) >= {"id", "title", "updated_at", "created_at"}
    assert ids(alice.ok("get", "/api/v1/chats/list")) == [newer, older]
    assert ids(alice.ok("get", "/api/v1/chats/", params={"include_pinned": "true"})) == [
        newer,
        pinned,
        older,
    ]
    both = alice.ok(
        "get", "/api/v1/chats/", params={"include_pinned": True, "include_folders": True}
    )
    assert ids(both) == [newer, in_folder, pinned, older]
    assert archived not in ids(both)
    assert ids(alice.ok("get", "/api/v1/chats/", params={"page": 1})) == [newer, older]
    assert alice.ok("get", "/api/v1/chats/", params={"page": 2}) == []


def test_pages_of_sixty(alice: Caller) -> None:
    items = [
        {"chat": {"title": f"c{i}"}, "updated_at": 1_700_000_000 + i, "created_at": 1_600_000_000}
        for i in range(61)
    ]
    alice.ok("post", "/api/v1/chats/import", json={"chats": items})
    first = alice.ok("get", "/api/v1/chats/", params={"page": 1})
    second = alice.ok("get", "/api/v1/chats/", params={"page": 2})
    assert len(first) == 60 and len(second) == 1
    assert first[0]["title"] == "c60" and second[0]["title"] == "c0"
    assert second[0]["created_at"] == 1_600_000_000
    assert len(alice.ok("get", "/api/v1/chats/")) == 61


def test_pin_toggle(alice: Caller) -> None:
    chat = alice.new_chat({"title": "p"})
    path = f"/api/v1/chats/{chat['id']}"
    assert alice.ok("get", f"{path}/pinned") is False
    assert alice.ok("post", f"{path}/pin")["pinned"] is True
    assert alice.ok("get", f"{path}/pinned") is True
    assert ids(alice.ok("get", "/api/v1/chats/pinned")) == [chat["id"]]
    assert alice.ok("post", f"{path}/pin")["pinned"] is False
    assert alice.ok("get", "/api/v1/chats/pinned") == []


def test_archive_toggle_and_bulk(alice: Caller) -> None:
    one = alice.new_chat({"title": "Alpha notes"})
    two = alice.new_chat({"title": "Beta notes"})
    assert alice.ok("post", f"/api/v1/chats/{one['id']}/archive")["archived"] is True
    assert ids(alice.ok("get", "/api/v1/chats/")) == [two["id"]]
    assert ids(alice.ok("get", "/api/v1/chats/archived")) == [one["id"]]
    archived_full = alice.ok("get", "/api/v1/chats/all/archived")
    assert ids(archived_full) == [one["id"]] and "history" in archived_full[0]["chat"]
    assert alice.ok("post", "/api/v1/chats/archive/all") is True
    assert alice.ok("get", "/api/v1/chats/") == []
    titles = alice.ok("get", "/api/v1/chats/archived", params={"order_by": "title"})
    assert [t["title"] for t in titles] == ["Beta notes", "Alpha notes"]
    titles = alice.ok(
        "get", "/api/v1/chats/archived", params={"order_by": "title", "direction": "asc"}
    )
    assert [t["title"] for t in titles] == ["Alpha notes", "Beta notes"]
    found = alice.ok("get", "/api/v1/chats/archived", params={"query": "beta"})
    assert ids(found) == [two["id"]]
    assert alice.ok("get", "/api/v1/chats/archived", params={"query": "%"}) == []
    assert alice.ok("post", "/api/v1/chats/unarchive/all") is True
    assert len(alice.ok("get", "/api/v1/chats/")) == 2
    assert alice.ok("post", f"/api/v1/chats/{one['id']}/archive")["archived"] is True
    assert alice.ok("post", f"/api/v1/chats/{one['id']}/archive")["archived"] is False


def test_clone(alice: Caller) -> None:
    chat = alice.new_chat(exchange("Source", "q", "a"))
    alice.ok("post", f"/api/v1/chats/{chat['id']}/tags", json={"name": "keep"})
    clone = alice.ok("post", f"/api/v1/chats/{chat['id']}/clone", json={})
    assert clone["id"] != chat["id"] and clone["title"] == "Clone of Source"
    assert clone["chat"]["originalChatId"] == chat["id"]
    assert clone["chat"]["branchPointMessageId"] == "a1"
    assert clone["chat"]["history"] == chat["chat"]["history"]
    assert clone["meta"]["tags"] == ["keep"]
    named = alice.ok("post", f"/api/v1/chats/{chat['id']}/clone", json={"title": "Mine"})
    assert named["title"] == "Mine" and named["chat"]["title"] == "Mine"
    bare = alice.post(f"/api/v1/chats/{chat['id']}/clone")
    assert bare.status_code == 200 and bare.json()["title"] == "Clone of Source"


def test_tags(alice: Caller) -> None:
    chat = alice.new_chat({"title": "tagged"})
    other = alice.new_chat({"title": "other"})
    path = f"/api/v1/chats/{chat['id']}/tags"
    tags = alice.ok("post", path, json={"name": "Work Stuff"})
    assert tags == [{"id": "work_stuff", "name": "Work Stuff", "user_id": alice.id, "meta": {}}]
    assert alice.ok("post", path, json={"name": "work stuff"}) == tags
    alice.ok("post", path, json={"name": "second"})
    alice.ok("post", f"/api/v1/chats/{other['id']}/tags", json={"name": "second"})
    assert ids(alice.ok("get", path)) == ["work_stuff", "second"]
    assert alice.ok("get", f"/api/v1/chats/{chat['id']}")["meta"]["tags"] == [
        "work_stuff",
        "second",
    ]
    none = alice.post(path, json={"name": "None"})
    assert none.status_code == 400 and "None" in none.json()["detail"]
    assert ids(alice.ok("get", "/api/v1/chats/all/tags")) == ["second", "work_stuff"]
    by_tag = alice.ok("post", "/api/v1/chats/tags", json={"name": "Work Stuff"})
    assert ids(by_tag) == [chat["id"]]
    assert len(alice.ok("post", "/api/v1/chats/tags", json={"name": "second", "limit": 1})) == 1
    assert ids(alice.ok("delete", path, json={"name": "Work Stuff"})) == ["second"]
    # A tag no chat uses any more is forgotten.
    assert ids(alice.ok("get", "/api/v1/chats/all/tags")) == ["second"]
    assert alice.ok("delete", f"{path}/all") is True
    assert alice.ok("get", path) == []
    assert ids(alice.ok("get", "/api/v1/chats/all/tags")) == ["second"]


def test_update_one_message(alice: Caller) -> None:
    chat = alice.new_chat(exchange("m", "q", "draft answer"))
    path = f"/api/v1/chats/{chat['id']}/messages/a1"
    updated = alice.ok("post", path, json={"content": "final answer"})
    assert updated["chat"]["history"]["messages"]["a1"]["content"] == "final answer"
    assert updated["chat"]["messages"][-1]["content"] == "final answer"
    assert updated["chat"]["history"]["messages"]["a1"]["model"] == "llama3.1:8b"
    missing = alice.post(f"/api/v1/chats/{chat['id']}/messages/nope", json={"content": "x"})
    assert missing.status_code == 404 and "detail" in missing.json()


def test_share_snapshot(alice: Caller, admin: Caller) -> None:
    chat = alice.new_chat(exchange("Shared", "q", "a"))
    path = f"/api/v1/chats/{chat['id']}/share"
    shared = alice.ok("post", path)
    share_id = shared["share_id"]
    assert share_id and shared["id"] == chat["id"]
    reader = caller(admin, "Reader")
    snapshot = reader.ok("get", f"/api/v1/chats/share/{share_id}")
    assert snapshot["id"] == share_id and snapshot["user_id"] == f"shared-{chat['id']}"
    assert snapshot["chat"]["history"] == chat["chat"]["history"]
    # Later edits do not reach the snapshot until the chat is shared again (same share id).
    alice.ok("post", f"/api/v1/chats/{chat['id']}/messages/a1", json={"content": "edited"})
    snapshot = reader.ok("get", f"/api/v1/chats/share/{share_id}")
    assert snapshot["chat"]["history"]["messages"]["a1"]["content"] == "a"
    assert alice.ok("post", path, json={"share_mode": None})["share_id"] == share_id
    snapshot = reader.ok("get", f"/api/v1/chats/share/{share_id}")
    assert snapshot["chat"]["history"]["messages"]["a1"]["content"] == "edited"
    assert alice.ok("delete", path) is True
    assert alice.ok("get", f"/api/v1/chats/{chat['id']}")["share_id"] is None
    gone = reader.get(f"/api/v1/chats/share/{share_id}")
    assert gone.status_code == 401 and gone.json()["detail"]
    assert alice.ok("delete", path) is False


def test_a_shared_chat_leaves_out_the_owners_setup(alice: Caller, admin: Caller) -> None:
    """As 0.12: a reader of a shared chat gets the conversation, not the owner's system prompt
    and parameters, tools, filters or variables, nor the `meta` of messages they did not write."""
    doc = exchange("Setup", "q", "a")
    doc["history"]["messages"]["u1"]["meta"] = {"private": "owner's note"}
    setup = {
        "params": {"system": "The vault code is 1234."},
        "tool_ids": ["search"],
        "tool_servers": [{"url": "http://127.0.0.1:9"}],
        "filter_ids": ["f"],
        "variables": {"x": "1"},
    }
    chat = alice.new_chat({**doc, **setup})
    share_id = alice.ok("post", f"/api/v1/chats/{chat['id']}/share")["share_id"]
    snapshot = caller(admin, "Reader").ok("get", f"/api/v1/chats/share/{share_id}")
    assert not set(setup) & set(snapshot["chat"]) and "1234" not in json.dumps(snapshot)
    assert "meta" not in snapshot["chat"]["history"]["messages"]["u1"]
    assert snapshot["chat"]["history"]["messages"]["a1"]["content"] == "a"
    # The owner's own chat keeps all of it.
    own = alice.ok("get", f"/api/v1/chats/{chat['id']}")["chat"]
    assert own["params"] == setup["params"] and own["tool_ids"] == ["search"]
    assert own["history"]["messages"]["u1"]["meta"] == {"private": "owner's note"}


def test_delete_one_and_all(alice: Caller) -> None:
    one = alice.new_chat({"title": "one"})
    alice.new_chat({"title": "two"})
    alice.ok("post", f"/api/v1/chats/{one['id']}/tags", json={"name": "gone soon"})
    assert alice.ok("delete", f"/api/v1/chats/{one['id']}") is True
    assert alice.get(f"/api/v1/chats/{one['id']}").status_code == 401
    again = alice.delete(f"/api/v1/chats/{one['id']}")
    assert again.status_code == 404 and again.json()["detail"]
    assert alice.ok("get", "/api/v1/chats/all/tags") == []
    assert alice.ok("delete", "/api/v1/chats/") is True
    assert alice.ok("get", "/api/v1/chats/all") == []


def test_export_import_round_trip_is_lossless(alice: Caller, admin: Caller) -> None:
    folder = alice.ok("post", "/api/v1/folders/", json={"name": "Exported"})
    branched = document(
        "Branches",
        [
            message("u1", None, "user", "q", ["a1", "a2"]),
            message("a1", "u1", "assistant", "first", model="m1", modelIdx=0),
            message(
                "a2",
                "u1",
                "assistant",
                "second",
                model="m2",
                modelIdx=1,
                usage={"total_tokens": 3},
                sources=[{"source": {"name": "doc"}}],
                statusHistory=[{"done": True}],
            ),
        ],
        current="a1",
        system="be brief",
    )
    first = alice.new_chat(branched, folder_id=folder["id"])
    second = alice.new_chat(exchange("Plain", "hello", "hi"))
    alice.ok("post", f"/api/v1/chats/{second['id']}/pin")
    alice.ok("post", f"/api/v1/chats/{second['id']}/tags", json={"name": "Round Trip"})
    alice.ok("post", f"/api/v1/chats/{first['id']}/archive")
    exported = alice.ok("get", "/api/v1/chats/all")
    assert {c["id"] for c in exported} == {first["id"], second["id"]}

    def key(chats: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            c["title"]: (
                c["chat"],
                c["meta"],
                c["pinned"],
                c["archived"],
                c["created_at"],
                c["updated_at"],
            )
            for c in chats
        }

    # Another user imports the export file as it is (a bare JSON array).
    bob = caller(admin, "Bob")
    imported = bob.ok("post", "/api/v1/chats/import", json=exported)
    assert key(imported) == key(exported)
    assert all(c["user_id"] == bob.id and c["folder_id"] is None for c in imported)
    assert key(bob.ok("get", "/api/v1/chats/all")) == key(exported)
    assert ids(bob.ok("get", "/api/v1/chats/all/tags")) == ["round_trip"]
    # The owner re-imports with the {chats: [...]} form: the folder is kept.
    again = alice.ok("post", "/api/v1/chats/import", json={"chats": exported})
    assert key(again) == key(exported)
    assert {c["folder_id"] for c in again} == {folder["id"], None}
    assert not {c["id"] for c in again} & {first["id"], second["id"]}


def test_import_accepts_bare_documents_and_linear_messages(alice: Caller) -> None:
    items = [
        {"title": "Old style", "messages": [{"role": "user", "content": "q"}]},
        {"chat": {"title": "Form", "messages": [{"role": "user", "content": "x"}]}},
    ]
    result = alice.ok("post", "/api/v1/chats/import", json={"chats": items})
    assert [c["title"] for c in result] == ["Old style", "Form"]
    for chat in result:
        history = chat["chat"]["history"]
        assert len(history["messages"]) == 1 and history["currentId"] in history["messages"]
        assert len(chat["chat"]["messages"]) == 1


def test_admin_routes(alice: Caller, admin: Caller) -> None:
    chat = alice.new_chat({"title": "visible to admin"})
    everything = admin.ok("get", "/api/v1/chats/all/db")
    assert chat["id"] in ids(everything)
    listed = admin.ok("get", f"/api/v1/chats/list/user/{alice.id}")
    assert ids(listed) == [chat["id"]]
    assert alice.get("/api/v1/chats/all/db").status_code == 401
    assert alice.get(f"/api/v1/chats/list/user/{alice.id}").status_code == 401


def test_temporary_chats_are_never_stored(alice: Caller) -> None:
    for chat_id in ("local:abc", "temporary:xyz"):
        assert alice.get(f"/api/v1/chats/{chat_id}").status_code == 401
        r = alice.post(f"/api/v1/chats/{chat_id}", json={"chat": {"title": "t"}})
        assert r.status_code == 401
    assert alice.ok("get", "/api/v1/chats/all") == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/api/v1/chats/new", {"chat": "not a document"}, 422),
        ("post", "/api/v1/chats/new", {}, 422),
        ("post", "/api/v1/chats/new", {"chat": {"history": []}}, 400),
        ("post", "/api/v1/chats/new", {"chat": {"history": {"messages": []}}}, 400),
        ("post", "/api/v1/chats/new", {"chat": {"messages": {"a": 1}}}, 400),
        ("post", "/api/v1/chats/new", {"chat": {"history": {"messages": {"a": 1}}}}, 400),
        (
            "post",
            "/api/v1/chats/new",
            {"chat": {"history": {"messages": {"a": {"parentId": 1}}}}},
            400,
        ),
        ("post", "/api/v1/chats/new", {"chat": {}, "folder_id": "nope"}, 404),
        ("post", "/api/v1/chats/import", {"chats": [{"title": "no document"}]}, 400),
        ("post", "/api/v1/chats/import", {"chats": "x"}, 422),
        ("post", "/api/v1/chats/import", "garbage", 422),
        ("post", "/api/v1/chats/import", [1, 2], 422),
        ("get", "/api/v1/chats/search", None, 422),
        ("get", "/api/v1/chats/?page=abc", None, 422),
        ("post", "/api/v1/chats/tags", {"name": ""}, 422),
        ("post", "/api/v1/chats/tags", {"name": "x", "skip": -1}, 422),
    ],
)
def test_bad_input_gets_a_4xx_detail(
    alice: Caller, method: str, path: str, body: Any, status: int
) -> None:
    r = getattr(alice, method)(path, **({} if body is None else {"json": body}))
    assert r.status_code == status, r.text
    assert "detail" in r.json()


def test_bad_updates_get_a_4xx_detail(alice: Caller) -> None:
    chat = alice.new_chat({"title": "x"})
    path = f"/api/v1/chats/{chat['id']}"
    bad_bodies: list[tuple[dict[str, Any], int]] = [
        ({"chat": {"history": "x"}}, 400),
        ({"chat": {"history": {"messages": {"m": {"childrenIds": "x"}}}}}, 400),
        ({"chat": None}, 422),
        ({"chat": {}, "deleted_message_ids": "x"}, 422),
    ]
    for body, status in bad_bodies:
        r = alice.post(path, json=body)
        assert r.status_code == status and "detail" in r.json(), r.text
    for route, body in (("tags", {}), ("folder", {"folder_id": 3}), ("messages/m", {})):
        r = alice.post(f"{path}/{route}", json=body)
        assert r.status_code == 422 and "detail" in r.json()
    r = alice.post(f"{path}/folder", json={"folder_id": "unknown"})
    assert r.status_code == 404 and r.json()["detail"]
