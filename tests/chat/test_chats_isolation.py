"""One user never sees or changes another user's chats or folders, through any route."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.chats_support import Caller, caller, exchange, first_admin
from tests.daemon_proc import DaemonProc


@pytest.fixture(scope="module")
def client(daemon: DaemonProc) -> Iterator[httpx.Client]:
    with daemon.unix_client(timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> Caller:
    return first_admin(client)


@pytest.fixture(scope="module")
def owner(admin: Caller) -> Caller:
    return caller(admin, "Owner")


@pytest.fixture(scope="module")
def other(admin: Caller) -> Caller:
    return caller(admin, "Other")


@pytest.fixture(scope="module")
def owned(owner: Caller) -> dict[str, Any]:
    """The owner's chat: in a folder, tagged, pinned and shared."""
    folder = owner.ok("post", "/api/v1/folders/", json={"name": "Private"})
    chat = owner.new_chat(exchange("Private matters", "secret kumquat", "ok"))
    cid = chat["id"]
    owner.ok("post", f"/api/v1/chats/{cid}/tags", json={"name": "hush"})
    owner.ok("post", f"/api/v1/chats/{cid}/folder", json={"folder_id": folder["id"]})
    owner.ok("post", f"/api/v1/chats/{cid}/pin")
    shared = owner.ok("post", f"/api/v1/chats/{cid}/share")
    return {"chat": shared, "folder": folder}


def chat_routes(cid: str) -> list[tuple[str, str, Any, int]]:
    base = f"/api/v1/chats/{cid}"
    return [
        ("get", base, None, 401),
        ("post", base, {"chat": {"title": "hijacked"}}, 401),
        ("get", f"{base}/pinned", None, 401),
        ("post", f"{base}/pin", None, 401),
        ("post", f"{base}/archive", None, 401),
        ("post", f"{base}/clone", {}, 401),
        ("post", f"{base}/share", None, 401),
        ("delete", f"{base}/share", None, 401),
        ("post", f"{base}/folder", {"folder_id": None}, 401),
        ("get", f"{base}/tags", None, 401),
        ("post", f"{base}/tags", {"name": "mine"}, 401),
        ("delete", f"{base}/tags", {"name": "hush"}, 401),
        ("delete", f"{base}/tags/all", None, 401),
        ("post", f"{base}/messages/a1", {"content": "hijacked"}, 401),
        ("delete", base, None, 404),
    ]


def folder_routes(fid: str) -> list[tuple[str, str, Any, int]]:
    base = f"/api/v1/folders/{fid}"
    return [
        ("get", base, None, 404),
        ("post", f"{base}/update", {"name": "hijacked"}, 404),
        ("post", f"{base}/update/parent", {"parent_id": None}, 404),
        ("post", f"{base}/update/expanded", {"is_expanded": True}, 404),
        ("delete", base, None, 404),
        ("post", "/api/v1/folders/", {"name": "child", "parent_id": fid}, 404),
        ("post", "/api/v1/chats/new", {"chat": {}, "folder_id": fid}, 404),
    ]


@pytest.mark.parametrize("who", ["other", "admin"])
def test_every_route_refuses_someone_elses_chat_and_folder(
    who: str, owner: Caller, owned: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    intruder: Caller = request.getfixturevalue(who)
    cid, fid = owned["chat"]["id"], owned["folder"]["id"]
    before = owner.ok("get", f"/api/v1/chats/{cid}")
    for method, path, body, status in chat_routes(cid) + folder_routes(fid):
        r = getattr(intruder, method)(path, **({} if body is None else {"json": body}))
        assert r.status_code == status, (who, method, path, r.status_code, r.text)
        detail = r.json()["detail"]
        assert detail and "Private" not in detail and "kumquat" not in detail
    mine = intruder.new_chat({"title": "mine"})
    moved = intruder.post(f"/api/v1/chats/{mine['id']}/folder", json={"folder_id": fid})
    assert moved.status_code == 404
    assert intruder.ok("get", f"/api/v1/chats/folder/{fid}") == []
    assert owner.ok("get", f"/api/v1/chats/{cid}") == before
    assert owner.ok("get", f"/api/v1/folders/{fid}")["name"] == "Private"


@pytest.mark.parametrize("who", ["other", "admin"])
def test_lists_and_search_never_leak(
    who: str, owned: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    intruder: Caller = request.getfixturevalue(who)
    cid = owned["chat"]["id"]
    listings = [
        ("get", "/api/v1/chats/", {"include_pinned": True, "include_folders": True}),
        ("get", "/api/v1/chats/list", {"include_pinned": True, "include_folders": True}),
        ("get", "/api/v1/chats/pinned", {}),
        ("get", "/api/v1/chats/archived", {}),
        ("get", "/api/v1/chats/all", {}),
        ("get", "/api/v1/chats/all/archived", {}),
        ("get", "/api/v1/chats/search", {"text": "kumquat"}),
        ("get", "/api/v1/chats/search", {"text": "private"}),
        ("get", "/api/v1/chats/search", {"text": "tag:hush"}),
        ("get", "/api/v1/chats/search", {"text": "folder:private"}),
        ("get", "/api/v1/chats/search", {"text": "pinned:true"}),
        ("get", "/api/v1/chats/search", {"text": "shared:true"}),
        ("get", "/api/v1/folders/", {}),
    ]
    for method, path, params in listings:
        found = intruder.ok(method, path, params=params)
        assert cid not in str(found) and "kumquat" not in str(found), (path, params)
        assert owned["folder"]["id"] not in str(found)
    assert intruder.ok("post", "/api/v1/chats/tags", json={"name": "hush"}) == []
    assert "hush" not in str(intruder.ok("get", "/api/v1/chats/all/tags"))


def test_bulk_routes_touch_only_the_callers_chats(
    other: Caller, owner: Caller, owned: dict[str, Any]
) -> None:
    cid = owned["chat"]["id"]
    assert other.ok("post", "/api/v1/chats/archive/all") is True
    assert other.ok("post", "/api/v1/chats/unarchive/all") is True
    assert other.ok("delete", "/api/v1/chats/") is True
    chat = owner.ok("get", f"/api/v1/chats/{cid}")
    assert chat["archived"] is False and chat["pinned"] is True
    imported = other.ok(
        "post",
        "/api/v1/chats/import",
        json=[{"chat": {"title": "x"}, "folder_id": owned["folder"]["id"]}],
    )
    assert imported[0]["folder_id"] is None  # a folder that is not yours is dropped


def test_a_share_link_is_readable_by_whoever_holds_it(other: Caller, owned: dict[str, Any]) -> None:
    # As in Open WebUI, a share id is a capability: the snapshot, not the live chat.
    share_id = owned["chat"]["share_id"]
    snapshot = other.ok("get", f"/api/v1/chats/share/{share_id}")
    assert snapshot["id"] == share_id and snapshot["user_id"].startswith("shared-")
    assert other.get(f"/api/v1/chats/share/{owned['chat']['id']}").status_code == 401
