"""Memories benchmark: what memory retrieval adds before the first token, with 1,000 memories.

Run: python -m bench.memories [--memories 1000] [--runs 60]
Needs WEBUI_EMBEDDING_MODEL_PATH (or ../shared/models/all-MiniLM-L6-v2).

One stand-in Ollama in its own process (first token at once) and two daemons on it: A, where
one user has --memories memories (added through the API, so with real embeddings), and B with
ENABLE_MEMORIES=false (the floor: no memory code runs). Time to first token over the Unix
socket, streamed, interleaved round by round so that a slow minute weighs on every figure:

  on    A, `features.memory: true`: the query embedded, 1,000 vectors scored, the block built
  off   A, `features.memory: false`
  floor B, memories switched off for the whole daemon

Reported: p50 of each, `on - off` (goal: at most 15 ms once the embedder is loaded), and
`off / floor` (goal: 1.0, nothing measurable).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc, start_daemon
from tests.standins import provider_env

from bench.stream import MODEL, StandInProcess

GOAL_ADDED_MS = 15.0
QUESTION = "What should I cook for my sister's birthday dinner on Saturday?"
SUBJECTS = [
    "my sister",
    "my manager",
    "the dentist",
    "our cat",
    "the garden",
    "my bike",
    "the car",
    "project Falcon",
    "the kitchen",
    "my landlord",
    "the book club",
    "my running shoes",
    "the quarterly report",
    "grandma",
    "the tax return",
    "my guitar",
    "the heating",
]
FACTS = [
    "prefers meetings after ten",
    "is allergic to shellfish",
    "needs a service in spring",
    "likes Italian food",
    "moved to Lisbon last year",
    "is due on the fifteenth",
    "costs too much to repair",
    "meets on the first Thursday",
    "should be watered twice a week",
    "has a birthday in March",
    "was bought second hand",
    "uses the blue folder",
]


def memory_text(i: int) -> str:
    return f"{SUBJECTS[i % len(SUBJECTS)].capitalize()} {FACTS[(i // 3) % len(FACTS)]} (note {i})."


def add_memories(client: httpx.Client, count: int) -> float:
    """Add `count` memories (20 about the user, the rest context; some filed under a path);
    the p50 of one add in ms."""
    times = []
    for i in range(count):
        body: dict[str, Any] = {"content": memory_text(i)}
        if i % 50 == 0:
            body["type"] = "user"
        if i % 7 == 0:
            body["path"] = f"life/{SUBJECTS[i % len(SUBJECTS)].replace(' ', '-')}"
        start = time.perf_counter()
        client.post("/api/v1/memories/add", json=body).raise_for_status()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def ttft(client: httpx.Client, memory: bool | None) -> float:
    body: dict[str, Any] = {
        "model": MODEL,
        "stream": True,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    if memory is not None:
        body["features"] = {"memory": memory}
    start = time.perf_counter()
    with client.stream("POST", "/api/chat/completions", json=body) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("data: ") and '"content"' in line:
                return time.perf_counter() - start
    raise SystemExit("the stream ended before any token")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memories", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    standin = StandInProcess(tokens=5, token_delay=0.0)
    daemons: list[DaemonProc] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = model_env(provider_env(ollama=[standin.url], ENABLE_TITLE_GENERATION="false"))
            for name in ("a", "b"):
                (Path(tmp) / name).mkdir()
            a = start_daemon(Path(tmp) / "a", env=env)
            daemons.append(a)
            b = start_daemon(Path(tmp) / "b", env={**env, "ENABLE_MEMORIES": "false"})
            daemons.append(b)
            with a.unix_client(timeout=60) as ca, b.unix_client(timeout=60) as cb:
                print(f"adding {args.memories} memories through the API ...")
                start = time.perf_counter()
                add_p50 = add_memories(ca, args.memories)
                took = time.perf_counter() - start
                print(f"  {took:.1f} s; one add p50 {add_p50:.1f} ms (embedding included)")
                sent = ttft(ca, True)  # loads the embedder and the user's vectors
                print(f"  first request with memories (embedder loaded): {sent * 1000:.0f} ms")
                for _ in range(5):  # warm both daemons and the connections
                    ttft(ca, False), ttft(cb, None), ttft(ca, True)
                runs: dict[str, list[float]] = {"on": [], "off": [], "floor": []}
                for _ in range(args.runs):
                    runs["on"].append(ttft(ca, True))
                    runs["off"].append(ttft(ca, False))
                    runs["floor"].append(ttft(cb, None))
            p50 = {name: statistics.median(values) * 1000 for name, values in runs.items()}
            p95 = {
                name: statistics.quantiles(values, n=20)[18] * 1000 for name, values in runs.items()
            }
            added = p50["on"] - p50["off"]
            print(f"time to first token, {args.runs} interleaved runs (Unix socket):")
            for name in ("on", "off", "floor"):
                print(f"  {name:5} p50 {p50[name]:6.2f} ms   p95 {p95[name]:6.2f} ms")
            verdict = "ok" if added <= GOAL_ADDED_MS else "over"
            print(
                f"memory on adds {added:.2f} ms at p50 with {args.memories} memories "
                f"(goal <= {GOAL_ADDED_MS:.0f} ms: {verdict})"
            )
            print(
                f"memory off / memories disabled: {p50['off'] / p50['floor']:.3f} "
                f"({p50['off'] - p50['floor']:+.2f} ms)"
            )
    finally:
        for daemon in daemons:
            daemon.stop()
        standin.stop()


if __name__ == "__main__":
    main()
