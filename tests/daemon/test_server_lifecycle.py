"""The daemon process: public system routes, file modes, the data-folder lock, the socket
(in use, stale, not a socket), signals, in-flight requests at shutdown, bad settings."""

import asyncio
import os
import signal
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemon_proc import DaemonProc, free_port, start_daemon
from tests.support import (
    assert_no_traceback,
    bearer,
    daemon_cmd,
    run_to_exit,
    signin,
    signup,
    tcp,
    unix,
)
from webui_daemon.server import bind_tcp_socket


def _one_line_error(stderr: str, *words: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("webui: "), stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], stderr


# ---- system routes (the module's daemon starts with no users) ----------------------------------


def test_config_shows_onboarding_until_the_first_user(daemon: DaemonProc) -> None:
    with tcp(daemon) as c:
        before = c.get("/api/config")
        assert before.status_code == 200, before.text
        config = before.json()
        assert config["status"] is True
        assert config["name"] == "Open WebUI"
        assert config["version"] == c.get("/api/version").json()["version"]
        assert config["onboarding"] is True
        assert config["features"]["auth"] is True
        assert config["features"]["enable_signup"] is True
        assert "permissions" not in config and "default_models" not in config

        admin = signup(c, "Admin", "admin@example.com")
        anonymous = c.get("/api/config").json()
        assert "onboarding" not in anonymous
        assert anonymous["features"]["enable_signup"] is False  # closed after the first signup
        assert "permissions" not in anonymous

        signed_in = c.get("/api/config", headers=bearer(admin["token"])).json()
        assert "onboarding" not in signed_in
        assert signed_in["features"]["enable_api_keys"] is True
        for key in ("default_models", "permissions", "ui", "file", "code", "audio"):
            assert key in signed_in, key
        # A bad token gets the anonymous view, not an error: clients probe this route.
        bad = c.get("/api/config", headers=bearer("nonsense"))
        assert bad.status_code == 200 and "permissions" not in bad.json()


def test_health_version_and_ready(daemon: DaemonProc) -> None:
    for make in (tcp, unix):
        with make(daemon) as c:
            assert c.get("/health").json() == {"status": True}
            assert c.get("/health/db").json() == {"status": True}
            assert c.get("/ready").json() == {"status": True}
            version = c.get("/api/version").json()
            assert isinstance(version["version"], str)
            assert version["version"].count(".") == 2


def test_openapi_and_docs(daemon: DaemonProc) -> None:
    with tcp(daemon) as c:
        spec = c.get("/openapi.json")
        assert spec.status_code == 200
        paths = spec.json()["paths"]
        for path in ("/api/v1/auths/signin", "/api/v1/users/", "/api/v1/groups/create", "/health"):
            assert path in paths, path
        docs = c.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert c.get("/redoc").status_code == 200


def test_file_modes(daemon: DaemonProc) -> None:
    sock = daemon.socket_path.stat()
    assert stat.S_ISSOCK(sock.st_mode)
    assert stat.S_IMODE(sock.st_mode) == 0o600
    assert stat.S_IMODE(daemon.data_dir.stat().st_mode) == 0o700
    # Under umask 077, the database and its WAL files are private too.
    for name in ("webui.db", "webui.db-wal"):
        path = daemon.data_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


# ---- one daemon per data folder and per socket -------------------------------------------------


def test_second_daemon_on_the_same_data_dir_fails_fast(daemon: DaemonProc, tmp_path: Path) -> None:
    result = run_to_exit(daemon_cmd(tmp_path / "other.sock", daemon.data_dir))
    assert result.returncode == 1
    _one_line_error(result.stderr, "already", str(daemon.data_dir))
    assert not (tmp_path / "other.sock").exists()
    with unix(daemon) as c:
        assert c.get("/health").status_code == 200


def test_second_daemon_on_the_same_socket_fails_fast(daemon: DaemonProc, tmp_path: Path) -> None:
    result = run_to_exit(daemon_cmd(daemon.socket_path, tmp_path / "other-data"))
    assert result.returncode == 1
    _one_line_error(result.stderr, "already", str(daemon.socket_path))
    # The running daemon's socket was neither removed nor replaced.
    assert daemon.socket_path.exists()
    with unix(daemon) as c:
        assert c.get("/health").status_code == 200


def test_busy_port_fails_clearly_and_removes_its_socket(daemon: DaemonProc, tmp_path: Path) -> None:
    sock = tmp_path / "port-clash.sock"
    result = run_to_exit(
        daemon_cmd(sock, tmp_path / "data", "--host", "127.0.0.1", "--port", str(daemon.port))
    )
    assert result.returncode == 1
    _one_line_error(result.stderr, "cannot listen", str(daemon.port))
    assert not sock.exists()


def test_nothing_to_listen_on(tmp_path: Path) -> None:
    result = run_to_exit(daemon_cmd(tmp_path / "s.sock", tmp_path / "data", "--no-socket"))
    assert result.returncode == 1
    _one_line_error(result.stderr, "nothing to listen on")


def test_a_file_at_the_socket_path_is_not_deleted(tmp_path: Path) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    result = run_to_exit(daemon_cmd(precious, tmp_path / "data"))
    assert result.returncode == 1
    _one_line_error(result.stderr, "not a socket")
    assert precious.read_text() == "keep me"


@pytest.mark.parametrize(
    ("env", "word"),
    [
        ({"JWT_EXPIRES_IN": "four weeks"}, "four weeks"),
        ({"WEBUI_LOG_LEVEL": "chatty"}, "CHATTY"),
        ({"DEFAULT_USER_ROLE": "root"}, "invalid setting"),
    ],
)
def test_bad_settings_fail_with_one_line(tmp_path: Path, env: dict[str, str], word: str) -> None:
    result = run_to_exit(daemon_cmd(tmp_path / "s.sock", tmp_path / "data"), env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("webui: invalid setting"), result.stderr
    assert word in result.stderr
    assert not (tmp_path / "s.sock").exists()


def test_unreadable_database_fails_with_one_line_and_exits(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "webui.db").write_bytes(b"this is not an SQLite database, just some text " * 4)
    sock = tmp_path / "s.sock"
    result = run_to_exit(daemon_cmd(sock, data))  # bounded: a hang here fails the test
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert any("cannot start: file is not a database" in line for line in errors), errors
    assert not sock.exists()


# ---- stopping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly(tmp_path: Path, sig: int) -> None:
    proc = start_daemon(tmp_path)
    assert proc.socket_path.exists()
    assert proc.stop(sig) == 0
    assert not proc.socket_path.exists()
    assert_no_traceback(proc)
    assert "Shutting down" in proc.log()


def _wait_until(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def _refuses_connections(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return True
    finally:
        probe.close()
    return False


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_sigterm_lets_an_in_flight_write_finish(tmp_path: Path) -> None:
    proc = start_daemon(tmp_path)
    try:
        body = b'{"name": "Late", "email": "late@example.com", "password": "pw-123456"}'
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(15)
            sock.connect(str(proc.socket_path))
            sock.sendall(
                b"POST /api/v1/auths/signup HTTP/1.1\r\nHost: webui\r\n"
                b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
            )
            # "100 Continue" comes when the app asks for the body: the request is in flight.
            assert _read_until(sock, b"\r\n\r\n").startswith(b"HTTP/1.1 100")
            proc.proc.send_signal(signal.SIGTERM)
            _wait_until(lambda: _refuses_connections(proc.socket_path))  # stopped accepting
            sock.sendall(body)
            answer = b""
            while chunk := sock.recv(65536):  # the daemon closes the connection after it
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert b'"role":"admin"' in answer
        assert proc.proc.wait(15) == 0
        assert not proc.socket_path.exists()
    finally:
        proc.stop()
    again = start_daemon(tmp_path, data_dir=proc.data_dir)
    try:
        with tcp(again) as c:
            assert signin(c, "late@example.com")["role"] == "admin"  # the write was kept
    finally:
        assert again.stop() == 0


def test_stale_socket_after_sigkill_is_replaced(tmp_path: Path) -> None:
    proc = start_daemon(tmp_path)
    with tcp(proc) as c:
        signup(c, "Kay", "kay@example.com")
    assert proc.stop(signal.SIGKILL) == -signal.SIGKILL
    assert proc.socket_path.exists()  # left behind
    again = start_daemon(tmp_path, data_dir=proc.data_dir, socket_path=proc.socket_path)
    try:
        with unix(again) as c:
            assert c.get("/health").status_code == 200
        with tcp(again) as c:
            assert signin(c, "kay@example.com")["role"] == "admin"  # committed data survived
    finally:
        assert again.stop() == 0
    assert not proc.socket_path.exists()


def test_shared_socket_is_group_accessible(tmp_path: Path) -> None:
    proc = start_daemon(
        tmp_path, socket_path=tmp_path / "run" / "webui" / "webui.sock", args=["--shared"]
    )
    try:
        st = proc.socket_path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o660
        assert st.st_gid == os.getgid()
        # A folder the daemon created for a shared socket can be traversed by its users.
        assert stat.S_IMODE(proc.socket_path.parent.stat().st_mode) == 0o755
        assert stat.S_IMODE(proc.data_dir.stat().st_mode) == 0o700
    finally:
        assert proc.stop() == 0


# ---- transport details -------------------------------------------------------------------------


async def test_tcp_connections_have_nodelay() -> None:
    """Without TCP_NODELAY every response waited ~40 ms for a delayed ACK."""
    listener = bind_tcp_socket("127.0.0.1", free_port())
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raw = writer.get_extra_info("socket")
        seen.set_result(raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=listener)
    try:
        host, port = listener.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        assert await asyncio.wait_for(seen, 10) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
