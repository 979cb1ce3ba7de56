"""Auto-start on the per-user socket, and the errors when no daemon answers."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.cli_support import cli_env, lock_pid, one_error_line, stop_pid, webui
from tests.daemon_proc import daemon_env


def _private_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No WEBUI_SOCKET: the default per-user socket, inside tmp_path's runtime dir."""
    env = cli_env(tmp_path, **({"DATA_DIR": str(tmp_path / "data")} | extra))
    # A fixed secret: the daemon would otherwise write one, which is fine but slower.
    env["WEBUI_SECRET_KEY"] = daemon_env()["WEBUI_SECRET_KEY"]
    return env


def test_no_daemon_and_no_autostart_is_one_line_exit_2(tmp_path: Path) -> None:
    env = _private_env(tmp_path)
    socket = Path(env["XDG_RUNTIME_DIR"]) / "webui" / "webui.sock"
    result = webui("--no-autostart", "users", "list", env=env)
    assert result.returncode == 2
    line = one_error_line(result)
    assert f"no webui daemon answers on {socket}" in line
    assert "webui serve" in line

    by_env = webui("status", "--json", env=env | {"WEBUI_NO_AUTOSTART": "1"})
    assert by_env.returncode == 2
    one_error_line(by_env)
    report = json.loads(by_env.stdout)
    assert report["reachable"] is False and report["address"] == str(socket)
    assert not (tmp_path / "data" / "daemon.log").exists()


def test_explicit_socket_is_never_autostarted(tmp_path: Path) -> None:
    env = _private_env(tmp_path, WEBUI_SOCKET=str(tmp_path / "elsewhere.sock"))
    result = webui("status", env=env)
    assert result.returncode == 2
    assert "elsewhere.sock" in one_error_line(result)
    assert not (tmp_path / "data").exists()


def test_a_command_starts_the_daemon_once(tmp_path: Path) -> None:
    env = _private_env(tmp_path)
    data = tmp_path / "data"
    socket = Path(env["XDG_RUNTIME_DIR"]) / "webui" / "webui.sock"
    report: dict[str, Any] = {}
    try:
        first = webui("status", "--json", env=env, timeout=60)
        assert first.returncode == 0, first.stderr
        assert f"webui: started the daemon (log: {data / 'daemon.log'})" in first.stderr
        report = json.loads(first.stdout)
        assert report["address"] == str(socket) and report["source"] == "default"
        assert report["data_dir"] == str(data)
        assert report["pid"] == lock_pid(data)
        assert report["pid"] != os.getpid()
        assert (data / "daemon.log").exists()

        second = webui("users", "list", "--json", env=env)
        assert second.returncode == 0, second.stderr
        assert "started" not in second.stderr  # already running
    finally:
        pid = lock_pid(data) or (report["pid"] if report else None)
        if pid is not None:
            stop_pid(pid)
    assert not socket.exists()  # it shut down cleanly


def test_a_daemon_that_cannot_start_is_reported(tmp_path: Path) -> None:
    env = _private_env(tmp_path, JWT_EXPIRES_IN="whenever")
    result = webui("status", env=env, timeout=60)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "could not start the daemon" in line
    assert f"log: {tmp_path / 'data' / 'daemon.log'}" in line

    blocked = _private_env(tmp_path, DATA_DIR=str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("not a folder")
    result = webui("status", env=blocked, timeout=60)
    assert result.returncode == 2
    assert "could not start the daemon" in one_error_line(result)


def test_serve_runs_the_daemon_in_the_foreground(tmp_path: Path) -> None:
    env = _private_env(tmp_path)
    socket = tmp_path / "serve.sock"
    args = ["serve", "--socket", str(socket), "--data-dir", str(tmp_path / "d")]
    cmd = [sys.executable, "-m", "webui_tui.cli.main", *args, "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not socket.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        status = webui("status", "--json", env=env | {"WEBUI_SOCKET": str(socket)})
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert not socket.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        assert proc.stdout is not None
        proc.stdout.close()

    bad = webui("serve", "--port", "many", env=env)
    assert bad.returncode == 1
    assert "--port" in one_error_line(bad)
