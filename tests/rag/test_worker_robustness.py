"""The knowledge worker process under trouble: killed mid-ingest (the file fails saying why, the
next request starts a new worker), queries while a big ingest runs (answered at once: queries
have their own lane), many users at once, and the worker never outliving the daemon."""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.corpus.make import model_env, upload, wait_done
from tests.daemon_proc import DaemonProc, start_daemon
from tests.rag.procs import children, state
from tests.support import add_user, assert_no_traceback, bearer, signup, tcp

WORDS = [
    *["river", "mountain", "ledger", "harbour", "engine"],
    *["lantern", "orchard", "copper", "signal", "meadow"],
]


def essay(seed: int, paragraphs: int) -> bytes:
    """Distinct text (nothing deduplicated), ~1,000 characters a paragraph."""
    lines = []
    for p in range(paragraphs):
        words = [WORDS[(seed * 7 + p * 3 + i * i) % len(WORDS)] for i in range(160)]
        lines.append(f"Part {seed}.{p}: " + " ".join(words) + ".")
    return "\n\n".join(lines).encode()


def query(c: httpx.Client, token: str, file_id: str, text: str) -> httpx.Response:
    return c.post(
        "/api/v1/retrieval/query/doc",
        headers=bearer(token),
        json={"collection_name": f"file-{file_id}", "query": text},
    )


def status(c: httpx.Client, token: str, file_id: str) -> str:
    r = c.get(f"/api/v1/files/{file_id}/process/status", headers=bearer(token))
    return str(r.json()["status"])


def one_worker(daemon: DaemonProc, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while True:
        live = [p for p in children(daemon.proc.pid) if state(p) not in ("", "Z")]
        if live:
            assert len(live) == 1, live
            return live[0]
        assert time.monotonic() < deadline, "no knowledge worker"
        time.sleep(0.05)


def gone(pid: int, timeout: float = 15) -> bool:
    """True once the process no longer exists (reaped, not a zombie)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if state(pid) == "":
            return True
        time.sleep(0.05)
    return False


def test_killed_worker_fails_the_file_in_flight_and_is_replaced(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path, env=model_env())
    try:
        with tcp(daemon, timeout=120) as c:
            token = signup(c, "Admin", "admin@example.com")["token"]
            small = upload(c, token, "small.txt", b"Lighthouses burned whale oil.", "text/plain")
            assert wait_done(c, token, small["id"])["data"]["status"] == "completed"
            worker = one_worker(daemon)
            # A big file: many batches, so the kill lands while one is being embedded.
            big = upload(c, token, "big.txt", essay(1, 400), "text/plain")
            deadline = time.monotonic() + 60
            while status(c, token, big["id"]) != "processing":
                assert time.monotonic() < deadline
                time.sleep(0.02)
            time.sleep(0.5)
            os.kill(worker, signal.SIGKILL)
            record = wait_done(c, token, big["id"], timeout=120)
            assert record["data"]["status"] == "failed", record
            error = record["data"]["error"]
            assert "knowledge worker stopped unexpectedly" in error, error
            assert "SIGKILL" in error, error
            assert gone(worker)  # reaped by the daemon, no zombie
            # The next request starts a new worker and gets its answer.
            r = query(c, token, small["id"], "whale oil")
            assert r.status_code == 200, r.text
            assert "whale oil" in r.json()["documents"][0][0]
            assert one_worker(daemon) != worker
            # And files are indexed again.
            again = upload(c, token, "again.txt", b"Foghorns warn ships.", "text/plain")
            assert wait_done(c, token, again["id"])["data"]["status"] == "completed"
        assert_no_traceback(daemon)
    finally:
        daemon.stop()


def test_queries_of_many_users_are_answered_while_a_big_ingest_runs(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path, env=model_env())
    try:
        with tcp(daemon, timeout=120) as c:
            admin = signup(c, "Admin", "admin@example.com")["token"]
            users = [admin]
            for i in range(3):
                made = add_user(c, admin, f"U{i}", f"u{i}@example.com", "user")
                users.append(made["token"])
            notes = []
            for i, token in enumerate(users):
                data = f"User {i} keeps bees on the roof of the old mill.".encode()
                record = upload(c, token, f"note{i}.txt", data, "text/plain")
                assert wait_done(c, token, record["id"])["data"]["status"] == "completed"
                notes.append(record["id"])
            # Ingest: ~10 files of ~100 chunks each, queued behind one another.
            big = [
                upload(c, admin, f"big{i}.txt", essay(10 + i, 100), "text/plain")["id"]
                for i in range(10)
            ]
            deadline = time.monotonic() + 60
            while status(c, admin, big[0]) != "processing":
                assert time.monotonic() < deadline
                time.sleep(0.02)

            def ask(i: int) -> tuple[float, Any]:
                with tcp(daemon, timeout=120) as own:
                    start = time.monotonic()
                    r = query(own, users[i % len(users)], notes[i % len(users)], "bees")
                    return time.monotonic() - start, r

            latencies = []
            with ThreadPoolExecutor(4) as pool:
                for _ in range(3):
                    for took, r in pool.map(ask, range(8)):
                        assert r.status_code == 200, r.text
                        assert "bees" in r.json()["documents"][0][0]
                        latencies.append(took)
            # The ingest was still going: the queries ran beside it, not after it.
            assert status(c, admin, big[-1]) in ("pending", "processing")
            # An embedding of one query takes milliseconds; behind the ingest it would wait
            # for minutes of batches. Generous bound for a loaded 2-core machine.
            assert max(latencies) < 10, latencies
            assert sorted(latencies)[len(latencies) // 2] < 3, latencies
            for file_id in big:
                assert wait_done(c, admin, file_id, timeout=600)["data"]["status"] == "completed"
        assert_no_traceback(daemon)
    finally:
        daemon.stop()


def test_the_worker_stops_with_the_daemon(tmp_path: Path) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        (tmp_path / sig.name).mkdir()
        daemon = start_daemon(tmp_path / sig.name, env=model_env())
        try:
            with tcp(daemon, timeout=120) as c:
                token = signup(c, "Admin", "admin@example.com")["token"]
                record = upload(c, token, "a.txt", b"Owls hunt at night.", "text/plain")
                assert wait_done(c, token, record["id"])["data"]["status"] == "completed"
            worker = one_worker(daemon)
        finally:
            daemon.stop(sig)
        # A clean stop ends and reaps it; a killed daemon's worker dies with it (pdeathsig).
        assert gone(worker), (sig, state(worker))
