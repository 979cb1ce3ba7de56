"""/api/v1/folders and chats in folders, against a real daemon."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.chats_support import Caller, caller, exchange, first_admin
from tests.daemon_proc import DaemonProc

FOLDER_KEYS = {"id", "parent_id", "user_id", "name", "meta", "data", "is_expanded"}


@pytest.fixture(scope="module")
def admin(daemon: DaemonProc) -> Iterator[Caller]:
    with daemon.unix_client(timeout=10) as client:
        yield first_admin(client)


@pytest.fixture
def user(admin: Caller) -> Caller:
    return caller(admin, "Folders")


def folder(user: Caller, name: str, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = user.ok("post", "/api/v1/folders/", json={"name": name, **extra})
    return result


def test_create_get_list_update(user: Caller) -> None:
    made = folder(user, "Work", data={"system_prompt": "be terse"}, meta={"icon": "x"})
    assert FOLDER_KEYS | {"created_at", "updated_at"} <= set(made)
    assert made["user_id"] == user.id and made["parent_id"] is None
    assert made["is_expanded"] is False and made["data"] == {"system_prompt": "be terse"}
    # 0.12: a folder read alone also carries its (webui: no) grants and the caller's write access.
    assert user.ok("get", f"/api/v1/folders/{made['id']}") == {
        **made,
        "access_grants": [],
        "write_access": True,
    }
    listed = user.ok("get", "/api/v1/folders/")
    assert [(f["id"], f["unread_count"]) for f in listed] == [(made["id"], 0)]
    twin = user.post("/api/v1/folders/", json={"name": "work"})
    assert twin.status_code == 400 and "already exists" in twin.json()["detail"]
    path = f"/api/v1/folders/{made['id']}"
    renamed = user.ok("post", f"{path}/update", json={"name": "Job", "data": {"files": []}})
    assert renamed["name"] == "Job"
    assert renamed["data"] == {"system_prompt": "be terse", "files": []}  # merged
    assert renamed["meta"] == {"icon": "x"}
    assert user.ok("post", f"{path}/update/expanded", json={"is_expanded": True})["is_expanded"]
    folder(user, "Other")
    clash = user.post(f"{path}/update", json={"name": "other"})
    assert clash.status_code == 400 and clash.json()["detail"]
    assert user.get("/api/v1/folders/nope").status_code == 404


def test_nesting_and_moving(user: Caller) -> None:
    top = folder(user, "Top")
    child = folder(user, "Child", parent_id=top["id"])
    grandchild = folder(user, "Grandchild", parent_id=child["id"])
    assert child["parent_id"] == top["id"]
    # The same name is fine under another parent.
    assert folder(user, "Child")["parent_id"] is None
    loop = user.post(
        f"/api/v1/folders/{top['id']}/update/parent", json={"parent_id": grandchild["id"]}
    )
    assert loop.status_code == 400 and loop.json()["detail"]
    self_parent = user.post(
        f"/api/v1/folders/{top['id']}/update/parent", json={"parent_id": top["id"]}
    )
    assert self_parent.status_code == 400
    clash = user.post(f"/api/v1/folders/{child['id']}/update/parent", json={"parent_id": None})
    assert clash.status_code == 400  # a root "Child" exists already
    moved = user.ok(
        "post", f"/api/v1/folders/{grandchild['id']}/update/parent", json={"parent_id": None}
    )
    assert moved["parent_id"] is None
    bad_parent = user.post("/api/v1/folders/", json={"name": "x", "parent_id": "nope"})
    assert bad_parent.status_code == 404


def test_chats_in_folders(user: Caller) -> None:
    top = folder(user, "Projects")
    sub = folder(user, "Sub", parent_id=top["id"])
    a = user.new_chat(exchange("in top", "q", "a"), folder_id=top["id"])
    assert a["folder_id"] == top["id"]
    b = user.new_chat(exchange("in sub", "q", "a"))
    pinned = user.ok("post", f"/api/v1/chats/{b['id']}/pin")
    assert pinned["pinned"] is True
    moved = user.ok("post", f"/api/v1/chats/{b['id']}/folder", json={"folder_id": sub["id"]})
    assert moved["folder_id"] == sub["id"] and moved["pinned"] is False  # moving unpins
    in_top = user.ok("get", f"/api/v1/chats/folder/{top['id']}")
    assert {c["id"] for c in in_top} == {a["id"], b["id"]}
    assert "history" in in_top[0]["chat"]
    assert [c["id"] for c in user.ok("get", f"/api/v1/chats/folder/{sub['id']}")] == [b["id"]]
    # Chats in folders stay out of the plain list.
    assert user.ok("get", "/api/v1/chats/") == []
    out = user.ok("post", f"/api/v1/chats/{a['id']}/folder", json={"folder_id": None})
    assert out["folder_id"] is None
    assert [c["id"] for c in user.ok("get", "/api/v1/chats/")] == [a["id"]]
    assert user.ok("get", "/api/v1/chats/folder/nope") == []


def test_delete_keeping_or_deleting_the_chats(user: Caller) -> None:
    keep = folder(user, "Keep")
    keep_sub = folder(user, "Keep sub", parent_id=keep["id"])
    kept = user.new_chat({"title": "kept"}, folder_id=keep_sub["id"])
    assert user.ok("delete", f"/api/v1/folders/{keep['id']}?delete_contents=false") is True
    assert user.get(f"/api/v1/folders/{keep_sub['id']}").status_code == 404
    assert user.ok("get", f"/api/v1/chats/{kept['id']}")["folder_id"] is None

    drop = folder(user, "Drop")
    drop_sub = folder(user, "Drop sub", parent_id=drop["id"])
    gone = user.new_chat({"title": "gone"}, folder_id=drop_sub["id"])
    user.ok("post", f"/api/v1/chats/{gone['id']}/tags", json={"name": "only here"})
    # Open WebUI's default: the folder's chats are deleted with it.
    assert user.ok("delete", f"/api/v1/folders/{drop['id']}") is True
    assert user.get(f"/api/v1/chats/{gone['id']}").status_code == 401
    assert user.ok("get", "/api/v1/chats/all/tags") == []
    assert [c["id"] for c in user.ok("get", "/api/v1/chats/")] == [kept["id"]]
    assert user.ok("get", "/api/v1/folders/") == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/folders/", {}),
        ("post", "/api/v1/folders/", {"name": ""}),
        ("post", "/api/v1/folders/", {"name": "x", "data": "nope"}),
        ("post", "/api/v1/folders/", {"name": ["x"]}),
    ],
)
def test_bad_input(user: Caller, method: str, path: str, body: Any) -> None:
    r = getattr(user, method)(path, json=body)
    assert r.status_code == 422 and "detail" in r.json()


def test_blank_names_and_bad_updates(user: Caller) -> None:
    blank = user.post("/api/v1/folders/", json={"name": "   "})
    assert blank.status_code == 400 and blank.json()["detail"]
    made = folder(user, "Fine")
    for route, body in (("update/expanded", {}), ("update/parent", {"parent_id": 3})):
        r = user.post(f"/api/v1/folders/{made['id']}/{route}", json=body)
        assert r.status_code == 422 and "detail" in r.json()
