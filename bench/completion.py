"""Shell completion benchmark: how long `webui` takes to answer one Tab, against a real daemon.

Run: python -m bench.completion [--runs 20] [--chats 1000]

Each figure is the median wall time (and CPU time) of a `webui` process answering bash's
completion request (the protocol of `webui completion bash`), beside baselines measured in the
same run, interleaved: `webui --version` (the entry point's floor), `python -c "import typer,
httpx, rich"` (the CLI's import floor) and `webui status`. Answers from the daemon: model ids
(a stand-in Ollama), --chats chat ids, knowledge base names; also a command name (no daemon
asked) and a chat id with no daemon running (no candidates, and nothing started).
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.daemon_proc import start_daemon

from bench.installed import compile_sources
from bench.stream import MODEL, StandInProcess

PY = sys.executable
WEBUI = [PY, "-m", "webui_tui.cli.main"]
GOAL_S = 0.3  # one Tab
VERSION_GOAL_S = 0.15


Command = tuple[list[str], dict[str, str]]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def interleaved(commands: dict[str, Command], runs: int) -> dict[str, tuple[float, float]]:
    """The median wall time and CPU time (user + system) of each command, run in turn `runs`
    times over: a slow minute of a shared machine then weighs on every figure alike. The CPU
    time is what the command costs when it has a processor to itself."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (cmd, env) in commands.items():
            cpu, start = _children_cpu(), time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            times[name].append((time.perf_counter() - start, _children_cpu() - cpu))
            if done.returncode != 0:
                raise SystemExit(f"{name}: {cmd} failed: {done.stderr}")
    return {
        name: (statistics.median(t[0] for t in got), statistics.median(t[1] for t in got))
        for name, got in times.items()
    }


def tab(line: str, env: dict[str, str]) -> dict[str, str]:
    """The environment of bash asking `webui` to complete `line`."""
    return env | {
        "_WEBUI_COMPLETE": "complete_bash",
        "_WEBUI_COMPLETE_LINE": line,
        "_WEBUI_COMPLETE_BREAKS": " \t\n\"'><=;|&(:",
    }


def candidates(line: str, env: dict[str, str]) -> int:
    out = subprocess.run(WEBUI, env=tab(line, env), capture_output=True, text=True, check=True)
    return len([x for x in out.stdout.splitlines() if x])


def seed(daemon_socket: Path, chats: int) -> None:
    import httpx

    transport = httpx.HTTPTransport(uds=str(daemon_socket))
    with httpx.Client(transport=transport, base_url="http://webui", timeout=120) as c:
        for start in range(0, chats, 250):
            items = [
                {"chat": {"title": f"Chat {i}", "models": [MODEL], "history": {"messages": {}}}}
                for i in range(start, min(start + 250, chats))
            ]
            c.post("/api/v1/chats/import", json={"chats": items}).raise_for_status()
        for name in ("Atlas", "Field notes", "Recipes"):
            c.post("/api/v1/knowledge/create", json={"name": name}).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--chats", type=int, default=1000)
    args = parser.parse_args()
    print(compile_sources())

    standin = StandInProcess(5, 0.0)
    tmp = Path(tempfile.mkdtemp(prefix="bench-completion-"))
    daemon_env = {
        "OLLAMA_BASE_URLS": standin.url,
        "ENABLE_OPENAI_API": "false",
        "WEBUI_LOG_LEVEL": "warning",
    }
    daemon = start_daemon(tmp, env=daemon_env)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WEBUI_", "DATA_DIR"))}
    env = base | {"WEBUI_SOCKET": str(daemon.socket_path), "WEBUI_NO_AUTOSTART": "1"}
    # No daemon: the per-user socket of an empty runtime dir; auto-start allowed (and unused).
    runtime = tmp / "run"
    runtime.mkdir(mode=0o700)
    idle = base | {"XDG_RUNTIME_DIR": str(runtime), "DATA_DIR": str(tmp / "idle-data")}
    tabs = {
        "a command (`webui ch`)": ("webui ch", env),
        "model ids (`webui chat -m `)": ("webui chat -m ", env),
        f"chat ids, {args.chats} chats (`chats show `)": ("webui chats show ", env),
        "knowledge bases (`kb show `)": ("webui kb show ", env),
        "chat ids, no daemon running": ("webui chats show ", idle),
    }
    try:
        seed(daemon.socket_path, args.chats)
        counts = {name: candidates(line, where) for name, (line, where) in tabs.items()}
        commands: dict[str, Command] = {
            "version": ([*WEBUI, "--version"], env),
            "import": ([PY, "-c", "import typer, httpx, rich"], env),
            "status": ([*WEBUI, "status"], env),
        }
        commands |= {name: (WEBUI, tab(line, where)) for name, (line, where) in tabs.items()}
        medians = interleaved(commands, args.runs)
        assert not (tmp / "idle-data").exists(), "completion started a daemon"
    finally:
        daemon.stop()
        standin.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    version, floor, status = (medians[k] for k in ("version", "import", "status"))
    print(f"runs per figure: {args.runs}, interleaved; python: {sys.version.split()[0]}")
    print(
        f"{'':44} {'wall s':>7} {'cpu s':>6} {'goal s':>6} {'/import':>7} {'/status':>7} {'n':>4}"
    )
    rows = [
        ("`webui --version`", version, VERSION_GOAL_S, None),
        ("`import typer, httpx, rich` (import floor)", floor, None, None),
        ("`webui status`", status, 0.35, None),
        *((f"Tab: {name}", medians[name], GOAL_S, counts[name]) for name in tabs),
    ]
    for name, (wall_s, cpu_s), goal, count in rows:
        print(
            f"{name:44} {wall_s:7.3f} {cpu_s:6.3f} {goal or float('nan'):6.2f} "
            f"{wall_s / floor[0]:7.2f} {wall_s / status[0]:7.2f} "
            f"{'' if count is None else count:>4}"
        )


if __name__ == "__main__":
    main()
