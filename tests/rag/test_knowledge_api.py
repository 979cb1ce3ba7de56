"""/api/v1/knowledge against a real daemon: create (permission), files, update, reset, delete;
sharing (owner, user and group grants in both forms, public read, admins); an ingest cancelled
midway (finished files searchable, the rest with no index rows)."""

import time
from typing import Any

import httpx
import pytest

from tests.api.test_files_api import index_rows
from tests.corpus.make import model_env, upload, wait_done
from tests.daemon_proc import DaemonProc
from tests.daemons import client_fixture, daemon_fixture, sign_up
from tests.support import assert_error, bearer, principals

Users = dict[str, dict[str, Any]]


daemon = daemon_fixture(env=lambda: model_env(), tmp="knowledge")


client = client_fixture(timeout=60)


@pytest.fixture(scope="module")
def users(client: httpx.Client) -> Users:
    """admin (first sign-up), alice and bob in a group allowed to make and share knowledge,
    carol in a group with no extra permissions, dave and eve on their own."""
    out: Users = sign_up(client, "alice", "bob", "carol", "dave", "eve", email="{name}@x.io")
    admin = bearer(out["admin"]["token"])
    writers = client.post(
        "/api/v1/groups/create",
        headers=admin,
        json={
            "name": "writers",
            "permissions": {"workspace": {"knowledge": True}, "sharing": {"knowledge": True}},
        },
    ).json()
    readers = client.post("/api/v1/groups/create", headers=admin, json={"name": "readers"}).json()
    for group, members in ((writers, ["alice", "bob"]), (readers, ["carol"])):
        r = client.post(
            f"/api/v1/groups/id/{group['id']}/users/add",
            headers=admin,
            json={"user_ids": [out[m]["id"] for m in members]},
        )
        assert r.status_code == 200, r.text
    out["groups"] = {"writers": writers["id"], "readers": readers["id"]}
    return out


def h(users: Users, name: str) -> dict[str, str]:
    return bearer(users[name]["token"])


def create(client: httpx.Client, users: Users, owner: str, name: str, **body: Any) -> Any:
    r = client.post(
        "/api/v1/knowledge/create", headers=h(users, owner), json={"name": name, **body}
    )
    assert r.status_code == 200, r.text
    return r.json()


def add(client: httpx.Client, users: Users, who: str, kb: str, file_id: str) -> httpx.Response:
    return client.post(
        f"/api/v1/knowledge/{kb}/file/add", headers=h(users, who), json={"file_id": file_id}
    )


def search(client: httpx.Client, users: Users, who: str, kb: str, text: str) -> httpx.Response:
    return client.post(
        "/api/v1/retrieval/query/collection",
        headers=h(users, who),
        json={"collection_names": [kb], "query": text},
    )


def test_creating_needs_the_workspace_permission(client: httpx.Client, users: Users) -> None:
    r = client.post("/api/v1/knowledge/create", headers=h(users, "carol"), json={"name": "x"})
    assert_error(r, 401)
    kb = create(client, users, "alice", "  Recipes  ", description="family food")
    assert kb["name"] == "Recipes" and kb["user_id"] == users["alice"]["id"]
    # Private unless said otherwise: 0.12's empty grant list, 0.6's {} (read/write lists empty).
    assert kb["access_grants"] == [] and kb["access_control"]["read"]["user_ids"] == []
    assert kb["write_access"] is True and kb["file_count"] == 0


def test_files_update_reset_delete(client: httpx.Client, users: Users) -> None:
    token = users["alice"]["token"]
    kb = create(client, users, "alice", "Trips")["id"]
    a = upload(client, token, "rome.txt", b"The Colosseum held fifty thousand spectators.")
    b = upload(client, token, "oslo.txt", b"Oslo has a museum of Viking ships.")
    c = upload(client, token, "rome-copy.txt", b"The Colosseum held fifty thousand spectators.")
    assert add(client, users, "alice", kb, a["id"]).status_code == 200  # still processing: fine
    r = client.post(
        f"/api/v1/knowledge/{kb}/files/batch/add",
        headers=h(users, "alice"),
        json=[{"file_id": b["id"]}, {"file_id": c["id"]}, {"file_id": "no-such-file"}],
    )
    body = r.json()
    assert sorted(f["filename"] for f in body["files"]) == ["oslo.txt", "rome.txt"]
    errors = {e["file_id"]: e["error"] for e in body["warnings"]["errors"]}
    assert set(errors) == {c["id"], "no-such-file"} and "Duplicate content" in errors[c["id"]]
    for f in (a, b):
        wait_done(client, token, f["id"])

    got = client.get(f"/api/v1/knowledge/{kb}", headers=h(users, "alice")).json()
    assert got["file_count"] == 2 and {f["status"] for f in got["files"]} == {"completed"}
    listed = client.get(f"/api/v1/knowledge/{kb}/files", headers=h(users, "alice")).json()
    assert listed["total"] == 2 and listed["items"][0]["user"]["name"] == "Alice"
    hits = search(client, users, "alice", kb, "ancient arena audience size").json()
    assert hits["metadatas"][0][0]["name"] == "rome.txt"

    r = client.post(
        f"/api/v1/knowledge/{kb}/update",
        headers=h(users, "alice"),
        json={"name": "Trips 2025", "description": "where we went"},
    )
    assert r.json()["name"] == "Trips 2025" and len(r.json()["files"]) == 2
    r = client.post(
        f"/api/v1/knowledge/{kb}/file/update", headers=h(users, "alice"), json={"file_id": b["id"]}
    )
    assert r.status_code == 200
    wait_done(client, token, b["id"])
    found = client.get(
        "/api/v1/knowledge/search", headers=h(users, "alice"), params={"query": "went"}
    ).json()
    assert [k["id"] for k in found["items"]] == [kb]

    r = client.post(
        f"/api/v1/knowledge/{kb}/file/remove?delete_file=false",
        headers=h(users, "alice"),
        json={"file_id": b["id"]},
    )
    assert [f["id"] for f in r.json()["files"]] == [a["id"]]
    assert client.get(f"/api/v1/files/{b['id']}", headers=h(users, "alice")).status_code == 200
    r = client.post(
        f"/api/v1/knowledge/{kb}/file/remove", headers=h(users, "alice"), json={"file_id": a["id"]}
    )
    assert r.json()["files"] == []
    assert_error(client.get(f"/api/v1/files/{a['id']}", headers=h(users, "alice")), 404)

    assert add(client, users, "alice", kb, b["id"]).status_code == 200
    r = client.post(f"/api/v1/knowledge/{kb}/reset", headers=h(users, "alice"))
    assert r.json()["file_count"] == 0
    assert search(client, users, "alice", kb, "Viking").json()["documents"] == [[]]
    r = client.delete(f"/api/v1/knowledge/{kb}/delete", headers=h(users, "alice"))
    assert r.json() is True
    assert_error(client.get(f"/api/v1/knowledge/{kb}", headers=h(users, "alice")), 404)


def test_sharing_rules(client: httpx.Client, users: Users) -> None:
    token = users["alice"]["token"]
    kb = create(client, users, "alice", "Private notes")["id"]
    note = upload(client, token, "secret.txt", b"The vault code is written on the blue card.")
    assert add(client, users, "alice", kb, note["id"]).status_code == 200
    wait_done(client, token, note["id"])

    assert_error(client.get(f"/api/v1/knowledge/{kb}", headers=h(users, "bob")), 401)
    assert kb not in [
        k["id"] for k in client.get("/api/v1/knowledge/", headers=h(users, "bob")).json()["items"]
    ]
    admin_view = client.get(f"/api/v1/knowledge/{kb}", headers=h(users, "admin")).json()
    assert admin_view["write_access"] is True  # admins see and change everything

    # 0.12 grant to one user: bob reads (the KB, its file, search), cannot write.
    grant = {"principal_type": "user", "principal_id": users["bob"]["id"], "permission": "read"}
    r = client.post(
        f"/api/v1/knowledge/{kb}/update", headers=h(users, "alice"), json={"access_grants": [grant]}
    )
    assert r.json()["access_control"]["read"]["user_ids"] == [users["bob"]["id"]]
    bob_view = client.get(f"/api/v1/knowledge/{kb}", headers=h(users, "bob")).json()
    assert bob_view["write_access"] is False and bob_view["files"][0]["id"] == note["id"]
    assert search(client, users, "bob", kb, "where is the code").json()["documents"][0]
    assert client.get(f"/api/v1/files/{note['id']}", headers=h(users, "bob")).status_code == 200
    assert_error(client.delete(f"/api/v1/files/{note['id']}", headers=h(users, "bob")), 404)
    r = client.post(f"/api/v1/knowledge/{kb}/update", headers=h(users, "bob"), json={"name": "x"})
    assert_error(r, 401)
    assert_error(search(client, users, "carol", kb, "code"), 400)

    # 0.6 form, to a group: carol (group "readers") reads.
    r = client.post(
        f"/api/v1/knowledge/{kb}/update",
        headers=h(users, "alice"),
        json={"access_control": {"read": {"group_ids": [users["groups"]["readers"]]}}},
    )
    assert principals(r.json()["access_grants"]) == [
        {
            "principal_type": "group",
            "principal_id": users["groups"]["readers"],
            "permission": "read",
        }
    ]
    assert search(client, users, "carol", kb, "code").status_code == 200
    assert_error(client.get(f"/api/v1/knowledge/{kb}", headers=h(users, "bob")), 401)

    # Public read needs sharing.public_knowledge: alice's request is narrowed to private ...
    r = client.post(
        f"/api/v1/knowledge/{kb}/update", headers=h(users, "alice"), json={"access_control": None}
    )
    assert r.json()["access_grants"] == []
    # ... an admin may make it public (0.6: access_control null).
    r = client.post(
        f"/api/v1/knowledge/{kb}/update", headers=h(users, "admin"), json={"access_control": None}
    )
    assert r.json()["access_control"] is None
    assert search(client, users, "dave", kb, "code").status_code == 200
    assert kb in [
        k["id"] for k in client.get("/api/v1/knowledge/", headers=h(users, "dave")).json()["items"]
    ]

    # A write grant lets bob add his own file; alice then sees it.
    grant["permission"] = "write"
    client.post(
        f"/api/v1/knowledge/{kb}/update", headers=h(users, "admin"), json={"access_grants": [grant]}
    )
    bobs = upload(client, users["bob"]["token"], "bob.txt", b"Bob's page about kites.")
    assert add(client, users, "bob", kb, bobs["id"]).status_code == 200
    files = client.get(f"/api/v1/knowledge/{kb}", headers=h(users, "alice")).json()["files"]
    assert {f["filename"] for f in files} == {"secret.txt", "bob.txt"}
    writable = client.get("/api/v1/knowledge/list", headers=h(users, "bob")).json()
    assert kb in [k["id"] for k in writable]


def test_cancel_an_ingest_midway(daemon: DaemonProc, client: httpx.Client, users: Users) -> None:
    token = users["alice"]["token"]
    kb = create(client, users, "alice", "Big batch")["id"]
    ids = []
    for i in range(12):
        words = " ".join(f"zorb{i}x{j}" for j in range(6))
        text = "\n\n".join(f"Volume {i} part {p}: {words} " * 14 for p in range(6))
        ids.append(upload(client, token, f"volume{i}.txt", text.encode())["id"])
        assert add(client, users, "alice", kb, ids[-1]).status_code == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [wait_status(client, token, i) for i in ids]
        if statuses.count("completed") >= 2:
            break
        time.sleep(0.05)
    r = client.post(
        "/api/v1/files/process/cancel", headers=h(users, "alice"), json={"file_ids": ids}
    )
    cancelled = set(r.json()["cancelled"])
    records = {i: client.get(f"/api/v1/files/{i}", headers=h(users, "alice")).json() for i in ids}
    done = [i for i, rec in records.items() if rec["data"]["status"] == "completed"]
    stopped = [i for i, rec in records.items() if rec["data"]["status"] == "failed"]
    assert len(done) >= 2 and stopped, [rec["data"]["status"] for rec in records.values()]
    assert set(stopped) <= cancelled and len(done) + len(stopped) == len(ids)
    assert {records[i]["data"]["error"] for i in stopped} == {"Processing was cancelled."}

    rows = index_rows(daemon)
    for file_id in done:  # whole files, searchable
        assert rows.get(file_id, 0) == 6
        number = ids.index(file_id)
        hit = search(client, users, "alice", kb, f"zorb{number}x3").json()
        assert hit["metadatas"][0][0]["file_id"] == file_id
    for file_id in stopped:  # nothing half-indexed
        assert rows.get(file_id, 0) == 0
    # A cancelled file can be processed again later.
    r = client.post(
        "/api/v1/retrieval/process/file", headers=h(users, "alice"), json={"file_id": stopped[0]}
    )
    assert r.status_code == 200 and index_rows(daemon)[stopped[0]] == 6


def wait_status(client: httpx.Client, token: str, file_id: str) -> str:
    r = client.get(f"/api/v1/files/{file_id}/process/status", headers=bearer(token))
    return str(r.json()["status"])
