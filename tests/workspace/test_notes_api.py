"""/api/v1/notes through a real daemon: the 0.12 routes and shapes, isolation between users
and through group grants, sharing rules, the size limit (413, nothing stored), the
`features.notes` permission, and a deleted note taking its grants and pins with it."""

import sqlite3
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc, start_daemon
from tests.daemons import client_fixture, daemon_fixture, sign_up
from tests.support import assert_error, bearer, principals, signup, tcp

NOTES = "/api/v1/notes"
LIMIT = 4000  # WEBUI_NOTE_MAX_BYTES of this module's daemon
SECRET = "The vault combination is 31-41-59."
REFUSED = "Something went wrong :/"
NOT_FOUND = "We could not find what you're looking for :/"
SHARING_REFUSED = "You do not have permission to share with the requested audience"


daemon = daemon_fixture(
    env=lambda: {"DEFAULT_USER_ROLE": "user", "WEBUI_NOTE_MAX_BYTES": str(LIMIT)}, tmp="notes"
)


client = client_fixture()


@pytest.fixture(scope="module")
def who(client: httpx.Client) -> dict[str, Any]:
    """An admin, Alice and Bob (plain users), and the group `crew` with Bob in it."""
    admin, alice, bob = sign_up(client, "alice", "bob").values()
    crew = client.post(
        "/api/v1/groups/create",
        headers=bearer(admin["token"]),
        json={"name": "crew", "description": ""},
    ).json()
    r = client.post(
        f"/api/v1/groups/id/{crew['id']}/users/add",
        headers=bearer(admin["token"]),
        json={"user_ids": [bob["id"]]},
    )
    assert r.status_code == 200, r.text
    return {
        "admin": bearer(admin["token"]),
        "alice": bearer(alice["token"]),
        "alice_id": alice["id"],
        "bob": bearer(bob["token"]),
        "bob_id": bob["id"],
        "crew": crew["id"],
    }


def md(text: str) -> dict[str, Any]:
    return {"content": {"md": text, "html": f"<p>{text}</p>", "json": None}}


def new_note(client: httpx.Client, headers: dict[str, str], title: str, **form: Any) -> Any:
    r = client.post(f"{NOTES}/create", headers=headers, json={"title": title, **form})
    assert r.status_code == 200, r.text
    return r.json()


def grant(kind: str, principal: str, permission: str = "read") -> dict[str, str]:
    return {"principal_type": kind, "principal_id": principal, "permission": permission}


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def set_sharing(client: httpx.Client, who: dict[str, Any], **sharing: bool) -> None:
    tree = client.get("/api/v1/users/default/permissions", headers=who["admin"]).json()
    tree["sharing"].update(sharing)
    r = client.post("/api/v1/users/default/permissions", headers=who["admin"], json=tree)
    assert r.status_code == 200, r.text


def test_create_get_list_update_delete(client: httpx.Client, who: dict[str, Any]) -> None:
    alice = who["alice"]
    note = new_note(client, alice, "Groceries", data=md("- milk\n- eggs"), meta={"x": 1})
    assert note["user_id"] == who["alice_id"] and note["title"] == "Groceries"
    assert note["data"]["content"]["md"] == "- milk\n- eggs"
    assert note["access_grants"] == [] and note["is_pinned"] is False
    assert note["created_at"] == note["updated_at"] > 10**18  # nanoseconds, as 0.12

    got = client.get(f"{NOTES}/{note['id']}", headers=alice).json()
    assert got["write_access"] is True and got["data"] == note["data"] and got["meta"] == {"x": 1}

    listed = client.get(f"{NOTES}/", headers=alice).json()
    item = next(i for i in listed if i["id"] == note["id"])
    assert item["user"]["name"] == "Alice" and item["data"] == {"content": {"md": "- milk\n- eggs"}}

    # data and meta merge key by key; the title is replaced; a change moves updated_at.
    r = client.post(
        f"{NOTES}/{note['id']}/update",
        headers=alice,
        json={"title": "Shopping", "data": {"content": {"md": "- bread"}}, "meta": {"y": 2}},
    )
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["title"] == "Shopping" and updated["data"]["content"] == {"md": "- bread"}
    assert updated["meta"] == {"x": 1, "y": 2} and updated["updated_at"] > note["updated_at"]
    same = client.post(f"{NOTES}/{note['id']}/update", headers=alice, json={"title": "Shopping"})
    assert same.json()["updated_at"] == updated["updated_at"]  # nothing changed

    r = client.delete(f"{NOTES}/{note['id']}/delete", headers=alice)
    assert r.status_code == 200 and r.json() is True
    assert_error(client.get(f"{NOTES}/{note['id']}", headers=alice), 404)
    assert note["id"] not in ids(client.get(f"{NOTES}/", headers=alice).json())


def test_data_is_sanitized_as_0_12_does(client: httpx.Client, who: dict[str, Any]) -> None:
    plain = new_note(client, who["alice"], "Plain", data="just text")  # type: ignore[arg-type]
    assert plain["data"] == {"content": {"md": "just text"}}
    structured = new_note(client, who["alice"], "Json", data={"content": {"md": {"a": 1}}})
    assert structured["data"]["content"]["md"] == '```json\n{\n  "a": 1\n}\n```'
    empty = new_note(client, who["alice"], "Empty")
    assert empty["data"] == {}
    assert_error(client.post(f"{NOTES}/create", headers=who["alice"], json={}), 422)


def test_another_users_note_is_never_shown(client: httpx.Client, who: dict[str, Any]) -> None:
    note = new_note(client, who["alice"], "Private", data=md(SECRET))
    nid, bob = note["id"], who["bob"]
    for method, path, body in (
        ("GET", f"{NOTES}/{nid}", None),
        ("POST", f"{NOTES}/{nid}/update", {"data": md("pwned")}),
        ("POST", f"{NOTES}/{nid}/access/update", {"access_grants": [grant("user", "*")]}),
        ("POST", f"{NOTES}/{nid}/pin", None),
        ("DELETE", f"{NOTES}/{nid}/delete", None),
    ):
        r = client.request(method, path, headers=bob, json=body)
        assert assert_error(r, 403) == REFUSED, (method, path)
        assert "vault" not in r.text
    for path in (f"{NOTES}/", f"{NOTES}/pinned", f"{NOTES}/search?query=vault&permission=read"):
        assert "vault" not in client.get(path, headers=bob).text, path
    assert client.get(f"{NOTES}/search?query=vault", headers=bob).json() == {
        "items": [],
        "total": 0,
    }
    # Unknown ids are 404 for everyone; Alice's note is unchanged by Bob's attempts.
    assert assert_error(client.get(f"{NOTES}/nope", headers=bob), 404) == NOT_FOUND
    kept = client.get(f"{NOTES}/{nid}", headers=who["alice"]).json()
    assert kept["data"]["content"]["md"] == SECRET and kept["access_grants"] == []
    # Admins read everyone's notes (0.12), and find them in a search.
    assert client.get(f"{NOTES}/{nid}", headers=who["admin"]).json()["title"] == "Private"
    found = client.get(f"{NOTES}/search?query=vault", headers=who["admin"]).json()
    assert nid in ids(found["items"])


def test_group_grants_give_read_then_write_then_nothing(
    client: httpx.Client, who: dict[str, Any]
) -> None:
    alice, bob, crew = who["alice"], who["bob"], who["crew"]
    set_sharing(client, who, notes=True)
    try:
        note = new_note(
            client,
            alice,
            "Crew plan",
            data=md("Meet at dawn."),
            access_grants=[grant("group", crew)],
        )
        nid = note["id"]
        assert principals(note["access_grants"]) == [grant("group", crew)]
        shown = client.get(f"{NOTES}/{nid}", headers=bob).json()
        assert shown["data"]["content"]["md"] == "Meet at dawn." and shown["write_access"] is False
        assert nid in ids(client.get(f"{NOTES}/", headers=bob).json())
        # /search lists what the caller may write unless asked for readable notes (0.12).
        assert nid not in ids(client.get(f"{NOTES}/search", headers=bob).json()["items"])
        readable = client.get(f"{NOTES}/search?permission=read", headers=bob).json()
        assert nid in ids(readable["items"])
        shared = client.get(f"{NOTES}/search?permission=read&view_option=shared", headers=bob)
        assert nid in ids(shared.json()["items"])
        mine = client.get(f"{NOTES}/search?permission=read&view_option=created", headers=bob)
        assert nid not in ids(mine.json()["items"])
        r = client.post(f"{NOTES}/{nid}/update", headers=bob, json={"data": md("Dusk.")})
        assert assert_error(r, 403) == REFUSED

        r = client.post(
            f"{NOTES}/{nid}/access/update",
            headers=alice,
            json={"access_grants": [grant("group", crew, "write")]},
        )
        assert r.status_code == 200
        assert principals(r.json()["access_grants"]) == [grant("group", crew, "write")]
        r = client.post(f"{NOTES}/{nid}/update", headers=bob, json={"data": md("Dusk.")})
        assert r.status_code == 200, r.text
        assert client.get(f"{NOTES}/{nid}", headers=bob).json()["write_access"] is True
        assert nid in ids(client.get(f"{NOTES}/search", headers=bob).json()["items"])

        r = client.post(f"{NOTES}/{nid}/access/update", headers=alice, json={"access_grants": []})
        assert r.status_code == 200 and r.json()["access_grants"] == []
        assert assert_error(client.get(f"{NOTES}/{nid}", headers=bob), 403) == REFUSED
        assert nid not in ids(client.get(f"{NOTES}/", headers=bob).json())
    finally:
        set_sharing(client, who, notes=False)


def test_leaving_the_group_ends_access(client: httpx.Client, who: dict[str, Any]) -> None:
    crew = who["crew"]
    note = new_note(
        client, who["admin"], "Ops", data=md("Rotate keys."), access_grants=[grant("group", crew)]
    )
    assert client.get(f"{NOTES}/{note['id']}", headers=who["bob"]).status_code == 200
    r = client.post(
        f"/api/v1/groups/id/{crew}/users/remove",
        headers=who["admin"],
        json={"user_ids": [who["bob_id"]]},
    )
    assert r.status_code == 200, r.text
    try:
        assert_error(client.get(f"{NOTES}/{note['id']}", headers=who["bob"]), 403)
    finally:
        client.post(
            f"/api/v1/groups/id/{crew}/users/add",
            headers=who["admin"],
            json={"user_ids": [who["bob_id"]]},
        )


def test_sharing_needs_the_sharing_permission(client: httpx.Client, who: dict[str, Any]) -> None:
    alice = who["alice"]
    # Without sharing.notes, a new note's grants are dropped (0.12) ...
    note = new_note(client, alice, "Mine", access_grants=[grant("user", who["bob_id"])])
    assert note["access_grants"] == []
    assert_error(client.get(f"{NOTES}/{note['id']}", headers=who["bob"]), 403)
    # ... and an access update asking for them is refused whole, changing nothing.
    r = client.post(
        f"{NOTES}/{note['id']}/access/update",
        headers=alice,
        json={"access_grants": [grant("user", who["bob_id"])]},
    )
    assert assert_error(r, 403) == SHARING_REFUSED
    set_sharing(client, who, notes=True)
    try:
        r = client.post(
            f"{NOTES}/{note['id']}/access/update",
            headers=alice,
            json={"access_grants": [grant("user", who["bob_id"]), grant("user", "*")]},
        )
        assert assert_error(r, 403) == SHARING_REFUSED  # public needs sharing.public_notes
        assert client.get(f"{NOTES}/{note['id']}", headers=alice).json()["access_grants"] == []
    finally:
        set_sharing(client, who, notes=False)
    # Admins share as they like, also in 0.6's access_control form (null: public read).
    public = new_note(client, who["admin"], "Public", data=md("Hello all"), access_control=None)
    assert (
        principals(public["access_grants"]) == [grant("user", "*")]
        and public["access_control"] is None
    )
    assert client.get(f"{NOTES}/{public['id']}", headers=alice).status_code == 200


def test_oversized_note_is_413_and_nothing_is_stored(
    client: httpx.Client, who: dict[str, Any]
) -> None:
    alice = who["alice"]
    before = ids(client.get(f"{NOTES}/", headers=alice).json())
    r = client.post(
        f"{NOTES}/create", headers=alice, json={"title": "Big", "data": md("x" * LIMIT)}
    )
    detail = assert_error(r, 413)
    assert str(LIMIT) in detail and "WEBUI_NOTE_MAX_BYTES" in detail
    assert ids(client.get(f"{NOTES}/", headers=alice).json()) == before

    note = new_note(client, alice, "Small", data=md("small"))
    r = client.post(f"{NOTES}/{note['id']}/update", headers=alice, json={"data": md("y" * LIMIT)})
    assert str(LIMIT) in assert_error(r, 413)
    kept = client.get(f"{NOTES}/{note['id']}", headers=alice).json()
    assert kept["data"]["content"]["md"] == "small" and kept["updated_at"] == note["updated_at"]


def test_pins_are_personal(client: httpx.Client, who: dict[str, Any]) -> None:
    alice = who["alice"]
    note = new_note(client, alice, "Pin me", data=md("pinned text"))
    r = client.post(f"{NOTES}/{note['id']}/pin", headers=alice)
    assert r.status_code == 200 and r.json()["is_pinned"] is True
    pinned = client.get(f"{NOTES}/pinned", headers=alice).json()
    assert ids(pinned) == [note["id"]] and pinned[0]["is_pinned"] is True
    assert client.get(f"{NOTES}/{note['id']}", headers=alice).json()["is_pinned"] is True
    assert client.get(f"{NOTES}/pinned", headers=who["admin"]).json() == []
    r = client.post(f"{NOTES}/{note['id']}/pin", headers=alice)
    assert r.json()["is_pinned"] is False
    assert client.get(f"{NOTES}/pinned", headers=alice).json() == []


def test_search_words_order_and_pages(client: httpx.Client, who: dict[str, Any]) -> None:
    bob = who["bob"]
    made = [new_note(client, bob, f"Log {i:02d}", data=md(f"entry {i} to-do")) for i in range(3)]
    hit = client.get(f"{NOTES}/search", headers=bob, params={"query": "todo entry"}).json()
    assert hit["total"] == 3 and set(ids(hit["items"])) == set(ids(made))
    assert hit["items"][0]["user"]["name"] == "Bob"
    assert client.get(f"{NOTES}/search?query=nowhere", headers=bob).json()["total"] == 0
    by_name = client.get(
        f"{NOTES}/search", headers=bob, params={"order_by": "name", "direction": "asc"}
    ).json()
    titles = [i["title"] for i in by_name["items"] if i["title"].startswith("Log")]
    assert titles == ["Log 00", "Log 01", "Log 02"]
    assert client.get(f"{NOTES}/search?page=2", headers=bob).json()["items"] == []
    long = new_note(client, bob, "Long", data=md("z" * 1500))
    listed = next(i for i in client.get(f"{NOTES}/", headers=bob).json() if i["id"] == long["id"])
    assert listed["data"]["content"]["md"] == "z" * 1000  # lists carry a preview only


def test_the_notes_permission_and_the_switch(
    client: httpx.Client, who: dict[str, Any], daemon: DaemonProc
) -> None:
    tree = client.get("/api/v1/users/default/permissions", headers=who["admin"]).json()
    tree["features"]["notes"] = False
    client.post("/api/v1/users/default/permissions", headers=who["admin"], json=tree)
    try:
        assert (
            assert_error(client.get(f"{NOTES}/", headers=who["alice"]), 401) == "401 Unauthorized"
        )
        r = client.post(f"{NOTES}/create", headers=who["alice"], json={"title": "x"})
        assert_error(r, 401)
        assert client.get(f"{NOTES}/", headers=who["admin"]).status_code == 200  # admins always
    finally:
        tree["features"]["notes"] = True
        client.post("/api/v1/users/default/permissions", headers=who["admin"], json=tree)
    assert client.get(f"{NOTES}/", headers=who["alice"]).status_code == 200


def test_a_deleted_note_takes_its_grants_and_pins(
    client: httpx.Client, who: dict[str, Any], daemon: DaemonProc
) -> None:
    note = new_note(
        client, who["admin"], "Gone soon", access_grants=[grant("group", who["crew"], "write")]
    )
    client.post(f"{NOTES}/{note['id']}/pin", headers=who["bob"]).raise_for_status()
    r = client.delete(f"{NOTES}/{note['id']}/delete", headers=who["bob"])  # a writer may delete
    assert r.status_code == 200 and r.json() is True
    db = sqlite3.connect(f"file:{daemon.data_dir / 'webui.db'}?mode=ro", uri=True)
    try:
        grants = db.execute(
            "SELECT COUNT(*) FROM access_grant WHERE resource_id = ?", (note["id"],)
        ).fetchone()
        pins = db.execute(
            "SELECT COUNT(*) FROM pinned_note WHERE note_id = ?", (note["id"],)
        ).fetchone()
    finally:
        db.close()
    assert grants == (0,) and pins == (0,)


def test_enable_notes_false_switches_notes_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    proc = start_daemon(tmp_path_factory.mktemp("notes-off"), env={"ENABLE_NOTES": "false"})
    try:
        with tcp(proc) as c:
            admin = bearer(signup(c, "Admin", "admin@example.com")["token"])
            for method, path in (("GET", f"{NOTES}/"), ("POST", f"{NOTES}/create")):
                r = c.request(method, path, headers=admin, json={"title": "x"})
                assert assert_error(r, 403) == "Notes is disabled"
    finally:
        proc.stop()
