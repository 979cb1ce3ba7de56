"""Ingest benchmark: the whole pipeline (upload, parse, chunk, embed, index, status) through a real
daemon, against raw fastembed embedding exactly the same chunk texts; and the daemon's RSS.

Run: python -m bench.ingest [--files 40] [--rounds 3]
Needs WEBUI_EMBEDDING_MODEL_PATH (or ../shared/models/all-MiniLM-L6-v2). Both sides run warm
(the daemon has loaded its model and LanceDB on a small file first; the raw side loads its
model before the clock starts), with the same model, batch size and threads. Rounds alternate
raw / pipeline on a fresh corpus each (new bytes, so nothing is deduplicated) and the ratio is
taken per round: other load on the machine hits both sides of a round alike. CPU seconds
(this process for raw; for the pipeline the daemon and its knowledge worker process, which
embeds and writes LanceDB) are reported too: unlike wall time they do not depend on what else
the machine runs.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc, start_daemon

from webui_daemon.rag.chunking import chunk_document
from webui_daemon.rag.loaders import load_text

WORDS = [
    *["river", "mountain", "ledger", "harbour", "engine", "lantern", "orchard", "copper"],
    *["signal", "meadow", "archive", "glacier", "compass", "canvas", "thunder", "violin"],
    *["saddle", "quartz", "ember", "willow", "beacon", "falcon", "prism", "tundra"],
    *["harvest", "anchor", "marble", "cipher", "velvet", "summit"],
]


def make_files(count: int, paragraphs: int, seed: int = 7) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    files = []
    for i in range(count):
        paras = []
        for p in range(paragraphs):
            sentences = [
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
                for _ in range(12)
            ]
            paras.append(f"Section {i}.{p}. " + " ".join(sentences))
        files.append((f"doc{seed}-{i:04d}.txt", "\n\n".join(paras).encode()))
    return files


def chunk_texts(files: list[tuple[str, bytes]]) -> list[str]:
    texts = []
    for _, data in files:
        texts.extend(c.text for c in chunk_document(load_text(data), 1000, 100))
    return texts


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid` (the daemon's knowledge worker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of the process and its children that are alive now."""
    total = cpu_s(pid)
    for child in children(pid):
        try:
            total += cpu_s(child)
        except OSError:
            continue
    return total


def settle(pid: int) -> None:
    """Wait until the process and its children are idle (under 5 % of a core over 0.5 s)."""
    while True:
        before = tree_cpu_s(pid)
        time.sleep(0.5)
        if tree_cpu_s(pid) - before < 0.025:
            return


def proc_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Pipeline:
    def __init__(self, daemon: DaemonProc) -> None:
        self.daemon = daemon
        self.client = httpx.Client(base_url=daemon.base_url, timeout=120)
        body = {"name": "B", "email": "b@example.com", "password": "pw-123456"}
        token = self.client.post("/api/v1/auths/signup", json=body).json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def send(self, name: str, data: bytes) -> str:
        r = self.client.post("/api/v1/files/", headers=self.headers, files={"file": (name, data)})
        r.raise_for_status()
        return str(r.json()["id"])

    def wait(self, ids: list[str]) -> None:
        # Follow the files in upload order, one cheap status read every 20 ms: polling must
        # not eat the CPU it measures.
        for file_id in ids:
            while True:
                r = self.client.get(f"/api/v1/files/{file_id}/process/status", headers=self.headers)
                status = r.json()["status"]
                assert status != "failed", r.text
                if status == "completed":
                    break
                time.sleep(0.02)

    def run(self, files: list[tuple[str, bytes]]) -> float:
        start = time.perf_counter()
        self.wait([self.send(name, data) for name, data in files])
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--paragraphs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    batch = 16  # RAG_EMBEDDING_BATCH_SIZE's default

    from fastembed import TextEmbedding

    model = TextEmbedding(
        "sentence-transformers/all-MiniLM-L6-v2",
        specific_model_path=model_env()["WEBUI_EMBEDDING_MODEL_PATH"],
        enable_cpu_mem_arena=False,
    )
    list(model.embed(["warm up"] * batch, batch_size=batch))
    daemon = start_daemon(Path(tempfile.mkdtemp()), env=model_env())
    rows: list[dict[str, Any]] = []
    try:
        idle_mb = proc_mb(daemon.proc.pid, "VmRSS")
        pipeline = Pipeline(daemon)
        pipeline.run([("warmup.txt", b"Warm the model and the index up.")])
        for round_no in range(args.rounds):
            files = make_files(args.files, args.paragraphs, seed=100 + round_no)
            texts = chunk_texts(files)
            start, cpu0 = time.perf_counter(), time.process_time()
            list(model.embed(texts, batch_size=batch))
            raw_s, raw_cpu = time.perf_counter() - start, time.process_time() - cpu0
            cpu0 = tree_cpu_s(daemon.proc.pid)
            pipe_s = pipeline.run(files)
            pipe_cpu = tree_cpu_s(daemon.proc.pid) - cpu0
            settle(daemon.proc.pid)  # index upkeep after the batch must not overlap the next round
            rows.append(
                {
                    "chunks": len(texts),
                    "chars": sum(map(len, texts)),
                    "raw": raw_s,
                    "pipe": pipe_s,
                    "raw_cpu": raw_cpu,
                    "pipe_cpu": pipe_cpu,
                }
            )
            print(
                f"round {round_no + 1}: {len(texts)} chunks  raw {len(texts) / raw_s:5.1f}/s  "
                f"pipeline {len(texts) / pipe_s:5.1f}/s  ratio {raw_s / pipe_s:.0%}  "
                f"CPU s raw {raw_cpu:.1f} pipeline {pipe_cpu:.1f} ratio {raw_cpu / pipe_cpu:.0%}"
            )
        peak_mb = proc_mb(daemon.proc.pid, "VmHWM")
        after_mb = proc_mb(daemon.proc.pid, "VmRSS")
        workers = children(daemon.proc.pid)
        worker_peak = sum(proc_mb(p, "VmHWM") for p in workers)
        worker_mb = sum(proc_mb(p, "VmRSS") for p in workers)
    finally:
        daemon.stop()
    med = statistics.median
    chunks = rows[0]["chunks"]
    raw_rate = med(r["chunks"] / r["raw"] for r in rows)
    pipe_rate = med(r["chunks"] / r["pipe"] for r in rows)
    ratio = med(r["raw"] / r["pipe"] for r in rows)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.rounds} rounds")
    print(
        f"corpus per round: {args.files} files, ~{chunks} chunks of ~"
        f"{rows[0]['chars'] / chunks:.0f} chars"
    )
    print(f"raw fastembed, same texts, batch {batch}: {raw_rate:6.1f} chunks/s (median)")
    print(
        f"whole pipeline through the daemon:   {pipe_rate:6.1f} chunks/s (median), "
        f"{pipe_rate * args.files / chunks:.2f} files/s"
    )
    cpu_ratio = med(r["raw_cpu"] / r["pipe_cpu"] for r in rows)
    print(
        f"pipeline / raw (median of rounds): {ratio:.0%} wall clock, {cpu_ratio:.0%} by CPU "
        "seconds per chunk  (goal >= 85%)"
    )
    print(
        f"daemon RSS: {idle_mb:.0f} MB idle at start, peak {peak_mb:.0f} MB, "
        f"{after_mb:.0f} MB after ingest"
    )
    print(
        f"knowledge worker RSS (until it stops idle): peak {worker_peak:.0f} MB, "
        f"{worker_mb:.0f} MB after ingest"
    )


if __name__ == "__main__":
    main()
