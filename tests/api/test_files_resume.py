"""Ingest survives a crash: a daemon killed midway resumes the unfinished files at the next start,
and no file ends up with duplicate or partial index rows."""

import os
import signal
import time
from pathlib import Path

from tests.api.test_files_api import index_rows
from tests.corpus.make import model_env, upload, wait_done
from tests.daemon_proc import start_daemon
from tests.support import add_user, bearer, signin, signup, tcp


def test_killed_daemon_resumes_unfinished_files(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    first = start_daemon(tmp_path / "one", env=model_env(), data_dir=data_dir)
    try:
        with tcp(first, timeout=60) as client:
            token = signup(client, "Ada", "ada@example.com")["token"]
            ids = []
            for i in range(8):
                text = "\n\n".join(
                    f"Chapter {i}.{p}: ledger entry {i * 100 + p}. " * 20 for p in range(5)
                )
                ids.append(upload(client, token, f"ledger{i}.txt", text.encode())["id"])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                r = client.get(f"/api/v1/files/{ids[0]}/process/status", headers=bearer(token))
                if r.json()["status"] == "completed":
                    break
                time.sleep(0.02)
    finally:
        first.stop(signal.SIGKILL)

    second = start_daemon(tmp_path / "two", env=model_env(), data_dir=data_dir)
    try:
        with tcp(second, timeout=60) as client:
            token = signin(client, "ada@example.com")["token"]
            records = [wait_done(client, token, file_id) for file_id in ids]
            assert {r["data"]["status"] for r in records} == {"completed"}
        rows = index_rows(second)
        assert {file_id: rows.get(file_id) for file_id in ids} == dict.fromkeys(ids, 5)
    finally:
        second.stop()


def test_a_deleted_accounts_files_leave_no_bytes_or_vectors(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    first = start_daemon(tmp_path / "one", env=model_env(), data_dir=data_dir)
    try:
        with tcp(first, timeout=60) as client:
            admin = signup(client, "Admin", "admin@example.com")["token"]
            bob = add_user(client, admin, "Bob", "bob@example.com", "user")
            gone = wait_done(
                client, bob["token"], upload(client, bob["token"], "b.txt", b"Bob's diary.")["id"]
            )
            kept = wait_done(client, admin, upload(client, admin, "a.txt", b"Admin's notes.")["id"])
            r = client.delete(f"/api/v1/users/{bob['id']}", headers=bearer(admin))
            assert r.status_code == 200, r.text
        assert index_rows(first).get(gone["id"]) == 1
    finally:
        first.stop()
    stored = data_dir / "uploads" / gone["id"]
    old = time.time() - 3600
    os.utime(stored, (old, old))  # uploads younger than 10 minutes are never swept
    second = start_daemon(tmp_path / "two", env=model_env(), data_dir=data_dir)
    try:
        with tcp(second, timeout=60) as client:
            admin = signin(client, "admin@example.com")["token"]
            # The next index upkeep (after any ingest) drops the orphaned rows.
            wait_done(client, admin, upload(client, admin, "c.txt", b"More notes.")["id"])
            deadline = time.monotonic() + 30
            while gone["id"] in index_rows(second) and time.monotonic() < deadline:
                time.sleep(0.1)
        rows = index_rows(second)
        assert gone["id"] not in rows and rows.get(kept["id"]) == 1
        assert not stored.exists() and (data_dir / "uploads" / kept["id"]).exists()
    finally:
        second.stop()
