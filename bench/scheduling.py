"""Fair scheduling benchmark: one user's batch against another user's single question on a node
that runs two generations at once, fair lines against first come first served, in one run.

Run: python -m bench.scheduling [--tokens 200] [--token-delay 0.02] [--batch 20]

A stand-in Ollama (tests/standins.py, in this process) answers --tokens tokens at --token-delay
s each and, like Ollama with OLLAMA_NUM_PARALLEL=2, runs two generations at once and queues the
rest first come, first served. Two daemons use it:
- fair: the connection's `capacity` is 2, so requests beyond it wait in the daemon's per-user
  lines (services/scheduling);
- fifo (the baseline): no capacity (WEBUI_OLLAMA_CAPACITY=0), so every request goes straight to
  the node and waits in its queue, as with Open WebUI or no scheduler.

1. User A sends --batch requests at once; user B sends one a second later. Reported: B's time
   to first token, against the goal "no more than what one running generation still needs,
   + 50 ms" (the earliest end of a generation running when B asked, from the stand-in's own
   records), and the same in generations' worth for both daemons.
2. Four users with equal demand (6 requests each, 50 tokens) on the fair daemon: Jain's
   fairness index of the tokens each received while all four were still waiting for answers
   (1.0: perfectly even; goal >= 0.95).
3. The scheduler's own cost per request (in-process, no HTTP): a slot taken and given back on
   a free node, and a grant on a full node with 40 requests of 4 users waiting (every waiter
   told its new place), beside an asyncio.Lock acquire/release (the cheapest gate) measured in
   the same run. Goal: <= 0.2 ms per request.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.daemon_proc import DaemonProc, start_daemon
from tests.standins import StandIn, provider_env, start_ollama

from webui_daemon.services.scheduling.queue import Place, Scheduler

MODEL = "standin:latest"


def daemon(standin: StandIn, *, fair: bool) -> tuple[DaemonProc, dict[str, str]]:
    extra = {"ENABLE_TITLE_GENERATION": "false", "BYPASS_MODEL_ACCESS_CONTROL": "true"}
    if fair:
        extra["OLLAMA_API_CONFIGS"] = json.dumps({"0": {"capacity": 2}})
    env = provider_env(ollama=[standin], **extra)  # its WEBUI_OLLAMA_CAPACITY=0: no line
    proc = start_daemon(Path(tempfile.mkdtemp(prefix="bench-sched-")), env=env)
    tokens: dict[str, str] = {}
    with httpx.Client(base_url=proc.base_url, timeout=30) as c:
        body = {"name": "Admin", "email": "admin@bench.test", "password": "pw-123456"}
        admin = c.post("/api/v1/auths/signup", json=body).json()["token"]
        for name in ("a", "b", "c", "d"):
            r = c.post(
                "/api/v1/auths/add",
                headers={"Authorization": f"Bearer {admin}"},
                json={
                    "name": name,
                    "email": f"{name}@bench.test",
                    "password": "pw-123456",
                    "role": "user",
                },
            )
            r.raise_for_status()
            tokens[name] = r.json()["token"]
    return proc, tokens


class Stream:
    """One streamed request: when it was sent, and when each piece of its answer came."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.sent = 0.0
        self.first: float | None = None
        self.pieces: list[tuple[float, int]] = []  # (time, tokens in the piece)


async def ask(client: httpx.AsyncClient, token: str, stream: Stream) -> Stream:
    body = {
        "model": MODEL,
        "stream": True,
        "messages": [{"role": "user", "content": stream.label}],
    }
    stream.sent = time.monotonic()
    async with client.stream(
        "POST",
        "/api/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    ) as r:
        r.raise_for_status()
        async for line in r.aiter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices") or ():
                text = (choice.get("delta") or {}).get("content") or ""
                if text:
                    now = time.monotonic()
                    stream.first = stream.first or now
                    stream.pieces.append((now, text.count("tok")))
    return stream


async def batch_then_one(
    proc: DaemonProc, tokens: dict[str, str], standin: StandIn, batch: int
) -> tuple[float, float, float]:
    """B's TTFT, what the earliest running generation still needed when B asked, and the
    length of one generation (s)."""
    async with httpx.AsyncClient(base_url=proc.base_url, timeout=600) as client:
        a = [asyncio.create_task(ask(client, tokens["a"], Stream(f"a{i}"))) for i in range(batch)]
        await asyncio.sleep(1.0)
        b = await ask(client, tokens["b"], Stream("b"))
        done = await asyncio.gather(*a)
    assert b.first is not None
    ttft = b.first - b.sent
    records = [c for c in standin.chats() if c.messages[-1]["content"].startswith("a")]
    running = [
        r.finished_at
        for r in records
        if r.first_token_at is not None
        and r.first_token_at <= b.sent
        and r.finished_at is not None
        and r.finished_at > b.sent
    ]
    still = min(running) - b.sent if running else 0.0
    lengths = [
        r.finished_at - r.first_token_at for r in records if r.finished_at and r.first_token_at
    ]
    assert all(s.first is not None for s in done)
    return ttft, still, statistics.median(lengths)


async def equal_demand(proc: DaemonProc, tokens: dict[str, str]) -> float:
    users = ["a", "b", "c", "d"]
    async with httpx.AsyncClient(base_url=proc.base_url, timeout=600) as client:
        tasks = {
            u: [asyncio.create_task(ask(client, tokens[u], Stream(f"{u}{i}"))) for i in range(6)]
            for u in users
        }
        got = {u: await asyncio.gather(*ts) for u, ts in tasks.items()}
    # The window: until the first user's last answer ended (all four still wanted more before).
    ends = {u: max(p[0] for s in streams for p in s.pieces) for u, streams in got.items()}
    start = min(s.sent for streams in got.values() for s in streams)
    until = min(ends.values())
    x = [sum(n for s in got[u] for t, n in s.pieces if start <= t <= until) for u in users]
    return sum(x) ** 2 / (len(x) * sum(v * v for v in x))


async def overhead(rounds: int) -> tuple[float, float, float]:
    """µs per request: a free node's slot, a grant with 40 waiting, an asyncio.Lock cycle."""
    sched = Scheduler()
    start = time.perf_counter()
    for _ in range(rounds):
        t = await sched.acquire(
            "n", capacity=4, user_id="u", user_name="u", model="m", interactive=True
        )
        sched.release(t)
    free = (time.perf_counter() - start) / rounds * 1e6

    told = 0

    async def tell(place: Place) -> None:
        nonlocal told
        told += 1

    async def one(user: str) -> None:
        t = await sched.acquire(
            "full",
            capacity=2,
            user_id=user,
            user_name=user,
            model="m",
            interactive=True,
            on_wait=tell,
        )
        await asyncio.sleep(0)
        sched.release(t)

    # Keep 40 requests of 4 users waiting behind 2 running ones; time the grants.
    holders = [
        await sched.acquire(
            "full", capacity=2, user_id="h", user_name="h", model="m", interactive=True
        )
        for _ in range(2)
    ]
    waiting = [asyncio.create_task(one(f"u{i % 4}")) for i in range(40)]
    for _ in range(5):
        await asyncio.sleep(0)
    start = time.perf_counter()
    for h in holders:
        sched.release(h)
    await asyncio.gather(*waiting)
    full = (time.perf_counter() - start) / 40 * 1e6

    lock = asyncio.Lock()
    start = time.perf_counter()
    for _ in range(rounds):
        async with lock:
            pass
    floor = (time.perf_counter() - start) / rounds * 1e6
    return free, full, floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--token-delay", type=float, default=0.02)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()

    standin = start_ollama(
        models=[MODEL], tokens=args.tokens, token_delay=args.token_delay, parallel=2
    )
    results: dict[str, tuple[float, float, float]] = {}
    try:
        for name in ("fair", "fifo"):
            standin.reset(
                models=[MODEL], tokens=args.tokens, token_delay=args.token_delay, parallel=2
            )
            proc, tokens = daemon(standin, fair=name == "fair")
            try:
                results[name] = asyncio.run(batch_then_one(proc, tokens, standin, args.batch))
                if name == "fair":
                    standin.reset(
                        models=[MODEL], tokens=50, token_delay=args.token_delay, parallel=2
                    )
                    jain = asyncio.run(equal_demand(proc, tokens))
            finally:
                proc.stop()
    finally:
        standin.stop()
    free, full, floor = asyncio.run(overhead(20_000))

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; node runs 2 at once,")
    print(
        f"{args.tokens} tokens at {args.token_delay * 1000:g} ms; A sends {args.batch}, B 1 s later"
    )
    print(f"{'daemon':6} {'B TTFT s':>9} {'one gen still s':>16} {'gen s':>6} {'TTFT in gens':>13}")
    for name, (ttft, still, gen) in results.items():
        print(f"{name:6} {ttft:9.3f} {still:16.3f} {gen:6.2f} {ttft / gen:13.2f}")
    ttft, still, _ = results["fair"]
    verdict = "met" if ttft <= still + 0.050 else "missed"
    print(f"goal B TTFT <= {still:.3f} + 0.050 s: {verdict} (over by {ttft - still:+.3f} s)")
    print(f"fifo / fair B TTFT: {results['fifo'][0] / ttft:.1f}x")
    print(f"Jain's index, 4 users equal demand: {jain:.3f} (goal >= 0.95)")
    print(
        f"scheduler per request: free node {free:.1f} µs, grant with 40 waiting {full:.1f} µs; "
        f"asyncio.Lock cycle {floor:.2f} µs (ratios {free / floor:.0f}x, {full / floor:.0f}x); "
        "goal <= 200 µs"
    )


if __name__ == "__main__":
    main()
