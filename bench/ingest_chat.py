"""Chat streams while a big ingest runs vs idle: does embedding slow the answers down?

Run: python -m bench.ingest_chat [--runs 10] [--files 60] [--token-delay 0.01]

One daemon (the shared embedding model), one stand-in Ollama in its own process answering 200
tokens at --token-delay s per token (0.01 = 100 tok/s, a fast local model). The same streams
are measured twice in one run: with the daemon idle, then while it ingests --files documents
uploaded in a background thread. Printed: TTFT p50 and token rate p50 of each, the ratio
(goal >= 90 %), and how far the ingest got during the measurement.
"""

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from tests.corpus.make import model_env
from tests.daemon_proc import start_daemon

from bench.ingest import Pipeline, make_files
from bench.stream import MESSAGES, MODEL, StandInProcess, Target

TOKENS = 200


def measure(target: Target, runs: int) -> dict[str, float]:
    rows = []
    with httpx.Client(timeout=120) as client:
        for _ in range(runs):
            rows.append(target.one(client))
    return {
        "ttft": statistics.median(r[0] for r in rows),
        "rate": statistics.median(TOKENS / (r[1] - r[0]) for r in rows if r[1] > r[0]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--token-delay", type=float, default=0.01)
    args = parser.parse_args()

    standin = StandInProcess(TOKENS, args.token_delay)
    env = model_env({"OLLAMA_BASE_URLS": standin.url, "ENABLE_OPENAI_API": "false"})
    env |= {"WEBUI_LOG_LEVEL": "warning", "MODELS_CACHE_TTL": "3600"}
    daemon = start_daemon(Path(tempfile.mkdtemp(prefix="bench-ingest-chat-")), env=env)
    try:
        pipeline = Pipeline(daemon)  # signs up the admin; its token also drives the chat
        pipeline.run([("warmup.txt", b"Warm the model and the index up.")])
        target = Target(
            "daemon",
            f"{daemon.base_url}/api/chat/completions",
            {"model": MODEL, "messages": MESSAGES, "stream": True},
            pipeline.headers,
        )
        measure(target, 2)  # warm the relay
        idle = measure(target, args.runs)

        files = make_files(args.files, 6, seed=900)
        done = threading.Event()
        ids: list[str] = []

        def ingest() -> None:
            ids.extend(pipeline.send(name, data) for name, data in files)
            pipeline.wait(ids)
            done.set()

        worker = threading.Thread(target=ingest, daemon=True)
        worker.start()
        time.sleep(1.0)  # let uploads start and embedding saturate the cores
        busy = measure(target, args.runs)
        finished_during = done.is_set()
        worker.join(timeout=600)
    finally:
        daemon.stop()
        standin.stop()

    print(f"stand-in: {TOKENS} tokens at {args.token_delay * 1000:.0f} ms/token; runs {args.runs}")
    print(f"idle:      TTFT p50 {idle['ttft'] * 1000:7.2f} ms, rate {idle['rate']:6.1f} tok/s")
    print(f"ingesting: TTFT p50 {busy['ttft'] * 1000:7.2f} ms, rate {busy['rate']:6.1f} tok/s")
    print(f"rate while ingesting / idle: {busy['rate'] / idle['rate']:.0%} (goal >= 90%)")
    print(
        f"ingest of {args.files} files was "
        f"{'finished' if finished_during else 'still running'} when the measurement ended"
    )


if __name__ == "__main__":
    main()
