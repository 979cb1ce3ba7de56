"""/api/v1/prompts against a real daemon: create (permission, unique command, size limit),
read and change through owner, group and user grants, public sharing, versions, 0.6's command
routes, paging, and what a deleted owner leaves behind (nothing)."""

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import client_fixture, sign_up
from tests.support import add_user, assert_error, bearer

Users = dict[str, Any]
TAKEN = "Uh-oh! This command is already registered. Please choose another command string. ({})"


client = client_fixture(timeout=30)


@pytest.fixture(scope="module")
def users(client: httpx.Client) -> Users:
    """admin; alice and bob in "writers" (may make and share prompts); carol in "readers"
    (nothing extra); dave on his own."""
    out: Users = sign_up(client, "alice", "bob", "carol", "dave", email="{name}@x.io")
    admin = bearer(out["admin"]["token"])
    groups = {}
    for group, permissions, members in (
        (
            "writers",
            {"workspace": {"prompts": True}, "sharing": {"prompts": True}},
            ["alice", "bob"],
        ),
        ("readers", {}, ["carol"]),
    ):
        made = client.post(
            "/api/v1/groups/create",
            headers=admin,
            json={"name": group, "permissions": permissions},
        ).json()
        r = client.post(
            f"/api/v1/groups/id/{made['id']}/users/add",
            headers=admin,
            json={"user_ids": [out[m]["id"] for m in members]},
        )
        assert r.status_code == 200, r.text
        groups[group] = made["id"]
    out["groups"] = groups
    return out


def h(users: Users, name: str) -> dict[str, str]:
    return bearer(users[name]["token"])


def create(client: httpx.Client, users: Users, who: str, command: str, **body: Any) -> Any:
    form = {"command": command, "name": command.title(), "content": f"Do {command}.", **body}
    r = client.post("/api/v1/prompts/create", headers=h(users, who), json=form)
    assert r.status_code == 200, r.text
    return r.json()


def commands(client: httpx.Client, users: Users, who: str) -> list[str]:
    r = client.get("/api/v1/prompts/", headers=h(users, who))
    assert r.status_code == 200, r.text
    return sorted(p["command"] for p in r.json())


def test_create_and_read_back(client: httpx.Client, users: Users) -> None:
    made = create(client, users, "alice", "/summarize", tags=["text"], meta={"k": 1})
    assert made["command"] == "summarize"  # 0.12 keeps no slash; 0.6's form is accepted
    assert made["user_id"] == users["alice"]["id"]
    assert made["name"] == made["title"] == "/Summarize"
    assert made["tags"] == ["text"] and made["is_active"] is True
    assert made["access_grants"] == [] and made["access_control"] == {
        "read": {"group_ids": [], "user_ids": []},
        "write": {"group_ids": [], "user_ids": []},
    }
    got = client.get(f"/api/v1/prompts/id/{made['id']}", headers=h(users, "alice")).json()
    assert got["content"] == "Do /summarize."
    assert got["write_access"] is True and got["user"]["email"] == "alice@x.io"
    history = client.get(f"/api/v1/prompts/id/{made['id']}/history", headers=h(users, "alice"))
    assert [e["commit_message"] for e in history.json()] == ["Initial version"]
    assert history.json()[0]["id"] == made["version_id"]


def test_a_taken_command_is_refused_and_nothing_is_stored(
    client: httpx.Client, users: Users
) -> None:
    create(client, users, "alice", "translate")
    before = commands(client, users, "admin")
    for command in ("translate", "/translate"):
        r = client.post(
            "/api/v1/prompts/create",
            headers=h(users, "bob"),
            json={"command": command, "name": "Other", "content": "x"},
        )
        assert assert_error(r, 400) == TAKEN.format("/translate")
    assert commands(client, users, "admin") == before


def test_concurrent_creates_of_one_command_store_one(client: httpx.Client, users: Users) -> None:
    def attempt(i: int) -> int:
        body = {"command": "race", "name": f"Race {i}", "content": str(i)}
        who = "alice" if i % 2 else "bob"
        return client.post("/api/v1/prompts/create", headers=h(users, who), json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(16)))
    assert statuses.count(200) == 1 and statuses.count(400) == 15
    assert commands(client, users, "admin").count("race") == 1


def test_creating_needs_the_workspace_permission(client: httpx.Client, users: Users) -> None:
    r = client.post(
        "/api/v1/prompts/create",
        headers=h(users, "dave"),
        json={"command": "mine", "name": "Mine", "content": "x"},
    )
    assert assert_error(r, 401) == "401 Unauthorized"
    assert "mine" not in commands(client, users, "admin")


def test_bad_bodies(client: httpx.Client, users: Users) -> None:
    alice = h(users, "alice")
    huge = {"command": "huge", "name": "Huge", "content": "x" * (256 * 1024 + 1)}
    detail = assert_error(client.post("/api/v1/prompts/create", headers=alice, json=huge), 413)
    assert "262144 bytes" in detail
    for bad in (
        {"command": "", "name": "n", "content": "c"},
        {"command": "two words", "name": "n", "content": "c"},
        {"command": "ok", "content": "c"},
        {"command": "ok", "name": "n", "content": 5},
    ):
        assert client.post("/api/v1/prompts/create", headers=alice, json=bad).status_code == 422
    assert "huge" not in commands(client, users, "admin")


def test_private_prompts_stay_private(client: httpx.Client, users: Users) -> None:
    secret = create(client, users, "alice", "secret", content="the secret plan")
    for who in ("bob", "carol", "dave"):
        assert "secret" not in commands(client, users, who)
        r = client.get(f"/api/v1/prompts/id/{secret['id']}", headers=h(users, who))
        assert r.status_code == 404 and "secret plan" not in r.text
        r = client.get("/api/v1/prompts/command/secret", headers=h(users, who))
        assert r.status_code == 404 and "secret plan" not in r.text
        r = client.post(
            f"/api/v1/prompts/id/{secret['id']}/update",
            headers=h(users, who),
            json={"command": "secret", "name": "mine now", "content": "gone"},
        )
        assert r.status_code == 401 and "secret plan" not in r.text
        r = client.delete(f"/api/v1/prompts/id/{secret['id']}/delete", headers=h(users, who))
        assert r.status_code == 401
    # Admins see everything (Open WebUI's default BYPASS_ADMIN_ACCESS_CONTROL).
    got = client.get(f"/api/v1/prompts/id/{secret['id']}", headers=h(users, "admin"))
    assert got.json()["content"] == "the secret plan"


def test_group_and_user_grants(client: httpx.Client, users: Users) -> None:
    readers = users["groups"]["readers"]
    shared = create(
        client,
        users,
        "alice",
        "shared",
        access_grants=[{"principal_type": "group", "principal_id": readers, "permission": "read"}],
    )
    assert [g["principal_id"] for g in shared["access_grants"]] == [readers]
    assert "shared" in commands(client, users, "carol")
    assert "shared" not in commands(client, users, "dave")
    got = client.get(f"/api/v1/prompts/id/{shared['id']}", headers=h(users, "carol")).json()
    assert got["write_access"] is False
    edit = {"command": "shared", "name": "Shared", "content": "changed by carol"}
    url = f"/api/v1/prompts/id/{shared['id']}"
    assert client.post(f"{url}/update", headers=h(users, "carol"), json=edit).status_code == 401
    # A write grant to carol herself: now she may change it, but not its sharing.
    grants = [
        {"principal_type": "group", "principal_id": readers, "permission": "read"},
        {"principal_type": "user", "principal_id": users["carol"]["id"], "permission": "write"},
    ]
    r = client.post(
        f"{url}/access/update", headers=h(users, "alice"), json={"access_grants": grants}
    )
    assert r.status_code == 200, r.text
    r = client.post(f"{url}/update", headers=h(users, "carol"), json=edit)
    assert r.status_code == 200 and r.json()["content"] == "changed by carol"
    r = client.post(
        f"{url}/access/update",
        headers=h(users, "carol"),
        json={"access_grants": [{"principal_type": "user", "principal_id": "*"}]},
    )
    assert r.status_code == 403  # carol has no sharing permission
    assert len(client.get(url, headers=h(users, "alice")).json()["access_grants"]) == 2


def test_public_sharing_needs_its_permission(client: httpx.Client, users: Users) -> None:
    public = [{"principal_type": "user", "principal_id": "*", "permission": "read"}]
    made = create(client, users, "alice", "open", access_grants=public)
    assert made["access_grants"] == []  # dropped on create, as 0.12 does
    url = f"/api/v1/prompts/id/{made['id']}/access/update"
    r = client.post(url, headers=h(users, "alice"), json={"access_grants": public})
    assert r.status_code == 403
    assert "open" not in commands(client, users, "dave")
    r = client.post(url, headers=h(users, "admin"), json={"access_grants": public})
    assert r.status_code == 200 and r.json()["access_control"] is None
    assert "open" in commands(client, users, "dave")


def test_versions(client: httpx.Client, users: Users) -> None:
    alice = h(users, "alice")
    made = create(client, users, "alice", "versioned", content="v1")
    url = f"/api/v1/prompts/id/{made['id']}"
    form = {"command": "versioned", "name": "Versioned", "content": "v2", "commit_message": "two"}
    v2 = client.post(f"{url}/update", headers=alice, json=form).json()
    assert v2["content"] == "v2" and v2["version_id"] != made["version_id"]
    meta = {"name": "Renamed", "command": "versioned2", "tags": ["a"]}
    renamed = client.post(f"{url}/update/meta", headers=alice, json=meta).json()
    assert renamed["command"] == "versioned2" and renamed["version_id"] == v2["version_id"]
    history = client.get(f"{url}/history", headers=alice).json()
    assert [e["snapshot"]["content"] for e in history] == ["v2", "v1"]
    assert history[0]["parent_id"] == history[1]["id"]
    diff = client.get(
        f"{url}/history/diff",
        headers=alice,
        params={"from_id": history[1]["id"], "to_id": history[0]["id"]},
    ).json()
    assert diff["content_diff"][2:] == ["@@ -1 +1 @@", "-v1", "+v2"]
    assert diff["line_endings_only"] is False
    back = client.post(
        f"{url}/update/version", headers=alice, json={"version_id": made["version_id"]}
    ).json()
    assert back["content"] == "v1" and back["command"] == "versioned2"
    r = client.delete(f"{url}/history/{made['version_id']}", headers=alice)
    assert assert_error(r, 400) == "Cannot delete the active production version"
    assert client.delete(f"{url}/history/{v2['version_id']}", headers=alice).json() is True
    assert len(client.get(f"{url}/history", headers=alice).json()) == 1
    entry = client.get(f"{url}/history/{made['version_id']}", headers=alice).json()
    assert entry["snapshot"]["content"] == "v1"
    assert client.get(f"{url}/history", headers=h(users, "dave")).status_code == 401


def test_toggle_and_delete(client: httpx.Client, users: Users) -> None:
    made = create(client, users, "bob", "toggled")
    url = f"/api/v1/prompts/id/{made['id']}"
    assert client.post(f"{url}/toggle", headers=h(users, "bob")).json()["is_active"] is False
    assert client.post(f"{url}/toggle", headers=h(users, "bob")).json()["is_active"] is True
    assert client.delete(f"{url}/delete", headers=h(users, "bob")).json() is True
    assert client.get(url, headers=h(users, "bob")).status_code == 404


def test_openwebui_06_command_routes(client: httpx.Client, users: Users) -> None:
    bob = h(users, "bob")
    r = client.post(
        "/api/v1/prompts/create",
        headers=bob,
        json={"command": "/old", "title": "Old style", "content": "old", "access_control": {}},
    )
    assert r.status_code == 200 and r.json()["name"] == "Old style"
    assert client.get("/api/v1/prompts/command/old", headers=bob).json()["content"] == "old"
    r = client.post(
        "/api/v1/prompts/command/old/update",
        headers=bob,
        json={"command": "/old", "title": "Old style", "content": "newer"},
    )
    assert r.json()["content"] == "newer"
    assert client.delete("/api/v1/prompts/command/old/delete", headers=bob).json() is True
    assert client.get("/api/v1/prompts/command/old", headers=bob).status_code == 404


def test_list_pages_filters_and_tags(client: httpx.Client, users: Users) -> None:
    for i in range(3):
        create(client, users, "bob", f"page{i}", tags=["paged", f"n{i}"])
    bob = h(users, "bob")
    page = client.get("/api/v1/prompts/list", headers=bob, params={"query": "page"}).json()
    assert page["total"] == 3 and all(p["write_access"] for p in page["items"])
    tagged = client.get("/api/v1/prompts/list", headers=bob, params={"tag": "N1"}).json()
    assert [p["command"] for p in tagged["items"]] == ["page1"]
    ordered = client.get(
        "/api/v1/prompts/list",
        headers=bob,
        params={"query": "page", "order_by": "name", "direction": "asc"},
    ).json()
    assert [p["command"] for p in ordered["items"]] == ["page0", "page1", "page2"]
    created = client.get(
        "/api/v1/prompts/list", headers=h(users, "admin"), params={"view_option": "created"}
    ).json()
    assert created["total"] == 0  # the admin sees every prompt, but made none
    assert {"paged", "n0", "n1", "n2"} <= set(
        client.get("/api/v1/prompts/tags", headers=bob).json()
    )
    assert "paged" not in client.get("/api/v1/prompts/tags", headers=h(users, "dave")).json()


def test_a_deleted_owner_leaves_no_prompt_and_no_grant(
    client: httpx.Client, users: Users, daemon: DaemonProc
) -> None:
    admin = h(users, "admin")
    temp = add_user(client, users["admin"]["token"], "Temp", "temp@x.io", "user")
    client.post(
        f"/api/v1/groups/id/{users['groups']['writers']}/users/add",
        headers=admin,
        json={"user_ids": [temp["id"]]},
    )
    form = {
        "command": "temporary",
        "name": "T",
        "content": "t",
        "access_grants": [
            {"principal_type": "user", "principal_id": users["dave"]["id"], "permission": "read"}
        ],
    }
    made = client.post("/api/v1/prompts/create", headers=bearer(temp["token"]), json=form).json()
    assert made["access_grants"]
    r = client.delete(f"/api/v1/users/{temp['id']}", headers=admin)
    assert r.status_code == 200, r.text
    assert "temporary" not in commands(client, users, "admin")
    with sqlite3.connect(daemon.data_dir / "webui.db") as db:
        left = db.execute(
            "SELECT COUNT(*) FROM access_grant WHERE resource_id = ?", (made["id"],)
        ).fetchone()
    assert left == (0,)
