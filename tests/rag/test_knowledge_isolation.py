"""A user can never read, search or retrieve from another user's files, knowledge bases or text
collections, on any route (files, knowledge, retrieval)."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.corpus.make import model_env, upload, wait_done
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.support import add_user, assert_error, bearer, signup, tcp

daemon = daemon_fixture(env=lambda: model_env(), tmp="isolation")


@pytest.fixture(scope="module")
def world(daemon: DaemonProc) -> Iterator[dict[str, Any]]:
    """The admin owns a private knowledge base and file; eve is a plain user with her own."""
    with tcp(daemon, timeout=60) as client:
        admin = signup(client, "Admin", "admin@example.com")
        eve = add_user(client, admin["token"], "Eve", "eve@example.com", "user")
        secret = upload(client, admin["token"], "secret.txt", b"The launch code is 0000.")
        wait_done(client, admin["token"], secret["id"])
        kb = client.post(
            "/api/v1/knowledge/create", headers=bearer(admin["token"]), json={"name": "Admin only"}
        ).json()
        client.post(
            f"/api/v1/knowledge/{kb['id']}/file/add",
            headers=bearer(admin["token"]),
            json={"file_id": secret["id"]},
        )
        for who, text in (
            (admin, "Admin's pasted note: the safe is behind the painting."),
            (eve, "Eve's pasted note about her garden."),
        ):
            r = client.post(
                "/api/v1/retrieval/process/text",
                headers=bearer(who["token"]),
                json={"name": "note", "content": text, "collection_name": "notes"},
            )
            assert r.status_code == 200, r.text
        mine = upload(client, eve["token"], "eve.txt", b"Eve grows tomatoes.")
        wait_done(client, eve["token"], mine["id"])
        eve_kb = client.post(
            "/api/v1/knowledge/create",
            headers=bearer(admin["token"]),
            json={
                "name": "Eve's",
                "access_grants": [
                    {"principal_type": "user", "principal_id": eve["id"], "permission": "write"}
                ],
            },
        ).json()
        yield {
            "client": client,
            "eve": bearer(eve["token"]),
            "file": secret["id"],
            "kb": kb["id"],
            "eve_file": mine["id"],
            "eve_kb": eve_kb["id"],
        }


def test_files_routes_hide_other_users_files(world: dict[str, Any]) -> None:
    client, eve, fid = world["client"], world["eve"], world["file"]
    for method, path, body in (
        ("GET", f"/api/v1/files/{fid}", None),
        ("GET", f"/api/v1/files/{fid}/content", None),
        ("GET", f"/api/v1/files/{fid}/data/content", None),
        ("GET", f"/api/v1/files/{fid}/process/status", None),
        ("GET", f"/api/v1/files/{fid}/process/status?stream=true", None),
        ("POST", f"/api/v1/files/{fid}/process/cancel", None),
        ("POST", f"/api/v1/files/{fid}/data/content/update", {"content": "pwned"}),
        ("DELETE", f"/api/v1/files/{fid}", None),
        ("POST", "/api/v1/retrieval/process/file", {"file_id": fid}),
        ("POST", "/api/v1/retrieval/process/file", {"file_id": fid, "content": "pwned"}),
    ):
        assert_error(client.request(method, path, headers=eve, json=body), 404)
    assert fid not in [f["id"] for f in client.get("/api/v1/files/", headers=eve).json()["items"]]
    paged = client.get("/api/v1/files/?page=1", headers=eve).json()
    assert fid not in [f["id"] for f in paged["items"]]
    assert_error(client.get("/api/v1/files/search?filename=secret*", headers=eve), 404)
    r = client.post("/api/v1/files/process/cancel", headers=eve, json={"file_ids": [fid]})
    assert r.json() == {"cancelled": []}
    assert_error(client.delete("/api/v1/files/all", headers=eve), 401)


def test_knowledge_routes_refuse_other_users(world: dict[str, Any]) -> None:
    client, eve, kb, fid = world["client"], world["eve"], world["kb"], world["file"]
    form = {"file_id": world["eve_file"]}
    for method, path, body in (
        ("GET", f"/api/v1/knowledge/{kb}", None),
        ("GET", f"/api/v1/knowledge/{kb}/files", None),
        ("POST", f"/api/v1/knowledge/{kb}/update", {"name": "mine now"}),
        ("POST", f"/api/v1/knowledge/{kb}/file/add", form),
        ("POST", f"/api/v1/knowledge/{kb}/file/update", {"file_id": fid}),
        ("POST", f"/api/v1/knowledge/{kb}/file/remove", {"file_id": fid}),
        ("POST", f"/api/v1/knowledge/{kb}/files/batch/add", [form]),
        ("POST", f"/api/v1/knowledge/{kb}/reset", None),
        ("DELETE", f"/api/v1/knowledge/{kb}/delete", None),
    ):
        assert_error(client.request(method, path, headers=eve, json=body), 401)
    listed = client.get("/api/v1/knowledge/", headers=eve).json()["items"]
    assert kb not in [k["id"] for k in listed]
    searched = client.get("/api/v1/knowledge/search?query=Admin", headers=eve).json()
    assert searched["items"] == []
    # Eve cannot pull the admin's file into a knowledge base she may write to.
    r = client.post(
        f"/api/v1/knowledge/{world['eve_kb']}/file/add", headers=eve, json={"file_id": fid}
    )
    assert_error(r, 400)
    r = client.post(
        f"/api/v1/knowledge/{world['eve_kb']}/files/batch/add", headers=eve, json=[{"file_id": fid}]
    )
    assert r.json()["files"] == [] and r.json()["warnings"]["errors"][0]["file_id"] == fid


def test_retrieval_routes_refuse_other_users(world: dict[str, Any]) -> None:
    client, eve, kb, fid = world["client"], world["eve"], world["kb"], world["file"]
    for body in (
        {"collection_name": f"file-{fid}", "query": "launch code"},
        {"collection_name": kb, "query": "launch code"},
    ):
        assert_error(client.post("/api/v1/retrieval/query/doc", headers=eve, json=body), 400)
    for names in ([kb], [f"file-{fid}"], [f"file-{world['eve_file']}", kb]):
        r = client.post(
            "/api/v1/retrieval/query/collection",
            headers=eve,
            json={"collection_names": names, "query": "launch code"},
        )
        assert_error(r, 400)
    # Text collections are per user: the same name finds only Eve's own text.
    r = client.post(
        "/api/v1/retrieval/query/doc",
        headers=eve,
        json={"collection_name": "notes", "query": "where is the safe", "k": 5},
    )
    docs = r.json()["documents"][0]
    assert docs and all("Eve's" in d for d in docs)
    r = client.post(
        "/api/v1/retrieval/process/file",
        headers=eve,
        json={"file_id": world["eve_file"], "collection_name": kb},
    )
    assert_error(r, 401)
    for path in ("/api/v1/retrieval/config", "/api/v1/retrieval/embedding"):
        assert_error(client.get(path, headers=eve), 401)
    r = client.post("/api/v1/retrieval/config/update", headers=eve, json={"TOP_K": 50})
    assert_error(r, 401)
