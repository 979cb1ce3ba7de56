"""Start-up benchmark: daemon start to /health, idle RSS, `webui status` and `webui --version`.

Run: python -m bench.startup [--runs 10]
Each figure is printed beside a baseline measured in the same run (the bare import floor).
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.installed import compile_sources

PY = sys.executable


def _wall(cmd: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def _health_ok(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(str(sock))
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def daemon_start(env: dict[str, str], runs: int) -> tuple[list[float], float]:
    """Seconds from exec to the first 200 on /health, and the idle RSS of the last run."""
    times, rss = [], float("nan")
    for _ in range(runs):
        tmp = Path(tempfile.mkdtemp())
        sock = tmp / "webui.sock"
        cmd = [PY, "-m", "webui_daemon", "--socket", str(sock), "--data-dir", str(tmp / "d")]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = start + 30
        while not _health_ok(sock):
            if time.perf_counter() > deadline or proc.poll() is not None:
                raise SystemExit("daemon did not start")
            time.sleep(0.002)
        times.append(time.perf_counter() - start)
        time.sleep(1.0)  # idle
        rss = _rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return times, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    print(compile_sources())
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBUI_")}
    env["WEBUI_NO_AUTOSTART"] = "1"

    floor_daemon = _wall([PY, "-c", "import fastapi, uvicorn, aiosqlite"], env, args.runs)
    start_times, rss = daemon_start(env, args.runs)

    tmp = Path(tempfile.mkdtemp())
    sock = tmp / "webui.sock"
    proc = subprocess.Popen(
        [PY, "-m", "webui_daemon", "--socket", str(sock), "--data-dir", str(tmp / "d")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not _health_ok(sock):
        time.sleep(0.01)
    cli_env = env | {"WEBUI_SOCKET": str(sock)}
    webui = [PY, "-m", "webui_tui.cli.main"]
    try:
        floor_cli = _wall([PY, "-c", "import typer, httpx, rich"], cli_env, args.runs)
        status = _wall([*webui, "status"], cli_env, args.runs)
        version = _wall([*webui, "--version"], cli_env, args.runs)
        floor_py = _wall([PY, "-c", "pass"], cli_env, args.runs)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)

    med = statistics.median
    rows = [
        (
            "daemon start -> /health 200",
            med(start_times),
            "import fastapi+uvicorn+aiosqlite",
            med(floor_daemon),
            0.8,
        ),
        (
            "webui status (running daemon)",
            med(status),
            "import typer+httpx+rich",
            med(floor_cli),
            0.35,
        ),
        ("webui --version", med(version), "python -c pass", med(floor_py), 0.15),
    ]
    print(f"runs per figure: {args.runs}; python: {sys.version.split()[0]}")
    print(f"{'measure':34} {'median s':>9} {'goal s':>7}  {'baseline':34} {'s':>6} {'ratio':>6}")
    for name, value, base_name, base, goal in rows:
        print(f"{name:34} {value:9.3f} {goal:7.2f}  {base_name:34} {base:6.3f} {value / base:6.2f}")
    print(f"{'daemon idle RSS':34} {rss:8.1f}M {70:6d}M")


if __name__ == "__main__":
    main()
