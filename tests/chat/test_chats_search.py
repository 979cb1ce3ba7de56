"""/api/v1/chats/search: FTS5 over titles and message text, filters, no leaks, odd input."""

from collections.abc import Iterator

import httpx
import pytest

from tests.chats_support import Caller, caller, exchange, first_admin
from tests.daemon_proc import DaemonProc


@pytest.fixture(scope="module")
def client(daemon: DaemonProc) -> Iterator[httpx.Client]:
    with daemon.tcp_client(timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> Caller:
    return first_admin(client)


@pytest.fixture
def alice(admin: Caller) -> Caller:
    return caller(admin, "Alice")


def search(user: Caller, text: str, **params: object) -> list[str]:
    found = user.ok("get", "/api/v1/chats/search", params={"text": text, **params})
    return [c["title"] for c in found]


def test_words_in_titles_and_message_text(alice: Caller) -> None:
    alice.new_chat(exchange("Sourdough starter", "How do I feed it?", "Flour and water daily."))
    alice.new_chat(exchange("Trip planning", "Best time for Kyoto?", "Autumn, for the maples."))
    alice.new_chat(exchange("Crème brûlée", "Torch or grill?", "A torch works best."))
    assert search(alice, "sourdough") == ["Sourdough starter"]
    assert search(alice, "KYOTO") == ["Trip planning"]  # case-insensitive, message text
    assert search(alice, "maple") == ["Trip planning"]  # prefixes match
    assert search(alice, "creme") == ["Crème brûlée"]  # diacritics folded
    assert search(alice, "flour water") == ["Sourdough starter"]  # every word must match
    assert search(alice, "flour kyoto") == []
    assert set(search(alice, "")) == {"Sourdough starter", "Trip planning", "Crème brûlée"}


def test_filters(alice: Caller) -> None:
    folder = alice.ok("post", "/api/v1/folders/", json={"name": "Work Projects"})
    tagged = alice.new_chat(exchange("Tagged", "report", "done"))
    pinned = alice.new_chat(exchange("Pinned", "report", "done"))
    archived = alice.new_chat(exchange("Archived", "report", "done"))
    shared = alice.new_chat(exchange("Shared", "report", "done"))
    alice.new_chat(exchange("Filed", "report", "done"), folder_id=folder["id"])
    alice.ok("post", f"/api/v1/chats/{tagged['id']}/tags", json={"name": "Q3 Review"})
    alice.ok("post", f"/api/v1/chats/{pinned['id']}/pin")
    alice.ok("post", f"/api/v1/chats/{archived['id']}/archive")
    alice.ok("post", f"/api/v1/chats/{shared['id']}/share")
    everything = {"Tagged", "Pinned", "Shared", "Filed"}
    assert set(search(alice, "report")) == everything  # archived ones only when asked
    assert search(alice, "tag:q3_review") == ["Tagged"]
    assert search(alice, "tag:Q3_Review report") == ["Tagged"]
    assert set(search(alice, "tag:none")) == everything - {"Tagged"}
    assert search(alice, "tag:missing") == []
    assert search(alice, "pinned:true") == ["Pinned"]
    assert "Pinned" not in search(alice, "pinned:false report")
    assert search(alice, "archived:true") == ["Archived"]
    assert search(alice, "archived:true report") == ["Archived"]
    assert search(alice, "shared:true") == ["Shared"]
    assert "Shared" not in search(alice, "shared:false")
    assert search(alice, "folder:work_projects") == ["Filed"]
    assert search(alice, "folder:WORK_PROJECTS report") == ["Filed"]
    assert search(alice, "folder:nowhere") == []
    assert search(alice, "pinned:maybe") == []  # not a filter value: searched as a word


def test_search_is_kept_in_step_with_every_write(alice: Caller) -> None:
    chat = alice.new_chat(exchange("Gardening", "tomatoes?", "Water deeply."))
    path = f"/api/v1/chats/{chat['id']}"
    alice.ok("post", path, json={"chat": {"title": "Orchard"}})
    assert search(alice, "gardening") == [] and search(alice, "orchard") == ["Orchard"]
    alice.ok("post", f"{path}/messages/a1", json={"content": "Mulch generously."})
    assert search(alice, "deeply") == [] and search(alice, "mulch") == ["Orchard"]
    alice.ok(
        "post",
        path,
        json={
            "chat": {
                "history": {
                    "messages": {
                        "a2": {
                            "id": "a2",
                            "parentId": "u1",
                            "childrenIds": [],
                            "role": "assistant",
                            "content": "Compost helps.",
                        }
                    },
                    "currentId": "a2",
                }
            }
        },
    )
    assert search(alice, "compost") == ["Orchard"]
    alice.ok("post", path, json={"chat": {}, "deleted_message_ids": ["a2"]})
    assert search(alice, "compost") == []
    exported = alice.ok("get", "/api/v1/chats/all")
    alice.ok("post", "/api/v1/chats/import", json=exported)
    assert search(alice, "mulch") == ["Orchard", "Orchard"]
    alice.ok("delete", path)
    assert search(alice, "mulch") == ["Orchard"]
    alice.ok("delete", "/api/v1/chats/")
    assert search(alice, "mulch") == []


def test_no_leaks_between_users(alice: Caller, admin: Caller) -> None:
    bob = caller(admin, "Bob")
    alice.new_chat(exchange("Alice secret", "zanzibar plan", "ok"))
    bob.new_chat(exchange("Bob secret", "zanzibar plan", "ok"))
    assert search(alice, "zanzibar") == ["Alice secret"]
    assert search(bob, "zanzibar") == ["Bob secret"]
    assert search(bob, "alice") == []
    assert search(admin, "zanzibar") == []


def test_pages(alice: Caller) -> None:
    items = [
        {"chat": exchange(f"walrus {i}", "q", "a"), "updated_at": 1_700_000_000 + i}
        for i in range(61)
    ]
    alice.ok("post", "/api/v1/chats/import", json={"chats": items})
    assert len(search(alice, "walrus")) == 60
    assert search(alice, "walrus", page=2) == ["walrus 0"]
    assert search(alice, "walrus", page=3) == []


SPECIAL = [
    '"',
    '"unbalanced',
    "'",
    "*",
    "**",
    "-",
    "-otter",
    "a - b",
    "AND",
    "OR NOT",
    "NEAR(a b)",
    "^start",
    "col:value",
    "tag:",
    "title:x",
    "(",
    ")",
    "{x}",
    "a+b",
    "🐎",
    "\\",
    "%",
    "_",
    "x" * 900,
]


def test_special_characters_never_fail(alice: Caller) -> None:
    alice.new_chat(exchange("Harmless", "otters", "x"))
    for text in SPECIAL:
        r = alice.get("/api/v1/chats/search", params={"text": text})
        assert r.status_code == 200, (text, r.text)
        assert isinstance(r.json(), list)
    assert search(alice, "-otter") == ["Harmless"]


def test_quoted_words_still_match(alice: Caller) -> None:
    alice.new_chat(exchange("Quotes", 'He said "hello world" twice', "x"))
    assert search(alice, '"hello') == ["Quotes"]
    assert search(alice, 'world"') == ["Quotes"]
    assert search(alice, "-hello") == ["Quotes"]  # a dash is not NOT
    assert search(alice, "hel*") == ["Quotes"]
