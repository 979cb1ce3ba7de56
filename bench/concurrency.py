"""Concurrent clients benchmark: many users doing mixed chat operations on one daemon at once.

Run: python -m bench.concurrency [--clients 50] [--ops 100]

Each client is one user on its own TCP connection running rounds of create, read back, rename,
list, pin and (every third round) delete + list, each answer checked against what that client
wrote (tests/concurrent_load.py; a stale read counts as an error). The baseline, measured in the
same run with the same clients and concurrency, is `GET /health` (the HTTP floor: no database).
Reported: errors (the bar is 0), operations per second, and p50/p99 latency of both.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tests.concurrent_load import LoadResult, run_mixed
from tests.daemon_proc import start_daemon

OPS_PER_ROUND = 16 / 3  # create, get, rename, list, pin; delete + list every third round


async def floor(base_url: str, clients: int, ops: int) -> LoadResult:
    result = LoadResult()

    async def one() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            for _ in range(ops):
                start = time.perf_counter()
                r = await client.get("/health")
                result.latencies.append(time.perf_counter() - start)
                result.operations += 1
                if r.status_code != 200:
                    result.errors.append(f"/health {r.status_code}")

    await asyncio.gather(*(one() for _ in range(clients)))
    return result


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--ops", type=int, default=100, help="operations per client (about)")
    args = parser.parse_args()
    rounds = max(1, round(args.ops / OPS_PER_ROUND))
    tmp = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    daemon = start_daemon(tmp, env={"DEFAULT_USER_ROLE": "user"})
    try:
        with httpx.Client(base_url=daemon.base_url, timeout=30) as c:
            body = {"name": "Admin", "email": "admin@bench.test", "password": "pw-123456"}
            admin = c.post("/api/v1/auths/signup", json=body).json()["token"]
            tokens = []
            for n in range(args.clients):
                r = c.post(
                    "/api/v1/auths/add",
                    headers={"Authorization": f"Bearer {admin}"},
                    json={
                        "name": f"User {n}",
                        "email": f"u{n}@bench.test",
                        "password": "pw-123456",
                        "role": "user",
                    },
                )
                r.raise_for_status()
                tokens.append(r.json()["token"])
        start = time.perf_counter()
        base = asyncio.run(floor(daemon.base_url, args.clients, args.ops))
        base_wall = time.perf_counter() - start
        start = time.perf_counter()
        load = asyncio.run(run_mixed(daemon.base_url, tokens, rounds))
        wall = time.perf_counter() - start
    finally:
        daemon.stop()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.clients} clients")
    print(f"{'workload':28} {'ops':>6} {'errors':>6} {'ops/s':>7} {'p50 ms':>7} {'p99 ms':>7}")
    for name, result, seconds in (
        ("mixed chat operations", load, wall),
        ("GET /health (floor)", base, base_wall),
    ):
        print(
            f"{name:28} {result.operations:6d} {len(result.errors):6d} "
            f"{result.operations / seconds:7.0f} {quantile(result.latencies, 0.5):7.2f} "
            f"{quantile(result.latencies, 0.99):7.2f}"
        )
    ratio = quantile(load.latencies, 0.5) / quantile(base.latencies, 0.5)
    print(f"p50 ratio mixed / floor: {ratio:.2f}")
    for error in load.errors[:10]:
        print("error:", error)
    if load.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
