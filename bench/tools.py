"""Tool loop benchmark: what the daemon adds per tool round, and what offering tools costs.

Run: python -m bench.tools [--runs 40] [--rounds 5] [--tools 20]

Processes on loopback: two stand-in OpenAI models (tests/standins.py; `tools-gpt` calls the
first tool offered for --rounds rounds and then answers, `plain-gpt` never calls), an OpenAPI
tool server with --tools operations (this module, `serve`), the daemon, and this client.

1. Per round: a streamed answer through the daemon with `tool_ids` (the daemon runs the
   rounds) against the same exchange run by this client straight against the model and the
   tool server (the model asked, each call made, the results sent back), each less its own
   plain answer (no tools). The daemon's cost per round is
   ((daemon with tools - daemon plain) - (direct with tools - direct plain)) / rounds:
   the relay of each extra model request and the loop, beyond the model's and the tool's own
   time. Goal: <= 5 ms p50.
2. First token: `plain-gpt` through the daemon with `tool_ids` naming the server of --tools
   functions (the daemon builds and sends their specs; the model answers in text) against the
   same request without tools. Goal: <= +5 ms p50.
Figures are p50 over --runs, all variants taken in turn so a busy moment weighs on each.
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from tests.daemon_proc import DaemonProc, free_port, start_daemon

from bench.stream import ServerProcess

TOOLS_MODEL = "tools-gpt"
PLAIN_MODEL = "plain-gpt"
QUESTION = [{"role": "user", "content": "Check the tools."}]
ROUND_GOAL_MS = 5.0
TTFT_GOAL_MS = 5.0
MARKER = b"tok0"


# ---- the tool server ----------------------------------------------------------------------


def tool_app(count: int) -> Any:
    """An OpenAPI tool server: `ping` (no arguments, what the model calls) and count - 1
    more operations with a few parameters each, as a real server's list looks."""
    from fastapi import FastAPI

    app = FastAPI(title="Bench tools")

    @app.get("/ping", operation_id="ping", summary="Answers at once.")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    def add(index: int) -> None:
        async def lookup(city: str, days: int = 1, units: str = "metric") -> dict[str, Any]:
            return {"city": city, "days": days, "units": units}

        app.get(
            f"/op{index}",
            operation_id=f"lookup_{index:02d}",
            summary=f"Lookup number {index} for a city, over some days.",
        )(lookup)

    for index in range(1, count):
        add(index)
    return app


def serve(port: int, count: int) -> None:
    import uvicorn

    print(f"http://127.0.0.1:{port}", flush=True)
    uvicorn.run(tool_app(count), host="127.0.0.1", port=port, log_level="warning")


class ToolServer(ServerProcess):
    def __init__(self, count: int) -> None:
        port = free_port()
        super().__init__("bench.tools", "serve", "--port", str(port), "--tools", str(count))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=0.5).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise SystemExit("the tool server did not start")


# ---- one exchange -------------------------------------------------------------------------


def read_stream(response: httpx.Response, start: float) -> tuple[float, list[dict[str, Any]]]:
    """Time to the first token, and the streamed tool calls (merged by index)."""
    ttft = 0.0
    calls: dict[int, dict[str, Any]] = {}
    for line in response.iter_lines():
        if not ttft and MARKER in line.encode():
            ttft = time.perf_counter() - start
        if not line.startswith("data: {"):
            continue
        for choice in json.loads(line[6:]).get("choices") or []:
            for piece in (choice.get("delta") or {}).get("tool_calls") or []:
                slot = calls.setdefault(piece.get("index", 0), {"id": "", "name": "", "args": ""})
                function = piece.get("function") or {}
                slot["id"] = piece.get("id") or slot["id"]
                slot["name"] = function.get("name") or slot["name"]
                slot["args"] += function.get("arguments") or ""
    return ttft, [calls[i] for i in sorted(calls)]


class Bench:
    def __init__(self, daemon: DaemonProc, key: str, model_url: str, tools_url: str) -> None:
        self.client = httpx.Client(timeout=60)
        self.daemon_url = f"{daemon.base_url}/api/chat/completions"
        self.auth = {"Authorization": f"Bearer {key}"}
        self.model_url = f"{model_url}/chat/completions"
        self.tools_url = tools_url
        specs = self.client.get(
            f"{daemon.base_url}/api/v1/tools/id/server:bench/specs", headers=self.auth
        ).json()["specs"]
        self.specs = [{"type": "function", "function": s} for s in specs]

    def check(self, rounds: int) -> None:
        """The daemon really runs the rounds: a call and a result event per round."""
        body = {"model": TOOLS_MODEL, "messages": QUESTION, "stream": True}
        body["tool_ids"] = ["server:bench"]
        with self.client.stream("POST", self.daemon_url, json=body, headers=self.auth) as r:
            events = [line for line in r.iter_lines() if line.startswith(": webui.tool ")]
        results = [e for e in events if '"function_call_output"' in e and '"completed"' in e]
        assert len(results) == rounds, events

    def through_daemon(self, model: str, tools: bool) -> tuple[float, float]:
        """(ttft, total) of one streamed answer through the daemon."""
        body: dict[str, Any] = {"model": model, "messages": QUESTION, "stream": True}
        if tools:
            body["tool_ids"] = ["server:bench"]
        start = time.perf_counter()
        with self.client.stream("POST", self.daemon_url, json=body, headers=self.auth) as r:
            r.raise_for_status()
            ttft, _ = read_stream(r, start)
        return ttft, time.perf_counter() - start

    def direct(self, tools: bool) -> tuple[float, float]:
        """The same exchange run here: the model asked, each call made, results sent back."""
        messages: list[dict[str, Any]] = list(QUESTION)
        start = time.perf_counter()
        while True:
            body: dict[str, Any] = {"model": TOOLS_MODEL, "messages": messages, "stream": True}
            if tools:
                body["tools"] = self.specs
            with self.client.stream("POST", self.model_url, json=body) as r:
                r.raise_for_status()
                ttft, calls = read_stream(r, start)
            if not calls:
                return ttft, time.perf_counter() - start
            asked = [
                {
                    "id": c["id"],
                    "type": "function",
                    "function": {"name": c["name"], "arguments": c["args"]},
                }
                for c in calls
            ]
            messages.append({"role": "assistant", "content": None, "tool_calls": asked})
            for call in calls:
                answer = self.client.get(f"{self.tools_url}/ping")
                messages.append(
                    {"role": "tool", "tool_call_id": call["id"], "content": answer.text}
                )


def p50(samples: list[tuple[float, float]], which: int) -> float:
    return statistics.median(s[which] for s in samples) * 1000


def interleaved(
    variants: dict[str, Callable[[], tuple[float, float]]], runs: int
) -> dict[str, list[tuple[float, float]]]:
    for run in variants.values():  # warm-up: imports, connections, model lists
        for _ in range(3):
            run()
    got: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, run in variants.items():
            got[name].append(run())
    return got


# ---- the run ------------------------------------------------------------------------------


def start(
    tmp: Path, tools_model_url: str, plain_model_url: str, tool_server: str
) -> tuple[DaemonProc, str]:
    env = {
        "ENABLE_OLLAMA_API": "false",
        "OPENAI_API_BASE_URLS": f"{tools_model_url};{plain_model_url}",
        "OPENAI_API_KEYS": "sk-bench;sk-bench",
        "WEBUI_LOG_LEVEL": "warning",
        "MODELS_CACHE_TTL": "3600",
        "TOOL_SERVER_CONNECTIONS": json.dumps(
            [
                {
                    "url": tool_server,
                    "path": "openapi.json",
                    "config": {"enable": True},
                    "info": {"id": "bench", "name": "Bench tools"},
                }
            ]
        ),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command")
    served = sub.add_parser("serve", help="run the bench tool server (used by the benchmark)")
    served.add_argument("--port", type=int, required=True)
    served.add_argument("--tools", type=int, default=20)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tools", type=int, default=20)
    args = parser.parse_args()
    if args.command == "serve":
        serve(args.port, args.tools)
        return

    base = ("tests.standins", "openai", "--tokens", "5")
    tools_model = ServerProcess(*base, "--model", TOOLS_MODEL, "--tool-rounds", str(args.rounds))
    plain_model = ServerProcess(*base, "--model", PLAIN_MODEL)
    tool_server = ToolServer(args.tools)
    tmp = Path(tempfile.mkdtemp(prefix="bench-tools-"))
    daemon, key = start(tmp, tools_model.url, plain_model.url, tool_server.url)
    try:
        bench = Bench(daemon, key, tools_model.url, tool_server.url)
        assert len(bench.specs) == args.tools, bench.specs
        bench.check(args.rounds)
        got = interleaved(
            {
                "daemon, tools": lambda: bench.through_daemon(TOOLS_MODEL, True),
                "daemon, plain": lambda: bench.through_daemon(TOOLS_MODEL, False),
                "direct, tools": lambda: bench.direct(True),
                "direct, plain": lambda: bench.direct(False),
                "first token, tools": lambda: bench.through_daemon(PLAIN_MODEL, True),
                "first token, none": lambda: bench.through_daemon(PLAIN_MODEL, False),
            },
            args.runs,
        )
    finally:
        daemon.stop()
        for proc in (tools_model, plain_model, tool_server):
            proc.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    total = {name: p50(samples, 1) for name, samples in got.items()}
    ttft = {name: p50(samples, 0) for name, samples in got.items()}
    daemon_rounds = total["daemon, tools"] - total["daemon, plain"]
    direct_rounds = total["direct, tools"] - total["direct, plain"]
    per_round = (daemon_rounds - direct_rounds) / args.rounds
    extra_ttft = ttft["first token, tools"] - ttft["first token, none"]
    print(
        f"runs: {args.runs} (p50, interleaved), rounds: {args.rounds}, tools offered: {args.tools}"
    )
    print(f"python: {sys.version.split()[0]}")
    print(f"{'':44} {'p50 ms':>8}")
    for name in ("daemon, tools", "daemon, plain", "direct, tools", "direct, plain"):
        print(f"{'answer total: ' + name:44} {total[name]:8.2f}")
    print(f"{'rounds through the daemon':44} {daemon_rounds:8.2f}")
    print(f"{'rounds run directly (model + tool time)':44} {direct_rounds:8.2f}")
    ratio = daemon_rounds / direct_rounds if direct_rounds > 0 else float("nan")
    print(f"{'daemon / direct (the rounds)':44} {ratio:8.2f}x")
    verdict = "ok" if per_round <= ROUND_GOAL_MS else "MISSED"
    goal = f"goal <= {ROUND_GOAL_MS:g} ms: {verdict}"
    print(f"{'daemon cost per tool round':44} {per_round:8.2f}   {goal}")
    for name in ("first token, none", "first token, tools"):
        print(f"{'TTFT ' + name:44} {ttft[name]:8.2f}")
    ratio = ttft["first token, tools"] / ttft["first token, none"]
    print(f"{f'TTFT with {args.tools} tools / none':44} {ratio:8.2f}x")
    verdict = "ok" if extra_ttft <= TTFT_GOAL_MS else "MISSED"
    goal = f"goal <= +{TTFT_GOAL_MS:g} ms: {verdict}"
    print(f"{f'TTFT added by {args.tools} tools':44} {extra_ttft:8.2f}   {goal}")


if __name__ == "__main__":
    main()
