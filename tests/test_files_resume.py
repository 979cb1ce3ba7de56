"""Ingest survives a crash: a daemon killed midway resumes the unfinished files at the next start,
and no file ends up with duplicate or partial index rows."""

import signal
import time
from pathlib import Path

from tests.corpus.make import model_env, upload, wait_done
from tests.daemon_proc import start_daemon
from tests.support import bearer, signin, signup, tcp
from tests.test_files_api import index_rows


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
