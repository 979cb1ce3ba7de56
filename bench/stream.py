"""Streaming relay benchmark: a 200-token answer through the daemon vs straight from the provider.

Run: python -m bench.stream [--runs 30] [--tokens 200] [--token-delay 0.002] [--concurrent 50]

A stand-in Ollama (tests/standins.py) runs in its own process on loopback and the daemon in
another; this process is the client. In one run it measures, each figure beside the direct one:
time to first token (request sent -> first token's bytes received) and total time, p50 over
--runs streams, for a paced stream (--token-delay seconds per token) and an unpaced one (as
fast as the stand-in writes); the token rate after the first token (paced); the daemon's CPU
time per stream (utime+stime from /proc/<pid>/stat), beside two baselines from the same streams
(the stand-in's own CPU, and that of bench.floor_relay relaying them in the daemon's windows
with nothing else); and the TTFT p50 of --concurrent streams at once, with the daemon's CPU
per stream when that many share it.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from tests.daemon_proc import DaemonProc, start_daemon

MODEL = "standin:latest"
MESSAGES = [{"role": "user", "content": "Write two hundred tokens."}]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


class ServerProcess:
    """`python -m MODULE ARGS` in its own process (no GIL shared with the client); its first
    line of output is its URL."""

    def __init__(self, module: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)


class StandInProcess(ServerProcess):
    """A stand-in Ollama (tests/standins.py)."""

    def __init__(self, tokens: int, token_delay: float) -> None:
        args = ("--tokens", str(tokens), "--token-delay", str(token_delay))
        super().__init__("tests.standins", "ollama", *args)


class FloorRelay(ServerProcess):
    """bench.floor_relay: the CPU floor of relaying a stream in Python with the daemon's
    windows (see its docstring)."""

    def __init__(self, upstream: str, batch_ms: float) -> None:
        super().__init__("bench.floor_relay", upstream, "--batch-ms", f"{batch_ms:g}")


def batch_ms() -> float:
    """The daemon's batch window in this run (--batch-ms, else its default)."""
    if "WEBUI_STREAM_BATCH_MS" in DAEMON_ENV:
        return float(DAEMON_ENV["WEBUI_STREAM_BATCH_MS"])
    from webui_daemon.settings import Settings

    return float(Settings.model_fields["stream_batch_ms"].default)


class Target:
    """One way to ask for a stream: straight to Ollama or through the daemon."""

    def __init__(self, name: str, url: str, body: dict[str, Any], headers: dict[str, str]):
        self.name, self.url, self.body, self.headers = name, url, body, headers
        # The first token is in the first event that carries "tok0".
        self.marker = b"tok0"

    def one(self, client: httpx.Client) -> tuple[float, float, int]:
        """(ttft, total, bytes) for one stream."""
        start = time.perf_counter()
        ttft = 0.0
        size = 0
        with client.stream("POST", self.url, json=self.body, headers=self.headers) as r:
            r.raise_for_status()
            for chunk in r.iter_raw():
                if not ttft and self.marker in chunk:
                    ttft = time.perf_counter() - start
                size += len(chunk)
        return ttft, time.perf_counter() - start, size

    async def one_async(self, client: httpx.AsyncClient) -> float:
        start = time.perf_counter()
        ttft = 0.0
        async with client.stream("POST", self.url, json=self.body, headers=self.headers) as r:
            async for chunk in r.aiter_raw():
                if not ttft and self.marker in chunk:
                    ttft = time.perf_counter() - start
        return ttft


def targets(ollama_url: str, daemon: DaemonProc, key: str) -> tuple[Target, Target]:
    direct = Target(
        "direct",
        f"{ollama_url}/api/chat",
        {"model": MODEL, "messages": MESSAGES, "stream": True},
        {},
    )
    relayed = Target(
        "daemon",
        f"{daemon.base_url}/api/chat/completions",
        {"model": MODEL, "messages": MESSAGES, "stream": True},
        {"Authorization": f"Bearer {key}"},
    )
    return direct, relayed


def interleaved(
    pair: tuple[Target, ...], runs: int, on_warm: Callable[[], None], warmup: int = 3
) -> list[dict[str, float]]:
    """Direct, daemon (and floor relay) streams taken in turn, so a busy moment of the
    machine hits all of them.

    `on_warm` is called after the warm-up streams (the daemon's first request imports httpx
    and lists the provider's models: one-off costs that are not a stream's)."""
    results: list[list[tuple[float, float, int]]] = [[] for _ in pair]
    with httpx.Client(timeout=60) as client:
        for _ in range(warmup):
            for target in pair:
                target.one(client)
        on_warm()
        for _ in range(runs):
            for index, target in enumerate(pair):
                results[index].append(target.one(client))
    out = []
    for rows in results:
        out.append(
            {
                "ttft": statistics.median(r[0] for r in rows),
                "total": statistics.median(r[1] for r in rows),
                "rate": statistics.median(TOKENS / (r[1] - r[0]) for r in rows if r[1] > r[0]),
            }
        )
    return out


async def concurrent(target: Target, n: int) -> float:
    """TTFT p50 of n streams sent at once over n open connections (raw sockets: the client's
    own cost per request is a write, so the figure is the server's)."""
    url = httpx.URL(target.url)
    body = json.dumps(target.body).encode()
    head = (
        f"POST {url.raw_path.decode()} HTTP/1.1\r\nHost: {url.host}\r\n"
        "Content-Type: application/json\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in target.headers.items())
        + f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    conns = [await asyncio.open_connection(url.host, url.port) for _ in range(n)]

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
        start = time.perf_counter()
        writer.write(head + body)
        ttft = 0.0
        seen = b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if not ttft:
                seen += data
                if target.marker in seen:
                    ttft = time.perf_counter() - start
            if data.endswith(b"0\r\n\r\n"):
                break
        return ttft

    try:
        await asyncio.gather(*(one(r, w) for r, w in conns))  # warm both ends
        return statistics.median(await asyncio.gather(*(one(r, w) for r, w in conns)))
    finally:
        for _, writer in conns:
            writer.close()


# Extra daemon settings for this run (--batch-ms).
DAEMON_ENV: dict[str, str] = {}


def start(tmp: Path, ollama_url: str) -> tuple[DaemonProc, str]:
    env = {
        **DAEMON_ENV,
        "OLLAMA_BASE_URLS": ollama_url,
        "ENABLE_OPENAI_API": "false",
        "WEBUI_LOG_LEVEL": "warning",
        # Model lists are refreshed every second by default; keep that out of the relay's
        # CPU figure (one listing costs about 1 ms).
        "MODELS_CACHE_TTL": "3600",
    }
    daemon = start_daemon(tmp, env=env)
    with httpx.Client(base_url=daemon.base_url, timeout=10) as c:
        r = c.post(
            "/api/v1/auths/signup",
            json={"name": "Bench", "email": "bench@example.com", "password": "pw-123456"},
        )
        token = r.json()["token"]
        key = c.post("/api/v1/auths/api_key", headers={"Authorization": f"Bearer {token}"})
        return daemon, str(key.json()["api_key"])


TOKENS = 200


def run_mode(
    label: str, tokens: int, delay: float, runs: int, report: Callable[[str], None]
) -> dict[str, Any]:
    standin = StandInProcess(tokens, delay)
    floor = FloorRelay(standin.url, batch_ms())
    tmp = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    daemon, key = start(tmp, standin.url)
    try:
        direct, relayed = targets(standin.url, daemon, key)
        minimal = Target("floor", f"{floor.url}/api/chat", direct.body, {})
        pids = (daemon.proc.pid, standin.proc.pid, floor.proc.pid)
        before = [0.0, 0.0, 0.0]

        def warm() -> None:
            before[:] = [cpu_seconds(pid) for pid in pids]

        d, r, _ = interleaved((direct, relayed, minimal), runs, warm)
        cpu_ms = (cpu_seconds(daemon.proc.pid) - before[0]) / runs * 1000
        # Baselines from the same streams. The stand-in's own CPU per stream it wrote (it
        # wrote every direct, relayed and floor one), a Python asyncio server doing less
        # than the daemon does per token. And the floor relay's: the same stream relayed in
        # the same windows by a Python process doing nothing else. Both move with the
        # machine's state, as the daemon's figure does.
        standin_ms = (cpu_seconds(standin.proc.pid) - before[1]) / (3 * runs) * 1000
        floor_ms = (cpu_seconds(floor.proc.pid) - before[2]) / runs * 1000
        # Unpaced, the answer comes in one burst: a rate over the fraction of a millisecond
        # after its first token says nothing.
        rate = (
            f" rate {r['rate'] / d['rate'] * 100:.1f} % of direct ({d['rate']:.0f} vs"
            f" {r['rate']:.0f} tok/s);"
            if delay
            else ""
        )
        report(
            f"{label}: TTFT p50 direct {d['ttft'] * 1000:.2f} ms, daemon {r['ttft'] * 1000:.2f} ms "
            f"(+{(r['ttft'] - d['ttft']) * 1000:.2f} ms); total p50 direct {d['total'] * 1000:.1f}"
            f" ms, daemon {r['total'] * 1000:.1f} ms;{rate} daemon CPU {cpu_ms:.2f} ms/stream"
            f" (stand-in writing it: {standin_ms:.2f} ms,"
            f" ratio {cpu_ms / max(standin_ms, 1e-9):.2f};"
            f" floor relay: {floor_ms:.2f} ms, ratio {cpu_ms / max(floor_ms, 1e-9):.2f})"
        )
        return {
            "direct": d,
            "daemon": r,
            "cpu_ms": cpu_ms,
            "standin_ms": standin_ms,
            "floor_ms": floor_ms,
        }
    finally:
        daemon.stop()
        floor.stop()
        standin.stop()


def main() -> None:
    global TOKENS
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--token-delay", type=float, default=0.002)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--concurrent-tokens", type=int, default=50)
    parser.add_argument("--concurrent-delay", type=float, default=0.02)
    parser.add_argument(
        "--batch-ms", type=float, help="the daemon's WEBUI_STREAM_BATCH_MS (default: its own)"
    )
    args = parser.parse_args()
    TOKENS = args.tokens
    if args.batch_ms is not None:
        DAEMON_ENV["WEBUI_STREAM_BATCH_MS"] = f"{args.batch_ms:g}"
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    report(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs per figure,"
        f" WEBUI_STREAM_BATCH_MS={DAEMON_ENV.get('WEBUI_STREAM_BATCH_MS', 'default')}"
    )
    paced = run_mode(
        f"{args.tokens} tokens, {args.token_delay * 1000:g} ms/token",
        args.tokens,
        args.token_delay,
        args.runs,
        report,
    )
    unpaced = run_mode(f"{args.tokens} tokens, unpaced", args.tokens, 0.0, args.runs, report)
    if not args.concurrent:
        return
    # Concurrency on a fresh pair of processes, at a model-like pace: the stand-in and this
    # client are single Python processes too, and must not be what saturates.
    standin = StandInProcess(args.concurrent_tokens, args.concurrent_delay)
    tmp = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    daemon, key = start(tmp, standin.url)
    try:
        direct, relayed = targets(standin.url, daemon, key)
        c_direct = asyncio.run(concurrent(direct, args.concurrent))
        c_daemon = asyncio.run(concurrent(relayed, args.concurrent))
        # A second burst for the CPU per stream when many share the daemon's wake-ups.
        before = cpu_seconds(daemon.proc.pid)
        asyncio.run(concurrent(relayed, args.concurrent))
        c_cpu_ms = (cpu_seconds(daemon.proc.pid) - before) / args.concurrent * 1000
        report(
            f"{args.concurrent} concurrent streams ({args.concurrent_tokens} tokens, "
            f"{args.concurrent_delay * 1000:g} ms/token): TTFT p50 direct {c_direct * 1000:.1f} ms,"
            f" daemon {c_daemon * 1000:.1f} ms; daemon CPU {c_cpu_ms:.2f} ms/stream"
        )
    finally:
        daemon.stop()
        standin.stop()
    summary = {
        "ttft_overhead_ms": (paced["daemon"]["ttft"] - paced["direct"]["ttft"]) * 1000,
        "rate_ratio_paced": paced["daemon"]["rate"] / paced["direct"]["rate"],
        # Unpaced, the answer comes in one burst: its total says more than a "rate" over
        # the fraction of a millisecond after the first token.
        "unpaced_total_ms": unpaced["daemon"]["total"] * 1000,
        "unpaced_direct_ms": unpaced["direct"]["total"] * 1000,
        "cpu_ms": paced["cpu_ms"],
        "floor_ms": paced["floor_ms"],
        "concurrent_ttft_ms": c_daemon * 1000,
        "concurrent_cpu_ms": c_cpu_ms,
    }
    report(
        "goals: TTFT +{ttft_overhead_ms:.2f} ms (<= 2), rate {rate_ratio_paced:.0%} (>= 90 %; "
        "unpaced total {unpaced_total_ms:.1f} ms, direct {unpaced_direct_ms:.1f}), "
        "CPU {cpu_ms:.2f} ms/stream (<= 3; floor relay {floor_ms:.2f}; "
        "{concurrent_cpu_ms:.2f} with {n} at once), "
        "{n} concurrent TTFT {concurrent_ttft_ms:.1f} ms (<= 50)".format(
            n=args.concurrent, **summary
        )
    )


if __name__ == "__main__":
    main()
