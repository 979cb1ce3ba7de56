"""Daemon memory benchmark (issue 13): the daemon's RSS idle, after knowledge use (an ingest, a
few searches, a memory added and queried), and after the unload interval, with ratios against
the idle figure of the same run; the knowledge worker's RSS beside it.

Run: python -m bench.rss [--files 5] [--unload 5] [--runs 3]
Needs WEBUI_EMBEDDING_MODEL_PATH (or ../shared/models/all-MiniLM-L6-v2).

Each run starts a fresh daemon with WEBUI_EMBEDDING_IDLE_UNLOAD=--unload, waits until it is
quiet and reads its VmRSS (idle); uploads --files text files (~110 chunks each) and waits for
them, runs 20 knowledge searches (vector and hybrid), adds and queries a memory, and reads the
RSS of the daemon and of its knowledge worker process (after use); then waits for the worker to
stop idle and reads the daemon's RSS again (after unload). Goal: after unload ≤ 100 MB.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from tests.corpus.make import model_env
from tests.daemon_proc import start_daemon

from bench.ingest import Pipeline, children, make_files, proc_mb, settle

GOAL_MB = 100.0
UNLOADED = "embedding model unloaded"


def one_run(files: int, unload: float) -> dict[str, float]:
    daemon = start_daemon(
        Path(tempfile.mkdtemp()),
        env=model_env({"WEBUI_EMBEDDING_IDLE_UNLOAD": str(unload), "ENABLE_MEMORIES": "true"}),
    )
    pid = daemon.proc.pid
    try:
        pipeline = Pipeline(daemon)
        settle(pid)
        idle = proc_mb(pid, "VmRSS")
        ids = [pipeline.send(name, data) for name, data in make_files(files, 6, seed=3)]
        pipeline.wait(ids)
        c: httpx.Client = pipeline.client
        kb = c.post("/api/v1/knowledge/create", headers=pipeline.headers, json={"name": "k"})
        kb_id = kb.json()["id"]
        for file_id in ids:
            c.post(
                f"/api/v1/knowledge/{kb_id}/file/add",
                headers=pipeline.headers,
                json={"file_id": file_id},
            ).raise_for_status()
        for i in range(20):
            r = c.post(
                "/api/v1/retrieval/query/collection",
                headers=pipeline.headers,
                json={
                    "collection_names": [kb_id],
                    "query": f"harbour lantern {i}",
                    "k": 3,
                    "hybrid": i % 2 == 0,
                },
            )
            r.raise_for_status()
        c.post(
            "/api/v1/memories/add",
            headers=pipeline.headers,
            json={"content": "My sister likes Italian food."},
        ).raise_for_status()
        c.post(
            "/api/v1/memories/query",
            headers=pipeline.headers,
            json={"content": "What does my sister eat?"},
        ).raise_for_status()
        used = proc_mb(pid, "VmRSS")
        peak = proc_mb(pid, "VmHWM")
        workers = children(pid)
        worker = sum(proc_mb(p, "VmRSS") for p in workers)
        worker_peak = sum(proc_mb(p, "VmHWM") for p in workers)
        stopped_at = time.monotonic()
        while UNLOADED not in daemon.log() or children(pid):
            if time.monotonic() - stopped_at > unload + 60:
                raise SystemExit("the knowledge worker did not stop")
            time.sleep(0.1)
        waited = time.monotonic() - stopped_at
        settle(pid)
        after = proc_mb(pid, "VmRSS")
    finally:
        daemon.stop()
    return {
        "idle": idle,
        "used": used,
        "peak": peak,
        "worker": worker,
        "worker_peak": worker_peak,
        "after": after,
        "waited": waited,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--unload", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        run = one_run(args.files, args.unload)
        runs.append(run)
        print(
            f"run {n + 1}: idle {run['idle']:.1f} MB, after use {run['used']:.1f} MB "
            f"(worker {run['worker']:.0f} MB), after unload {run['after']:.1f} MB "
            f"(worker stopped {run['waited']:.1f} s after the last request)"
        )

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    idle = med("idle")
    print(f"\n{args.runs} runs, {args.files} files, WEBUI_EMBEDDING_IDLE_UNLOAD={args.unload:g}")
    print(f"{'measure (median)':44} {'MB':>7} {'/ idle':>7}")
    rows = [
        ("daemon idle (baseline, same run)", idle),
        ("daemon after ingest + searches + memories", med("used")),
        ("daemon peak (VmHWM)", med("peak")),
        ("daemon after the unload interval", med("after")),
        ("knowledge worker after use (separate process)", med("worker")),
        ("knowledge worker peak (VmHWM)", med("worker_peak")),
    ]
    for label, value in rows:
        print(f"{label:44} {value:7.1f} {value / idle:7.2f}")
    verdict = "met" if med("after") <= GOAL_MB else "NOT met"
    print(f"goal: daemon after unload <= {GOAL_MB:.0f} MB: {verdict}")


if __name__ == "__main__":
    main()
