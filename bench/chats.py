"""Chat storage and `webui chat` benchmark, against a real daemon on its Unix socket.

Run: python -m bench.chats [--chats 10000] [--runs 30]

Measured in one run, each beside a baseline taken the same way: create a chat
(`POST /api/v1/chats/new`), list 1,000 chats (`GET /api/v1/chats/?page=`... all 1,000 of one
user), search 10,000 chats (`GET /api/v1/chats/search?text=`, a rare and a common word), each
p50 over --runs requests next to `GET /health` (the HTTP floor); and the wall time of
`webui chat --temporary` against a stand-in provider next to the provider answering directly
and next to `python -c "import typer, httpx, rich"` (the CLI's import floor).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from tests.daemon_proc import start_daemon

from bench.stream import MODEL, StandInProcess

WORDS = ["alpha", "delta", "harbor", "quartz", "lantern", "meadow", "violet", "ember", "tundra"]


def p50_ms(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def chat_document(i: int, rng: random.Random) -> dict[str, Any]:
    user_id, answer_id = str(uuid.uuid4()), str(uuid.uuid4())
    words = " ".join(rng.choice(WORDS) for _ in range(12))
    rare = f" zebra{i}" if i % 1000 == 0 else ""
    messages = {
        user_id: {
            "id": user_id,
            "parentId": None,
            "childrenIds": [answer_id],
            "role": "user",
            "content": f"Question {i}: {words}{rare}",
            "timestamp": 1_700_000_000 + i,
        },
        answer_id: {
            "id": answer_id,
            "parentId": user_id,
            "childrenIds": [],
            "role": "assistant",
            "content": f"Answer {i}: {words}",
            "timestamp": 1_700_000_001 + i,
        },
    }
    return {
        "chat": {
            "title": f"Chat {i} {rng.choice(WORDS)}",
            "history": {"messages": messages, "currentId": answer_id},
        }
    }


def seed(client: httpx.Client, count: int) -> None:
    rng = random.Random(5)
    batch = 500
    for start in range(0, count, batch):
        chats = [chat_document(i, rng) for i in range(start, min(count, start + batch))]
        r = client.post("/api/v1/chats/import", json={"chats": chats})
        r.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    standin = StandInProcess(20, 0.0)
    tmp = Path(tempfile.mkdtemp(prefix="bench-chats-"))
    env = {
        "OLLAMA_BASE_URLS": standin.url,
        "ENABLE_OPENAI_API": "false",
        "WEBUI_LOG_LEVEL": "warning",
        # Imports of 500 chats at a time are bigger than the default JSON body limit.
        "WEBUI_MAX_BODY_BYTES": str(64 * 1024 * 1024),
    }
    daemon = start_daemon(tmp, env=env)
    rows: list[tuple[str, float, str, float, float]] = []
    try:
        with daemon.unix_client(timeout=120) as c:
            health = p50_ms(lambda: c.get("/health"), args.runs)
            new_body = {"chat": {"title": "New Chat", "history": {"messages": {}}}}
            create = p50_ms(lambda: c.post("/api/v1/chats/new", json=new_body), args.runs)
            rows.append(("create a chat", create, "GET /health", health, 2))
            seed(c, 1000 - args.runs - 2)  # one user's list of 1,000 chats
            total = len(c.get("/api/v1/chats/").json())
            listing = p50_ms(lambda: c.get("/api/v1/chats/"), args.runs)
            rows.append((f"list {total} chats", listing, "GET /health", health, 5))
            seed(c, args.chats - total)
            rare = p50_ms(lambda: c.get("/api/v1/chats/search?text=zebra5000"), args.runs)
            common = p50_ms(lambda: c.get("/api/v1/chats/search?text=harbor"), args.runs)
            found = len(c.get("/api/v1/chats/search?text=harbor").json())
            rows.append((f"search {args.chats} chats, rare word", rare, "GET /health", health, 20))
            rows.append(
                (f"search, common word ({found} hits/page)", common, "GET /health", health, 20)
            )

        cli_env = os.environ | {"WEBUI_SOCKET": str(daemon.socket_path), "NO_COLOR": "1"}
        webui = [sys.executable, "-m", "webui_tui.cli.main"]

        def cli_chat() -> None:
            subprocess.run(
                [*webui, "chat", "--temporary", "-m", MODEL, "hi"],
                env=cli_env,
                check=True,
                capture_output=True,
            )

        def direct() -> None:
            body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
            httpx.post(f"{standin.url}/api/chat", json=body, timeout=30).read()

        def floor() -> None:
            subprocess.run([sys.executable, "-c", "import typer, httpx, rich"], check=True)

        runs = max(5, args.runs // 3)
        chat_ms, direct_ms, floor_ms = (p50_ms(f, runs) for f in (cli_chat, direct, floor))
        rows.append(("webui chat --temporary (wall)", chat_ms, "provider directly", direct_ms, 0))
        overhead = chat_ms - direct_ms
    finally:
        daemon.stop()
        standin.stop()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, p50 of {args.runs} runs")
    print(f"{'measure':40} {'ms':>8} {'goal':>6}  {'baseline':20} {'ms':>7}")
    for name, value, base_name, base, goal in rows:
        goal_text = f"{goal:>6}" if goal else "     -"
        print(f"{name:40} {value:8.2f} {goal_text}  {base_name:20} {base:7.2f}")
    print(
        f"webui chat overhead over the provider: {overhead:.0f} ms (goal <= 350 ms; "
        f"import floor of typer+httpx+rich: {floor_ms:.0f} ms)"
    )


if __name__ == "__main__":
    main()
