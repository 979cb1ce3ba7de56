"""Unit tests of the pure chat helpers: the tree, search parsing, message rows."""

import copy
from typing import Any

import pytest

from webui_daemon.services.chats import chat_search, chat_tree
from webui_daemon.services.chats.chat_mapping import message_dict, message_row


def msg(mid: str, parent: str | None, children: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": mid, "parentId": parent, "childrenIds": children, **extra}


def branched() -> chat_tree.Messages:
    """u1 -> (a1, a2 regenerated); a2 -> u2 -> a3; u1' is an edited sibling root."""
    return {
        "u1": msg("u1", None, ["a1", "a2"], role="user", content="hi"),
        "a1": msg("a1", "u1", [], role="assistant", content="hello"),
        "a2": msg("a2", "u1", ["u2"], role="assistant", content="hey"),
        "u2": msg("u2", "a2", ["a3"], role="user", content="more"),
        "a3": msg("a3", "u2", [], role="assistant", content="sure"),
        "u1b": msg("u1b", None, [], role="user", content="hi (edited)"),
    }


def ids(messages: list[dict[str, Any]]) -> list[str]:
    return [m["id"] for m in messages]


def test_path_follows_parents_from_the_root() -> None:
    tree = branched()
    assert ids(chat_tree.path_to(tree, "a3")) == ["u1", "a2", "u2", "a3"]
    assert ids(chat_tree.path_to(tree, "a1")) == ["u1", "a1"]
    assert chat_tree.path_to(tree, None) == []
    assert chat_tree.path_to(tree, "missing") == []


def test_path_survives_a_loop() -> None:
    tree = {"a": msg("a", "b", ["b"]), "b": msg("b", "a", ["a"])}
    assert ids(chat_tree.path_to(tree, "a")) == ["b", "a"]


def test_leaf_siblings_descendants() -> None:
    tree = branched()
    assert chat_tree.leaf_of(tree, "u1") == "a3"
    assert chat_tree.leaf_of(tree, "a1") == "a1"
    assert chat_tree.siblings(tree, "a1") == ["a1", "a2"]
    assert chat_tree.siblings(tree, "u1") == ["u1", "u1b"]
    assert chat_tree.descendants(tree, "a2") == {"u2", "a3"}
    assert chat_tree.descendants(tree, "a3") == set()


def test_history_from_a_linear_list() -> None:
    history = chat_tree.history_from_list(
        [
            {"role": "user", "content": "q"},
            {"id": "x", "role": "assistant", "content": "a", "model": "m"},
            {"id": "x", "role": "user", "content": "duplicate id gets a new one"},
        ]
    )
    messages = history["messages"]
    order = list(messages)
    assert len(order) == 3 and order[1] == "x" and order[2] != "x"
    assert messages[order[0]]["parentId"] is None
    assert messages[order[0]]["childrenIds"] == ["x"]
    assert messages["x"]["parentId"] == order[0] and messages["x"]["model"] == "m"
    assert messages[order[2]]["parentId"] == "x"
    assert history["currentId"] == order[2]


def test_history_from_list_keeps_known_parents() -> None:
    history = chat_tree.history_from_list(
        [
            {"id": "u", "role": "user"},
            {"id": "a1", "parentId": "u", "role": "assistant"},
            {"id": "a2", "parentId": "u", "role": "assistant"},
        ]
    )
    assert history["messages"]["u"]["childrenIds"] == ["a1", "a2"]


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"a": "not a message"},
        {"a": {"parentId": 3}},
        {"a": {"childrenIds": "b"}},
        {"a": {"childrenIds": [1]}},
        {"": {}},
    ],
)
def test_check_messages_rejects_bad_shapes(raw: Any) -> None:
    with pytest.raises(chat_tree.TreeError):
        chat_tree.check_messages(raw)


def test_check_messages_uses_the_key_as_id() -> None:
    assert chat_tree.check_messages({"k": {"id": "other"}})["k"]["id"] == "k"
    assert chat_tree.check_messages(None) == {}


def test_repair_leaves_a_good_tree_alone() -> None:
    tree = branched()
    before = copy.deepcopy(tree)
    assert chat_tree.repair(tree) == before


def test_repair_makes_parents_and_children_agree() -> None:
    tree = {
        "r": msg("r", None, ["gone", "b", "b", "x"]),  # unknown, duplicate, foreign child
        "a": msg("a", "r", []),  # missing from r's children
        "b": msg("b", "r", []),
        "x": msg("x", "missing", []),  # parent not in tree -> root
        "s": {"id": "s", "parentId": "s"},  # own parent -> root; no childrenIds key
    }
    chat_tree.repair(tree)
    assert tree["r"]["childrenIds"] == ["b", "a"]
    assert tree["x"]["parentId"] is None
    assert tree["s"]["parentId"] is None and tree["s"]["childrenIds"] == []


def test_repair_breaks_loops() -> None:
    tree = {"a": msg("a", "c", []), "b": msg("b", "a", []), "c": msg("c", "b", [])}
    chat_tree.repair(tree)
    roots = [m for m in tree.values() if m["parentId"] is None]
    assert len(roots) == 1
    for mid in tree:
        assert chat_tree.path_to(tree, mid)[0]["parentId"] is None


def test_pick_current() -> None:
    tree = branched()
    assert chat_tree.pick_current(tree, "a1") == "a1"
    # Unknown: the newest message (u1b, a leaf) is shown.
    assert chat_tree.pick_current(tree, "nope") == "u1b"
    assert chat_tree.pick_current({}, "nope") is None


def test_split_and_assemble_round_trip() -> None:
    tree = branched()
    document = {
        "id": "",
        "title": "T",
        "models": ["m"],
        "history": {"messages": copy.deepcopy(tree), "currentId": "a3", "extra": 1},
        "messages": [{"stale": True}],
        "timestamp": 1730000000000,
    }
    rest, messages, current, has_tree = chat_tree.split_document(document)
    assert has_tree and current == "a3" and messages == tree
    assert rest == {
        "id": "",
        "title": "T",
        "models": ["m"],
        "history": {"extra": 1},
        "timestamp": 1730000000000,
    }
    rebuilt = chat_tree.assemble(rest, messages, current)
    assert rebuilt["history"] == {"extra": 1, "messages": tree, "currentId": "a3"}
    assert ids(rebuilt["messages"]) == ["u1", "a2", "u2", "a3"]


def test_split_without_a_tree_and_with_a_list() -> None:
    assert chat_tree.split_document({"title": "x"}) == ({"title": "x"}, {}, None, False)
    rest, messages, current, has_tree = chat_tree.split_document(
        {"messages": [{"role": "user", "content": "q"}]}
    )
    assert has_tree and rest == {} and current in messages
    bad_documents: list[dict[str, Any]] = [
        {"history": []},
        {"messages": {}},
        {"history": {"messages": []}},
    ]
    for bad in bad_documents:
        with pytest.raises(chat_tree.TreeError):
            chat_tree.split_document(bad)


def test_tag_id() -> None:
    assert chat_tree.tag_id("Work Stuff") == "work_stuff"


def test_search_parsing() -> None:
    terms = chat_search.parse(
        "tag:Work folder:Projects pinned:true archived:FALSE shared:yes tag:none hello  -x"
    )
    assert terms.tags == ["work"] and terms.untagged
    assert terms.folders == ["Projects"]
    assert terms.pinned is True and terms.archived is False and terms.shared is None
    assert terms.words == ["shared:yes", "hello", "-x"]


def test_fts_expression_quotes_everything() -> None:
    assert chat_search.fts_expression(['say "hi"', "a*b", "-x"]) == '"say ""hi"""* "a*b"* "-x"*'
    assert chat_search.fts_expression(["***", "-", '"']) is None
    assert chat_search.fts_expression([]) is None
    assert chat_search.folder_key("My_Folder ") == "my folder"


@pytest.mark.parametrize(
    "message",
    [
        msg("m", "p", ["c"], role="user", content="text", timestamp=1, files=[{"id": "f"}]),
        msg("m", None, [], role="assistant", content="", done=False, usage={"t": 1}),
        msg("m", None, [], content=[{"type": "text", "text": "part"}, {"type": "image_url"}]),
        msg("m", None, [], role=None),
        {"id": "m", "parentId": None, "childrenIds": []},
    ],
)
def test_message_rows_round_trip(message: dict[str, Any]) -> None:
    row = message_row("chat", message, 3)
    assert row.position == 3 and row.chat_id == "chat"
    assert message_dict(row) == message


def test_message_row_keeps_list_content_searchable() -> None:
    row = message_row("c", msg("m", None, [], content=[{"type": "text", "text": "part"}]), 0)
    assert row.content == "part"
