"""`webui daemon start|stop|restart|logs` on real daemons, the shutdown route behind `stop`, the
uptime and memory `webui status` shows, and `webui serve` naming `webui daemon stop`."""

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli_support import cli_env, one_error_line, stop_pid, webui
from tests.daemon_proc import daemon_env, start_daemon
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import bearer, signup, tcp, unix
from webui_daemon.schemas.system import DaemonInfo
from webui_tui.cli import daemon_files
from webui_tui.cli.status import duration

MODEL = "standin:latest"
FULL = "one two three four five six seven eight nine ten"


def _private_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No WEBUI_SOCKET: the per-user socket in tmp_path's runtime dir, the data in tmp_path."""
    env = cli_env(tmp_path, **({"DATA_DIR": str(tmp_path / "data")} | extra))
    env["WEBUI_SECRET_KEY"] = daemon_env()["WEBUI_SECRET_KEY"]
    return env


def _socket(env: dict[str, str]) -> Path:
    return Path(env["XDG_RUNTIME_DIR"]) / "webui" / "webui.sock"


def _status(env: dict[str, str]) -> dict[str, Any]:
    result = webui("status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.fixture
def cleanup(tmp_path: Path) -> Iterator[None]:
    """Whatever a test leaves running in tmp_path/data is stopped (only while it holds the lock:
    a pid read from a stale lock file may be someone else's by now)."""
    yield
    holder = daemon_files.lock_holder(tmp_path / "data")
    if holder is not None:
        stop_pid(holder.pid)


def test_start_status_logs_restart_stop(tmp_path: Path, cleanup: None) -> None:
    env = _private_env(tmp_path)
    data, socket = tmp_path / "data", _socket(env)

    idle = webui("daemon", "stop", env=env)
    assert idle.returncode == 0, idle.stderr
    assert f"not running (nothing answers on {socket})" in idle.stdout

    started = webui("daemon", "start", env=env, timeout=60)
    assert started.returncode == 0, started.stderr
    holder = daemon_files.lock_holder(data)
    assert holder is not None and holder.socket == str(socket)
    assert f"Started the webui daemon (pid {holder.pid}), listening on {socket}." in started.stdout
    assert str(data / "daemon.log") in started.stdout
    assert started.stderr == ""  # said on stdout, not as the auto-start's remark

    again = webui("daemon", "start", "--json", env=env)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["started"] is False and report["pid"] == holder.pid
    assert report["socket"] == str(socket) and report["log"] == str(data / "daemon.log")
    assert "already running" in webui("daemon", "start", env=env).stdout

    # `webui status`: uptime and memory.
    time.sleep(1.1)
    status = webui("status", env=env)
    assert status.returncode == 0, status.stderr
    assert re.search(r"^  uptime    \d+ s$", status.stdout, re.MULTILINE), status.stdout
    assert "MiB resident (RSS)" in status.stdout
    as_json = _status(env)
    assert as_json["uptime_s"] >= 1 and as_json["rss_bytes"] > 20 * 2**20

    # `webui daemon logs`: the whole log, the last lines.
    log = (data / "daemon.log").read_text()
    whole = webui("daemon", "logs", env=env)
    assert whole.returncode == 0 and whole.stdout == log
    last = webui("daemon", "logs", "-n", "2", env=env)
    assert last.stdout.splitlines() == log.splitlines()[-2:]

    # `webui serve` on the same data folder names the way to stop the running one.
    serve = webui("serve", env=env)
    assert serve.returncode == 1
    line = one_error_line(serve)
    assert f"another webui daemon already uses {data} (pid {holder.pid}" in line
    assert "stop it with `webui daemon stop`" in line

    # restart: the new daemon has the settings of the environment restarted from.
    assert as_json["listening"]["local_users"] == "trusted"
    restarted = webui("daemon", "restart", env=env | {"WEBUI_LOCAL_USERS": "restricted"})
    assert restarted.returncode == 0, restarted.stderr
    now = daemon_files.lock_holder(data)
    assert now is not None and now.pid != holder.pid
    assert not daemon_files.alive(holder.pid)
    assert f"Restarted the webui daemon (pid {holder.pid} → pid {now.pid})" in restarted.stdout
    assert "settings from this environment" in restarted.stdout
    assert _status(env)["listening"]["local_users"] == "restricted"

    stopped = webui("daemon", "stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == f"Stopped the webui daemon (pid {now.pid})."
    assert not daemon_files.alive(now.pid)
    assert not socket.exists() and daemon_files.lock_holder(data) is None
    assert "Finished server process" in (data / "daemon.log").read_text()  # a graceful stop


def test_start_on_webui_socket_even_with_autostart_off(tmp_path: Path, cleanup: None) -> None:
    socket = tmp_path / "chosen.sock"
    env = _private_env(tmp_path, WEBUI_SOCKET=str(socket), WEBUI_NO_AUTOSTART="1")
    assert webui("status", env=env).returncode == 2  # commands do not start it here
    started = webui("daemon", "start", env=env, timeout=60)  # this one is asked to
    assert started.returncode == 0, started.stderr
    assert f"listening on {socket}." in started.stdout
    assert _status(env)["address"] == str(socket)
    stopped = webui("daemon", "stop", "--json", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout)["how"] == "api" and not socket.exists()


def test_stop_falls_back_to_the_pid_in_the_lock(tmp_path: Path) -> None:
    env = _private_env(tmp_path)
    socket = _socket(env)
    proc = start_daemon(tmp_path, socket_path=socket, data_dir=tmp_path / "data")
    try:
        socket.unlink()  # removed by a cleaner, or by mistake: the daemon runs, unreachable
        result = webui("daemon", "stop", env=env)
        assert result.returncode == 0, result.stderr
        assert f"Nothing answered on {socket}" in result.stdout
        assert f"(pid {proc.proc.pid}) with SIGTERM" in result.stdout
        assert proc.proc.wait(5) == 0  # stopped, and gracefully
    finally:
        proc.stop()


def test_shutdown_route_is_for_admins_and_the_daemons_own_account(tmp_path: Path) -> None:
    proc = start_daemon(tmp_path, env={"DEFAULT_USER_ROLE": "user"})
    try:
        with unix(proc) as own, tcp(proc) as other:
            assert own.get("/api/v1/auths/").json()["role"] == "admin"  # the OS account
            mallory = signup(other, "Mallory", f"m-{uuid.uuid4().hex[:6]}@example.com")
            assert mallory["role"] == "user"
            assert other.post("/api/webui/shutdown").status_code == 401
            refused = other.post("/api/webui/shutdown", headers=bearer(mallory["token"]))
            assert refused.status_code == 401
            assert own.get("/health").status_code == 200  # still running
            accepted = own.post("/api/webui/shutdown")
            assert accepted.status_code == 200 and accepted.json() == {"status": True}
        assert proc.proc.wait(15) == 0
        assert not proc.socket_path.exists()
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=FULL, token_delay=0.1)
    yield s
    s.stop()


def test_stop_saves_a_running_answer_marked_interrupted(tmp_path: Path, standin: StandIn) -> None:
    proc = start_daemon(tmp_path, env=provider_env(ollama=[standin]))
    env = cli_env(tmp_path, WEBUI_SOCKET=str(proc.socket_path), DATA_DIR=str(proc.data_dir))
    try:
        with unix(proc) as c:
            chat = c.post(
                "/api/v1/chats/new",
                json={"chat": {"title": "t", "models": [MODEL], "history": {"messages": {}}}},
            ).json()
            body = _turn(chat["id"])
            with c.stream("POST", "/api/chat/completions", json=body) as r:
                _read_tokens(r, 2)
                started = time.monotonic()
                stopped = webui("daemon", "stop", env=env)
                assert stopped.returncode == 0, stopped.stderr
                assert time.monotonic() - started < 8  # no wait for the answer to finish
        assert proc.proc.wait(5) == 0
    finally:
        proc.stop()
    proc = start_daemon(tmp_path, env=provider_env(ollama=[standin]))
    try:
        with unix(proc) as c:
            saved = c.get(f"/api/v1/chats/{chat['id']}").json()
            answer = saved["chat"]["history"]["messages"][body["id"]]
            assert answer["interrupted"] is True and answer["done"] is True
            assert answer["content"] and FULL.startswith(answer["content"])
            assert answer["content"] != FULL
    finally:
        proc.stop()


def _turn(chat_id: str) -> dict[str, Any]:
    user_id = str(uuid.uuid4())
    return {
        "model": MODEL,
        "stream": True,
        "chat_id": chat_id,
        "id": str(uuid.uuid4()),
        "parent_id": user_id,
        "user_message": {
            "id": user_id,
            "parentId": None,
            "childrenIds": [],
            "role": "user",
            "content": "Count.",
            "timestamp": int(time.time()),
        },
    }


def _read_tokens(response: httpx.Response, count: int) -> None:
    seen = 0
    for line in response.iter_lines():
        seen += '"content"' in line
        if seen >= count:
            return
    raise AssertionError(f"the stream ended before {count} tokens")


def test_logs_last_lines_follow_and_a_missing_log(tmp_path: Path) -> None:
    env = _private_env(tmp_path)
    log = tmp_path / "data" / "daemon.log"
    missing = webui("daemon", "logs", env=env)
    assert missing.returncode == 1
    assert f"no daemon log at {log}" in one_error_line(missing)

    log.parent.mkdir()
    log.write_text("".join(f"line {i}\n" for i in range(1, 6)))
    assert webui("daemon", "logs", "-n", "0", env=env).stdout == ""
    assert webui("daemon", "logs", "-n", "9", env=env).stdout.splitlines()[0] == "line 1"

    follower = subprocess.Popen(
        [sys.executable, "-m", "webui_tui.cli.main", "daemon", "logs", "-f", "-n", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == "line 5\n"
        with log.open("a") as out:
            out.write("line 6\n")
        assert follower.stdout.readline() == "line 6\n"
        log.write_text("after rotation\n")  # emptied and written anew: read from its start
        assert follower.stdout.readline() == "after rotation\n"
        follower.send_signal(signal.SIGINT)
        assert follower.wait(10) == 0
        assert follower.stderr is not None and follower.stderr.read() == ""
    finally:
        follower.kill()
        follower.wait(5)


def test_last_lines_reads_a_big_log_from_its_end(tmp_path: Path) -> None:
    log = tmp_path / "daemon.log"
    lines = [f"{i:06d} {'x' * 90}\n" for i in range(5000)]  # ~500 KB: several blocks
    log.write_text("".join(lines))
    tail, size = daemon_files.last_lines(log, 1500)
    assert tail.decode() == "".join(lines[-1500:]) and size == log.stat().st_size
    assert daemon_files.last_lines(log, 1)[0].decode() == lines[-1]
    log.write_text("no line end")
    assert daemon_files.last_lines(log, 3)[0] == b"no line end"


def test_status_reads_an_older_daemons_info() -> None:
    older = {
        "version": "0.0.9",
        "data_dir": "/d",
        "socket": "/s",
        "tcp": None,
        "shared": False,
        "pid": 7,
        "transport": "unix",
    }
    info = DaemonInfo.model_validate(older)
    assert (info.uptime_s, info.rss_bytes, info.started_at) == (None, None, None)
    assert [duration(s) for s in (5, 250, 7300, 200000)] == [
        "5 s",
        "4 min 10 s",
        "2 h 1 min",
        "2 d 7 h",
    ]


def test_daemon_commands_refuse_a_url(tmp_path: Path) -> None:
    env = _private_env(tmp_path, WEBUI_URL="http://127.0.0.1:9")
    for command in ("start", "stop", "restart"):
        result = webui("daemon", command, env=env)
        assert result.returncode == 1
        assert "runs the local daemon only" in one_error_line(result)
