"""TUI benchmark: first paint, opening a 2,000-message chat, CPU while streaming, key latency.

Run: python -m bench.tui [--runs 5]

A stand-in Ollama runs in its own process (1,000 tokens at 100 tok/s) and the daemon in
another. First paint: `webui` started in tmux (80×24) until the chat screen is on the pane,
beside `webui --version` (the interpreter's floor). The other figures drive the app in this
process headless (Textual's Pilot): opening a 2,000-message chat (request to last page
mounted); the CPU time of this process (app + client) while 1,000 tokens stream at 100 tok/s,
as a share of one core, beside the same process idle for as long; and keypress-to-screen
latency (a key pressed in the composer until it shows) while streaming, beside idle.
"""

import argparse
import asyncio
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.daemon_proc import DaemonProc, start_daemon
from tests.standins import provider_env
from tests.tui_support import MODEL, make_app, until

from webui_tui.app.widgets.message_view import MessageView

TOKENS, RATE = 1000, 100.0


def standin_process() -> tuple["subprocess.Popen[str]", str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.standins",
            "ollama",
            "--tokens",
            str(TOKENS),
            "--token-delay",
            str(1 / RATE),
            "--model",
            MODEL,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def first_paint(daemon: DaemonProc, tmp: Path, runs: int) -> tuple[float, float] | None:
    if shutil.which("tmux") is None:
        return None
    env = {
        "WEBUI_SOCKET": str(daemon.socket_path),
        "WEBUI_NO_AUTOSTART": "1",
        "TERM": "xterm-256color",
        "HOME": str(tmp),
        "PATH": "/usr/bin:/bin",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())

    def timed(args: str, wanted: str | None) -> float:
        command = f"env -i {exports} {shlex.quote(sys.executable)} -m webui_tui.cli.main {args}"
        # A fresh tmux server per run: a new session on a server still shutting down from
        # the run before fails ("server exited unexpectedly") or waits for it.
        base = ["tmux", "-L", f"bench-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
        start = time.perf_counter()
        if wanted is None:
            subprocess.run(command, shell=True, check=True, capture_output=True)
            return time.perf_counter() - start
        subprocess.run(
            [*base, "new-session", "-d", "-s", "b", "-x", "80", "-y", "24", command], check=True
        )
        try:
            while time.perf_counter() - start < 20:
                pane = subprocess.run(
                    [*base, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True
                ).stdout
                if wanted in pane:
                    return time.perf_counter() - start
                time.sleep(0.005)
            raise RuntimeError("the TUI did not paint within 20 s")
        finally:
            subprocess.run([*base, "kill-server"], capture_output=True, check=False)

    paint = statistics.median(timed("", "Ask anything") for _ in range(runs))
    floor = statistics.median(timed("--version", None) for _ in range(runs))
    return paint, floor


def long_chat(daemon: DaemonProc) -> str:
    messages: dict[str, Any] = {}
    for i in range(2000):
        messages[f"m{i}"] = {
            "id": f"m{i}",
            "parentId": f"m{i - 1}" if i else None,
            "childrenIds": [f"m{i + 1}"] if i < 1999 else [],
            "role": "user" if i % 2 == 0 else "assistant",
            "content": f"Message {i} with **some** Markdown and `code`.",
        }
    doc = {
        "title": "Long",
        "models": [MODEL],
        "history": {"messages": messages, "currentId": "m1999"},
    }
    with daemon.unix_client(timeout=30) as c:
        return str(c.post("/api/v1/chats/new", json={"chat": doc}).json()["id"])


async def in_app(daemon: DaemonProc, tmp: Path, chat_id: str, runs: int) -> dict[str, float]:
    app = make_app(daemon, tmp)
    out: dict[str, float] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        screen: Any = app.screen
        await until(pilot, lambda: screen.model)
        opens = []
        for _ in range(runs):
            start = time.perf_counter()
            screen.open_chat(chat_id)
            await until(
                pilot,
                lambda: (
                    len(screen.query(MessageView)) == 40
                    and screen.chat is not None
                    and screen.chat.id == chat_id
                ),
            )
            opens.append(time.perf_counter() - start)
            screen.action_new_chat()
            await pilot.pause()
        out["open"] = statistics.median(opens)

        composer = screen.query_one("#composer")

        async def key_latency() -> float:
            composer.focus()
            before = composer.text
            start = time.perf_counter()
            await pilot.press("x")
            await until(pilot, lambda: composer.text != before)
            await pilot.pause()
            return time.perf_counter() - start

        out["key_idle"] = statistics.median([await key_latency() for _ in range(10)])
        composer.text = ""
        idle_cpu, idle_wall = time.process_time(), time.perf_counter()
        await asyncio.sleep(3)
        out["cpu_idle"] = (time.process_time() - idle_cpu) / (time.perf_counter() - idle_wall)

        await pilot.press(*"go", "enter")
        await until(pilot, lambda: screen.streaming)
        cpu, wall = time.process_time(), time.perf_counter()
        latencies = []
        while screen.streaming:
            await asyncio.sleep(0.5)
            if screen.streaming:
                latencies.append(await key_latency())
        out["cpu_stream"] = (time.process_time() - cpu) / (time.perf_counter() - wall)
        out["stream_s"] = time.perf_counter() - wall
        out["key_stream"] = statistics.median(latencies) if latencies else float("nan")
        out["flushes"] = float(screen.conversation.flushes)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tui")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    standin, url = standin_process()
    tmp = Path(tempfile.mkdtemp(prefix="bench-tui-"))
    daemon = start_daemon(tmp, env=provider_env(ollama=[url], ENABLE_TITLE_GENERATION="false"))
    try:
        chat_id = long_chat(daemon)
        paint = first_paint(daemon, tmp, args.runs)
        figures = asyncio.run(in_app(daemon, tmp, chat_id, args.runs))
    finally:
        daemon.stop()
        standin.terminate()
    if paint is None:
        print("first paint: skipped (no tmux)")
    else:
        print(
            f"first paint of `webui` (tmux 80x24, p50 of {args.runs}): {paint[0]:.3f} s "
            f"(goal <= 0.6 s; `webui --version` floor {paint[1]:.3f} s)"
        )
    print(
        f"open a 2,000-message chat (p50 of {args.runs}): {figures['open']:.3f} s (goal <= 0.5 s)"
    )
    print(
        f"CPU while streaming {TOKENS} tokens at {RATE:.0f} tok/s: "
        f"{100 * figures['cpu_stream']:.1f} % of a core over {figures['stream_s']:.1f} s "
        f"(goal <= 20 %; idle {100 * figures['cpu_idle']:.1f} %; {figures['flushes']:.0f} redraws)"
    )
    print(
        f"keypress to screen: {1000 * figures['key_stream']:.1f} ms while streaming "
        f"(idle {1000 * figures['key_idle']:.1f} ms)"
    )


if __name__ == "__main__":
    main()
