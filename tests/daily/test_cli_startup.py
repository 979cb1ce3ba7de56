"""What `webui status` leaves out at start (docs/benchmarks.md, issue 13): httpx's transport
stack, since its few short requests go over the standard library's HTTP on the socket."""

import subprocess
import sys
from pathlib import Path

from tests.cli_chat_support import chat_env
from tests.daemon_proc import DaemonProc

# Imported by httpx's own transport on its first request (~40 ms); status has no use for them.
TRANSPORT_STACK = ("httpcore", "anyio", "h11")


def _imported(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the CLI with `-X importtime` and return the modules it imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "webui_tui.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=40,
        check=False,
    )
    modules = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    return result, modules


def test_status_skips_httpx_transport_stack(daemon: DaemonProc, tmp_path: Path) -> None:
    env = chat_env(daemon, tmp_path)
    result, modules = _imported(env, "status")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "running" in result.stdout
    assert not {m for m in modules if m.split(".")[0] in TRANSPORT_STACK}
