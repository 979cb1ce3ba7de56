"""Query benchmark: /api/v1/retrieval/query/collection latency (p50/p95, over HTTP, query embedding
included) on a knowledge base of 10k and 100k chunks, vector and hybrid.

Run: python -m bench.query [--sizes 10000 100000] [--queries 200]
Needs WEBUI_EMBEDDING_MODEL_PATH (or ../shared/models/all-MiniLM-L6-v2).

To save hours of embedding, the chunks are synthetic: ~300 real sentences are embedded with
the real model, and every chunk is one of them plus a row number, with its vector perturbed by
small Gaussian noise and re-normalised (clusters around real embeddings). The rows go straight
into the daemon's LanceDB table and SQLite (files, one knowledge base holding all of them, 100
chunks a file), then the daemon is started and queried like any client would. Index upkeep
(compaction, full-text index, the ANN index above WEBUI_ANN_MIN_ROWS) runs before timing.
"""

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from tests.corpus.docs import CORPUS, QUESTIONS
from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc, start_daemon

from webui_daemon.rag.chunk_table import ChunkTable

KEY = "fastembed:sentence-transformers/all-MiniLM-L6-v2"
INDEX_KEY = f"{KEY}|1000/100/1"
CHUNKS_PER_FILE = 100


def base_texts() -> list[str]:
    sentences = []
    for text in CORPUS.values():
        sentences.extend(s.strip() + "." for s in text.split(". ") if s.strip())
    out = []
    for prefix in ("", "In short: ", "Note that ", "Remember: ", "As the guide says, "):
        out.extend(prefix + s for s in sentences)
    return out


def embed(texts: list[str]) -> Any:
    from fastembed import TextEmbedding

    model = TextEmbedding(
        "sentence-transformers/all-MiniLM-L6-v2",
        specific_model_path=model_env()["WEBUI_EMBEDDING_MODEL_PATH"],
    )
    vectors = np.stack(list(model.embed(texts, batch_size=32)))
    timings = []
    for question, _ in QUESTIONS * 5:
        t = time.perf_counter()
        list(model.query_embed([question]))
        timings.append(time.perf_counter() - t)
    print(f"  query embedding alone (in process): p50 {statistics.median(timings) * 1000:.1f} ms")
    return vectors


def fill_index(data_dir: Path, size: int, texts: list[str], vectors: Any) -> None:
    import pyarrow as pa

    rng = np.random.default_rng(0)
    # The worker's side of the index, in this process: bulk rows, no per-file commits.
    index = ChunkTable(data_dir / "vector_db", KEY, ann_min_rows=50_000)
    table = index.ensure_table(vectors.shape[1])
    for start in range(0, size, 20_000):
        n = min(20_000, size - start)
        rows = np.arange(start, start + n)
        base = rows % len(texts)
        noisy = vectors[base] + rng.normal(0.0, 0.02, (n, vectors.shape[1])).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        file_ids = [f"bench-{r // CHUNKS_PER_FILE:06d}" for r in rows]
        batch = pa.table(
            {
                "id": [f"{f}:{r % CHUNKS_PER_FILE}" for f, r in zip(file_ids, rows, strict=True)],
                "file_id": file_ids,
                "text": [f"{texts[b]} (row {r})" for b, r in zip(base, rows, strict=True)],
                "hash": [uuid.uuid4().hex for _ in rows],
                "chunk_index": pa.array(rows % CHUNKS_PER_FILE, pa.int32()),
                "start_index": pa.array(np.zeros(n, dtype=np.int64)),
                "page": pa.array(np.full(n, -1, dtype=np.int32)),
                "page_label": pa.nulls(n, pa.string()),
                "headers": pa.nulls(n, pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(
                    pa.array(noisy.reshape(-1)), vectors.shape[1]
                ),
            },
            schema=table.schema,
        )
        table.add(batch)
    index.ensure_indexes()
    start = time.perf_counter()
    if index.optimize():
        index.build_ann()
    print(
        f"  index upkeep (compaction, full text, ANN: {index.has_ann}): "
        f"{time.perf_counter() - start:.1f} s"
    )


def fill_sqlite(db_path: Path, user_id: str, size: int) -> tuple[str, str]:
    """Files for every chunk; a knowledge base holding all of them, and a small one holding
    ten files (1,000 chunks) to time a search confined to a small part of the table."""
    now = int(time.time())
    kb, small = str(uuid.uuid4()), str(uuid.uuid4())
    files = size // CHUNKS_PER_FILE
    with sqlite3.connect(db_path) as conn:
        conn.executemany(
            "INSERT INTO file (id, user_id, kind, hash, filename, path, meta, status, content, "
            "chunk_count, index_key, created_at, updated_at) "
            "VALUES (?, ?, 'upload', ?, ?, NULL, ?, 'completed', '', ?, ?, ?, ?)",
            [
                (
                    f"bench-{i:06d}",
                    user_id,
                    uuid.uuid4().hex,
                    f"doc{i}.txt",
                    json.dumps({"name": f"doc{i}.txt"}),
                    CHUNKS_PER_FILE,
                    INDEX_KEY,
                    now,
                    now,
                )
                for i in range(files)
            ],
        )
        conn.executemany(
            "INSERT INTO knowledge (id, user_id, name, description, created_at, updated_at) "
            "VALUES (?, ?, 'bench', '', ?, ?)",
            [(kb, user_id, now, now), (small, user_id, now, now)],
        )
        links = [(kb, f"bench-{i:06d}", user_id, now) for i in range(files)]
        step = files // 10
        links += [(small, f"bench-{i:06d}", user_id, now) for i in range(0, files, step)][:10]
        conn.executemany(
            "INSERT INTO knowledge_file (knowledge_id, file_id, user_id, created_at) "
            "VALUES (?, ?, ?, ?)",
            links,
        )
    return kb, small


def timed_queries(daemon: DaemonProc, token: str, kb: str, count: int, hybrid: bool) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    with httpx.Client(base_url=daemon.base_url, timeout=60) as client:
        for i in range(count + 5):
            question = QUESTIONS[i % len(QUESTIONS)][0]
            body = {"collection_names": [kb], "query": question, "k": 3, "hybrid": hybrid}
            start = time.perf_counter()
            r = client.post("/api/v1/retrieval/query/collection", headers=headers, json=body)
            elapsed = time.perf_counter() - start
            assert r.status_code == 200 and len(r.json()["documents"][0]) == 3, r.text
            if i >= 5:  # the first few load the model and open the index
                times.append(elapsed)
    return times


def run_size(size: int, texts: list[str], vectors: Any, queries: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    env = model_env()
    (tmp / "a").mkdir()
    first = start_daemon(tmp / "a", env=env, data_dir=tmp / "data")
    with httpx.Client(base_url=first.base_url, timeout=30) as client:
        body = {"name": "B", "email": "b@example.com", "password": "pw-123456"}
        session = client.post("/api/v1/auths/signup", json=body).json()
    first.stop()
    fill_index(tmp / "data", size, texts, vectors)
    kb, small = fill_sqlite(tmp / "data" / "webui.db", session["id"], size)
    (tmp / "b").mkdir()
    daemon = start_daemon(tmp / "b", env=env, data_dir=tmp / "data")
    try:
        with httpx.Client(base_url=daemon.base_url, timeout=60) as client:
            floor = []
            for _ in range(queries):
                start = time.perf_counter()
                client.get(
                    "/api/v1/auths/", headers={"Authorization": f"Bearer {session['token']}"}
                )
                floor.append(time.perf_counter() - start)
        floor_ms = statistics.median(floor) * 1000
        print(f"  floor: an authenticated GET /api/v1/auths/ p50 {floor_ms:.1f} ms")
        times = sorted(timed_queries(daemon, session["token"], small, queries, False))
        print(
            f"  {size:>7,} chunks, vector, a 1,000-chunk knowledge base: "
            f"p50 {statistics.median(times) * 1000:5.1f} ms  "
            f"p95 {times[int(len(times) * 0.95) - 1] * 1000:5.1f} ms"
        )
        for hybrid in (False, True):
            if hybrid:
                with httpx.Client(base_url=daemon.base_url) as client:
                    client.post(
                        "/api/v1/retrieval/config/update",
                        json={"ENABLE_RAG_HYBRID_SEARCH": True},
                        headers={"Authorization": f"Bearer {session['token']}"},
                    )
            times = sorted(timed_queries(daemon, session["token"], kb, queries, hybrid))
            p50 = statistics.median(times) * 1000
            p95 = times[int(len(times) * 0.95) - 1] * 1000
            label = "hybrid" if hybrid else "vector"
            print(
                f"  {size:>7,} chunks, {label}, a knowledge base of all of them: "
                f"p50 {p50:5.1f} ms  p95 {p95:5.1f} ms"
            )
    finally:
        daemon.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    texts = base_texts()
    print(f"embedding {len(texts)} base sentences (real model) ...")
    vectors = embed(texts)
    for size in args.sizes:
        print(f"{size:,} chunks ({args.queries} queries each, over HTTP, embedding included):")
        run_size(size, texts, vectors, args.queries)


if __name__ == "__main__":
    main()
