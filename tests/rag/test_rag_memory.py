"""An idle daemon gives its embedding model's memory back (its knowledge worker process stops),
and loads it again when needed."""

import time
from pathlib import Path

import httpx

from tests.corpus.make import model_env, upload, wait_done
from tests.daemon_proc import start_daemon
from tests.rag.procs import tree_rss_mb
from tests.support import bearer, signup, tcp

UNLOADED = "embedding model unloaded"


def query(c: "httpx.Client", token: str, file_id: str) -> str:
    r = c.post(
        "/api/v1/retrieval/query/doc",
        headers=bearer(token),
        json={"collection_name": f"file-{file_id}", "query": "whale oil"},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["documents"][0][0])


def test_model_unloads_when_idle_and_reloads_on_use(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path, env=model_env({"WEBUI_EMBEDDING_IDLE_UNLOAD": "3"}))
    try:
        with tcp(daemon, timeout=60) as c:
            token = signup(c, "Admin", "admin@example.com")["token"]
            text = b"Lighthouses once burned whale oil before kerosene arrived. " * 200
            record = upload(c, token, "light.txt", text, "text/plain")
            assert wait_done(c, token, record["id"])["data"]["status"] == "completed"
            # Measured right after a use: on a busy machine the ingest's own end can come
            # more than the idle time after its last embedding (the model gone already).
            assert "whale oil" in query(c, token, record["id"])
            loaded = tree_rss_mb(daemon.proc.pid)
            unloads = daemon.log().count(UNLOADED)
            deadline = time.monotonic() + 30
            while daemon.log().count(UNLOADED) == unloads:
                assert time.monotonic() < deadline, daemon.log()[-2000:]
                time.sleep(0.1)
            unloaded = tree_rss_mb(daemon.proc.pid)
            # The model, its buffers and lancedb (the worker) are well over 50 MB.
            assert unloaded < loaded - 50, (loaded, unloaded)
            assert "whale oil" in query(c, token, record["id"])  # loaded again
    finally:
        daemon.stop()
