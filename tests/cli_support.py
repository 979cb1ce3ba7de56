"""Helpers for the CLI tests (no tests here): run `webui` in a subprocess with private dirs."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PASSWORD = "pw-123456"

# Modules the CLI must not import on its normal path (architecture.md, section 3).
HEAVY = (
    "textual",
    "fastapi",
    "aiosqlite",
    "lancedb",
    "fastembed",
    "uvicorn",
    "starlette",
    "mcp",
    "httpx2",
)


def cli_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment of a person whose home, config, data and runtime dirs are all in `tmp`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WEBUI_", "XDG_", "PYTHON_KEYRING")) and k not in ("DATA_DIR", "HOME")
    }
    runtime = tmp / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)  # platformdirs accepts XDG_RUNTIME_DIR only with mode 0700
    env |= {
        "HOME": str(tmp / "home"),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        # No desktop keyring in tests: exercise the file fallback.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "COLUMNS": "200",
    }
    env.update(extra)
    return env


def webui(
    *args: str, env: dict[str, str], stdin: str = "", timeout: float = 40
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion (bounded) and return its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "webui_tui.cli.main", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The error contract: exactly one `webui: ...` line on stderr and no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("webui: "), lines[0]
    return lines[0]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie nobody reaps has exited all the same


def stop_pid(pid: int, timeout: float = 15) -> None:
    """Stop a daemon we did not start as a child (auto-started ones belong to init)."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if not _alive(pid):
            return


def lock_pid(data_dir: Path) -> int | None:
    """The pid a daemon wrote into `<data dir>/daemon.lock` ("pid N, socket ...")."""
    try:
        text = (data_dir / "daemon.lock").read_text()
    except OSError:
        return None
    first = text.split(",")[0].split()
    return int(first[1]) if len(first) == 2 and first[0] == "pid" and first[1].isdigit() else None
