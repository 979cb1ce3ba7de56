"""Streaming relay benchmark: a 200-token answer through the daemon vs straight from the provider.

Run: python -m bench.stream [--runs 30] [--tokens 200] [--token-delay 0.002] [--concurrent 50]
                            [--batch-ms N] [--transport lean|httpx|both]

A stand-in Ollama (tests/standins.py) runs in its own process on loopback and the daemon in
another; this process is the client. In one run it measures, each figure beside the direct one:
time to first token (request sent -> first token's bytes received) and total time, p50 over
--runs streams, for a paced stream (--token-delay seconds per token) and an unpaced one (as
fast as the stand-in writes); the token rate after the first token (paced); the daemon's CPU
time per stream (utime+stime from /proc/<pid>/stat), beside two baselines from the same streams
(the stand-in's own CPU, and that of bench.floor_relay relaying them in the daemon's windows
with nothing else); and the TTFT p50 of --concurrent streams at once, with the daemon's CPU
per stream when that many share it.

`--transport both` runs two daemons side by side, one per WEBUI_PROVIDER_TRANSPORT (the lean
transport and httpx's own), their streams taken in turn with the others, and prints each
one's figures and httpx's over lean's as ratios.
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


def direct_target(ollama_url: str) -> Target:
    body = {"model": MODEL, "messages": MESSAGES, "stream": True}
    return Target("direct", f"{ollama_url}/api/chat", body, {})


def daemon_target(daemon: DaemonProc, key: str) -> Target:
    return Target(
        "daemon",
        f"{daemon.base_url}/api/chat/completions",
        {"model": MODEL, "messages": MESSAGES, "stream": True},
        {"Authorization": f"Bearer {key}"},
    )


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
# One daemon per WEBUI_PROVIDER_TRANSPORT in this list (--transport); the first one's
# figures are the ones held against the goals.
TRANSPORTS: list[str] = ["lean"]


def start(ollama_url: str, transport: str) -> tuple[DaemonProc, str]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    env = {
        **DAEMON_ENV,
        "WEBUI_PROVIDER_TRANSPORT": transport,
        "OLLAMA_BASE_URLS": ollama_url,
        "ENABLE_OPENAI_API": "false",
        "WEBUI_LOG_LEVEL": "warning",
        # The stand-in serves any number of streams at once: no scheduler line (the concurrent
        # burst measures the relay, not Ollama's default of 4 generations per node).
        "WEBUI_OLLAMA_CAPACITY": "0",
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
    """One stream shape: direct, through each daemon (one per transport) and through the
    floor relay, in turn; each daemon's figures, keyed by transport."""
    standin = StandInProcess(tokens, delay)
    floor = FloorRelay(standin.url, batch_ms())
    daemons: list[DaemonProc] = []
    try:
        keys = []
        for transport in TRANSPORTS:
            daemon, key = start(standin.url, transport)
            daemons.append(daemon)
            keys.append(key)
        direct = direct_target(standin.url)
        relayed = [daemon_target(daemon, key) for daemon, key in zip(daemons, keys, strict=True)]
        minimal = Target("floor", f"{floor.url}/api/chat", direct.body, {})
        pids = (standin.proc.pid, floor.proc.pid, *(d.proc.pid for d in daemons))
        before = [0.0] * len(pids)

        def warm() -> None:
            before[:] = [cpu_seconds(pid) for pid in pids]

        d, *rs, _ = interleaved((direct, *relayed, minimal), runs, warm)
        spent = [cpu_seconds(pid) - start for pid, start in zip(pids, before, strict=True)]
        # Baselines from the same streams. The stand-in's own CPU per stream it wrote (it
        # wrote every direct, relayed and floor one), a Python asyncio server doing less
        # than the daemon does per token. And the floor relay's: the same stream relayed in
        # the same windows by a Python process doing nothing else. Both move with the
        # machine's state, as the daemon's figure does.
        standin_ms = spent[0] / ((2 + len(daemons)) * runs) * 1000
        floor_ms = spent[1] / runs * 1000
        out: dict[str, Any] = {"direct": d, "standin_ms": standin_ms, "floor_ms": floor_ms}
        for transport, r, used in zip(TRANSPORTS, rs, spent[2:], strict=True):
            cpu_ms = used / runs * 1000
            # Unpaced, the answer comes in one burst: a rate over the fraction of a
            # millisecond after its first token says nothing.
            rate = (
                f" rate {r['rate'] / d['rate'] * 100:.1f} % of direct ({d['rate']:.0f} vs"
                f" {r['rate']:.0f} tok/s);"
                if delay
                else ""
            )
            name = "daemon" if len(TRANSPORTS) == 1 else f"daemon ({transport})"
            report(
                f"{label}: TTFT p50 direct {d['ttft'] * 1000:.2f} ms, {name}"
                f" {r['ttft'] * 1000:.2f} ms (+{(r['ttft'] - d['ttft']) * 1000:.2f} ms);"
                f" total p50 direct {d['total'] * 1000:.1f} ms, {name} {r['total'] * 1000:.1f}"
                f" ms;{rate} {name} CPU {cpu_ms:.2f} ms/stream"
                f" (stand-in writing it: {standin_ms:.2f} ms,"
                f" ratio {cpu_ms / max(standin_ms, 1e-9):.2f};"
                f" floor relay: {floor_ms:.2f} ms, ratio {cpu_ms / max(floor_ms, 1e-9):.2f})"
            )
            out[transport] = {"daemon": r, "cpu_ms": cpu_ms}
        compare_transports(label, out, report)
        return out
    finally:
        for daemon in daemons:
            daemon.stop()
        floor.stop()
        standin.stop()


def compare_transports(label: str, out: dict[str, Any], report: Callable[[str], None]) -> None:
    """httpx's transport over the lean one, from the same run (with --transport both)."""
    if "lean" not in out or "httpx" not in out:
        return
    lean, other, direct = out["lean"], out["httpx"], out["direct"]
    overhead = [(t["daemon"]["ttft"] - direct["ttft"]) * 1000 for t in (lean, other)]
    report(
        f"{label}: httpx ÷ lean: CPU {other['cpu_ms']:.2f} / {lean['cpu_ms']:.2f} ms ="
        f" {other['cpu_ms'] / max(lean['cpu_ms'], 1e-9):.2f};"
        f" TTFT overhead +{overhead[1]:.2f} / +{overhead[0]:.2f} ms;"
        f" total {other['daemon']['total'] * 1000:.1f} / {lean['daemon']['total'] * 1000:.1f} ms"
    )


def run_concurrent(
    transport: str, n: int, tokens: int, delay: float, report: Callable[[str], None]
) -> tuple[float, float]:
    """(daemon TTFT p50, daemon CPU per stream) of n streams at once, on a fresh pair of
    processes at a model-like pace: the stand-in and this client are single Python
    processes too, and must not be what saturates."""
    standin = StandInProcess(tokens, delay)
    daemon, key = start(standin.url, transport)
    try:
        direct, relayed = direct_target(standin.url), daemon_target(daemon, key)
        c_direct = asyncio.run(concurrent(direct, n))
        c_daemon = asyncio.run(concurrent(relayed, n))
        # A second burst for the CPU per stream when many share the daemon's wake-ups.
        before = cpu_seconds(daemon.proc.pid)
        asyncio.run(concurrent(relayed, n))
        c_cpu_ms = (cpu_seconds(daemon.proc.pid) - before) / n * 1000
        name = "daemon" if len(TRANSPORTS) == 1 else f"daemon ({transport})"
        report(
            f"{n} concurrent streams ({tokens} tokens, {delay * 1000:g} ms/token): TTFT p50"
            f" direct {c_direct * 1000:.1f} ms, {name} {c_daemon * 1000:.1f} ms;"
            f" {name} CPU {c_cpu_ms:.2f} ms/stream"
        )
        return c_daemon, c_cpu_ms
    finally:
        daemon.stop()
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
    parser.add_argument(
        "--transport",
        choices=("lean", "httpx", "both"),
        default="lean",
        help="the daemon's WEBUI_PROVIDER_TRANSPORT; both: one daemon each, compared",
    )
    args = parser.parse_args()
    TOKENS = args.tokens
    TRANSPORTS[:] = ["lean", "httpx"] if args.transport == "both" else [args.transport]
    if args.batch_ms is not None:
        DAEMON_ENV["WEBUI_STREAM_BATCH_MS"] = f"{args.batch_ms:g}"
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    report(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} runs per figure,"
        f" WEBUI_STREAM_BATCH_MS={DAEMON_ENV.get('WEBUI_STREAM_BATCH_MS', 'default')},"
        f" WEBUI_PROVIDER_TRANSPORT={' and '.join(TRANSPORTS)}"
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
    concurrent_figures = {
        transport: run_concurrent(
            transport, args.concurrent, args.concurrent_tokens, args.concurrent_delay, report
        )
        for transport in TRANSPORTS
    }
    if len(TRANSPORTS) > 1:
        (lean_ttft, lean_cpu), (httpx_ttft, httpx_cpu) = (
            concurrent_figures["lean"],
            concurrent_figures["httpx"],
        )
        report(
            f"{args.concurrent} concurrent streams: httpx ÷ lean: CPU {httpx_cpu:.2f} /"
            f" {lean_cpu:.2f} ms = {httpx_cpu / max(lean_cpu, 1e-9):.2f};"
            f" TTFT {httpx_ttft * 1000:.1f} / {lean_ttft * 1000:.1f} ms"
        )
    first = TRANSPORTS[0]
    c_daemon, c_cpu_ms = concurrent_figures[first]
    summary = {
        "ttft_overhead_ms": (paced[first]["daemon"]["ttft"] - paced["direct"]["ttft"]) * 1000,
        "rate_ratio_paced": paced[first]["daemon"]["rate"] / paced["direct"]["rate"],
        # Unpaced, the answer comes in one burst: its total says more than a "rate" over
        # the fraction of a millisecond after the first token.
        "unpaced_total_ms": unpaced[first]["daemon"]["total"] * 1000,
        "unpaced_direct_ms": unpaced["direct"]["total"] * 1000,
        "cpu_ms": paced[first]["cpu_ms"],
        "floor_ms": paced["floor_ms"],
        "concurrent_ttft_ms": c_daemon * 1000,
        "concurrent_cpu_ms": c_cpu_ms,
    }
    report(
        "goals ({first}): TTFT +{ttft_overhead_ms:.2f} ms (<= 2), "
        "rate {rate_ratio_paced:.0%} (>= 90 %; "
        "unpaced total {unpaced_total_ms:.1f} ms, direct {unpaced_direct_ms:.1f}), "
        "CPU {cpu_ms:.2f} ms/stream (<= 3; floor relay {floor_ms:.2f}; "
        "{concurrent_cpu_ms:.2f} with {n} at once), "
        "{n} concurrent TTFT {concurrent_ttft_ms:.1f} ms (<= 50)".format(
            n=args.concurrent, first=first, **summary
        )
    )


if __name__ == "__main__":
    main()
