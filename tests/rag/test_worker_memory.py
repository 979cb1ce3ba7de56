"""Issue 13: after knowledge use the daemon returns to (nearly) its idle size. The model and
LanceDB live in the knowledge worker process, which stops after WEBUI_EMBEDDING_IDLE_UNLOAD
seconds idle; the daemon itself never maps onnxruntime, LanceDB or Arrow."""

import time
from pathlib import Path

from tests.corpus.make import model_env, upload, wait_done
from tests.daemon_proc import start_daemon
from tests.rag.procs import children, mapped, state, status_mb
from tests.support import assert_no_traceback, bearer, signup, tcp

# Libraries that must stay out of the daemon (each is tens of MB once loaded).
HEAVY_LIBS = ("onnxruntime", "lancedb", "pyarrow", "libarrow", "fastembed", "tokenizers")
IDLE_STOPPED = "embedding model unloaded"
# Generous: the daemon idles at ~70 MB and holds ~90 MB after knowledge use (numpy, caches).
BOUND_MB = 120


def test_daemon_rss_drops_below_the_bound_once_the_worker_stops_idle(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path, env=model_env({"WEBUI_EMBEDDING_IDLE_UNLOAD": "2"}))
    pid = daemon.proc.pid
    try:
        with tcp(daemon, timeout=120) as c:
            token = signup(c, "Admin", "admin@example.com")["token"]
            assert children(pid) == []  # nothing started before knowledge use
            text = b"Volcanoes erupt molten lava from deep magma chambers. " * 400
            record = upload(c, token, "lava.txt", text, "text/plain")
            assert wait_done(c, token, record["id"])["data"]["status"] == "completed"
            r = c.post(
                "/api/v1/retrieval/query/doc",
                headers=bearer(token),
                json={"collection_name": f"file-{record['id']}", "query": "magma"},
            )
            assert r.status_code == 200, r.text
            assert "magma" in r.json()["documents"][0][0]
            workers = children(pid)
            if workers:  # on a slow machine it may have stopped already
                # The model lives in the worker, well over the daemon's whole size.
                assert status_mb(workers[0], "VmHWM") > 150
            assert mapped(pid, *HEAVY_LIBS) == []
            deadline = time.monotonic() + 60
            while IDLE_STOPPED not in daemon.log():
                assert time.monotonic() < deadline, daemon.log()[-2000:]
                time.sleep(0.2)
            # Stopped and reaped: no child left, not even a zombie.
            assert [w for w in workers if state(w) not in ("",)] == []
            assert children(pid) == []
            after = status_mb(pid)
            assert after <= BOUND_MB, after
            assert mapped(pid, *HEAVY_LIBS) == []
            # And the next search starts a worker again.
            r = c.post(
                "/api/v1/retrieval/query/doc",
                headers=bearer(token),
                json={"collection_name": f"file-{record['id']}", "query": "magma"},
            )
            assert r.status_code == 200, r.text
            assert "magma" in r.json()["documents"][0][0]
        assert_no_traceback(daemon)
    finally:
        daemon.stop()
