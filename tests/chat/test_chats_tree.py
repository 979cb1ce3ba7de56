"""Tree semantics over HTTP: regenerate and edit make siblings, currentId drives `messages`."""

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from tests.chats_support import Caller, caller, document, exchange, first_admin, message, path_ids
from tests.daemon_proc import DaemonProc


@pytest.fixture(scope="module")
def user(daemon: DaemonProc) -> Iterator[Caller]:
    with daemon.unix_client(timeout=10) as client:
        yield caller(first_admin(client), "Tree")


def save(user: Caller, chat_id: str, doc: dict[str, Any], **form: Any) -> dict[str, Any]:
    result: dict[str, Any] = user.ok("post", f"/api/v1/chats/{chat_id}", json={"chat": doc, **form})
    return result


def history(chat: dict[str, Any]) -> dict[str, Any]:
    messages: dict[str, Any] = chat["chat"]["history"]["messages"]
    return messages


def assert_consistent(chat: dict[str, Any]) -> None:
    """currentId names a message, `messages` is its root path, parents and children agree."""
    tree = history(chat)
    current = chat["chat"]["history"]["currentId"]
    assert chat["current_message_id"] == current
    path = chat["chat"]["messages"]
    if current is None:
        assert path == []
        return
    assert path[-1]["id"] == current and path[0]["parentId"] is None
    for parent, child in itertools.pairwise(path):
        assert child["parentId"] == parent["id"]
    for mid, msg in tree.items():
        assert msg["id"] == mid
        for child in msg["childrenIds"]:
            assert tree[child]["parentId"] == mid
        if msg["parentId"] is not None:
            assert mid in tree[msg["parentId"]]["childrenIds"]
    assert path == [tree[m["id"]] for m in path]


def test_regenerate_adds_a_sibling_answer(user: Caller) -> None:
    chat = user.new_chat(exchange("Regen", "q", "first"))
    doc = document(
        "Regen",
        [
            message("u1", None, "user", "q", ["a1", "a2"]),
            message("a1", "u1", "assistant", "first"),
            message("a2", "u1", "assistant", "second"),
        ],
    )
    saved = save(user, chat["id"], doc)
    assert path_ids(saved) == ["u1", "a2"]
    assert history(saved)["u1"]["childrenIds"] == ["a1", "a2"]
    assert_consistent(saved)


def test_edit_makes_a_sibling_branch_and_switching_rebuilds_messages(user: Caller) -> None:
    chat = user.new_chat(exchange("Edit", "q", "a"))
    # Editing the first question: a new root u1b (sibling of u1) with its own answer.
    doc = document(
        "Edit",
        [
            message("u1", None, "user", "q", ["a1"]),
            message("a1", "u1", "assistant", "a"),
            message("u1b", None, "user", "q, edited", ["a1b"]),
            message("a1b", "u1b", "assistant", "a for the edit"),
        ],
    )
    saved = save(user, chat["id"], doc)
    assert path_ids(saved) == ["u1b", "a1b"]
    assert_consistent(saved)
    # Showing the other branch only moves currentId; messages follow.
    switched = save(user, chat["id"], {"history": {"currentId": "a1"}})
    assert path_ids(switched) == ["u1", "a1"]
    assert len(history(switched)) == 4
    assert_consistent(switched)
    fetched = user.ok("get", f"/api/v1/chats/{chat['id']}")
    # GET adds 0.12's `share_mode` for its reader (as 0.12's GET does; an update's answer not).
    assert fetched["chat"].pop("share_mode") == "continue"
    assert fetched["chat"] == switched["chat"]


def test_multi_model_turn(user: Caller) -> None:
    doc = document(
        "Two models",
        [
            message("u1", None, "user", "q", ["a1", "a2"], models=["m1", "m2"]),
            message("a1", "u1", "assistant", "from m1", model="m1", modelIdx=0),
            message("a2", "u1", "assistant", "from m2", model="m2", modelIdx=1),
        ],
        current="a1",
    )
    chat = user.new_chat(doc)
    assert path_ids(chat) == ["u1", "a1"]
    assert history(chat)["a2"]["modelIdx"] == 1
    assert chat["chat"]["history"] == doc["history"]


def test_a_later_turn_and_history_merges_key_by_key(user: Caller) -> None:
    chat = user.new_chat(exchange("Merge", "q", "a"))
    # The client sends only the new messages (plus the parent it changed): the rest stays.
    saved = save(
        user,
        chat["id"],
        {
            "history": {
                "messages": {
                    "a1": message("a1", "u1", "assistant", "a", ["u2"]),
                    "u2": message("u2", "a1", "user", "and then?", ["a2"]),
                    "a2": message("a2", "u2", "assistant", "then this"),
                },
                "currentId": "a2",
            }
        },
    )
    assert path_ids(saved) == ["u1", "a1", "u2", "a2"]
    assert_consistent(saved)


def test_children_are_repaired_from_parent_ids(user: Caller) -> None:
    chat = user.new_chat(exchange("Repair", "q", "a"))
    # a2 points at u1, but the client forgot to add it to u1's childrenIds.
    saved = save(
        user,
        chat["id"],
        {"history": {"messages": {"a2": message("a2", "u1", "assistant", "b")}, "currentId": "a2"}},
    )
    assert history(saved)["u1"]["childrenIds"] == ["a1", "a2"]
    assert_consistent(saved)


def test_deleted_message_ids_and_a_current_that_is_gone(user: Caller) -> None:
    doc = document(
        "Delete",
        [
            message("u1", None, "user", "q", ["a1", "a2"]),
            message("a1", "u1", "assistant", "first"),
            message("a2", "u1", "assistant", "second"),
        ],
    )
    chat = user.new_chat(doc)
    saved = save(user, chat["id"], {}, deleted_message_ids=["a2"])
    assert set(history(saved)) == {"u1", "a1"}
    assert history(saved)["u1"]["childrenIds"] == ["a1"]
    # currentId pointed at a2: it falls back to a leaf that exists.
    assert path_ids(saved) == ["u1", "a1"]
    assert_consistent(saved)


def test_unknown_current_id_falls_back_to_a_leaf(user: Caller) -> None:
    doc = exchange("Current", "q", "a")
    doc["history"]["currentId"] = "nope"
    chat = user.new_chat(doc)
    assert path_ids(chat) == ["u1", "a1"]
    assert_consistent(chat)


def test_linear_messages_without_history(user: Caller) -> None:
    chat = user.new_chat(
        {
            "title": "Linear",
            "messages": [
                {"id": "x1", "role": "user", "content": "q", "timestamp": 1},
                {"id": "x2", "role": "assistant", "content": "a", "usage": {"total": 2}},
            ],
        }
    )
    assert path_ids(chat) == ["x1", "x2"]
    assert history(chat)["x1"]["childrenIds"] == ["x2"]
    assert history(chat)["x2"]["usage"] == {"total": 2}
    assert_consistent(chat)
    # A later save with a longer linear list adds to the same chain.
    saved = save(
        user,
        chat["id"],
        {
            "messages": [
                {"id": "x1", "role": "user", "content": "q"},
                {"id": "x2", "role": "assistant", "content": "a"},
                {"id": "x3", "role": "user", "content": "more"},
            ]
        },
    )
    assert path_ids(saved) == ["x1", "x2", "x3"]
    assert_consistent(saved)


def test_extra_keys_survive_unchanged(user: Caller) -> None:
    odd: dict[str, Any] = {
        "sources": [{"source": {"id": "k"}, "document": ["text"], "metadata": [{"page": 1}]}],
        "statusHistory": [{"action": "web_search", "done": True}],
        "info": {"eval_count": 3},
        "error": None,
        "annotation": {"rating": 1},
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "x"}]}],
        "unicode": "žluťoučký 🐎",
    }
    doc = document(
        "Extras",
        [
            message("u1", None, "user", "q", ["a1"], files=[{"id": "f"}]),
            message("a1", "u1", "assistant", "a", done=True, **odd),
        ],
        customTopLevel={"nested": [1, {"x": None}]},
    )
    chat = user.new_chat(doc)
    assert chat["chat"]["history"] == doc["history"]
    assert chat["chat"]["customTopLevel"] == {"nested": [1, {"x": None}]}
    assert chat["chat"]["messages"] == doc["messages"]
