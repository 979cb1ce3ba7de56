"""Who is calling on the Unix socket (SO_PEERCRED): the OS account, unless a token says otherwise.

The second-account tests create a throwaway OS user and group (root only) and run a small
stdlib-only HTTP client as that user, against a `--shared` socket and a per-user one.
"""

import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_proc import DaemonProc, start_daemon
from tests.os_users import OsUser, os_user_account, run_as
from tests.support import assert_error, bearer, tcp, unix, whoami

# ---- the daemon's own account ------------------------------------------------------------------


def test_socket_caller_without_token_is_its_os_account(daemon: DaemonProc) -> None:
    name = pwd.getpwuid(os.getuid()).pw_name
    with unix(daemon) as c:
        me = whoami(c)
        assert me.status_code == 200, me.text
        body = me.json()
        assert (body["name"], body["email"], body["role"]) == (name, f"{name}@localhost", "admin")
        # The same account on every connection, not a new user each time.
        with unix(daemon) as again:
            assert whoami(again).json()["id"] == body["id"]
        # It is a real user: listed, linked to the uid, and its session token works over TCP.
        users = c.get("/api/v1/users/").json()["users"]
        linked = [u for u in users if u["id"] == body["id"]]
        assert linked and linked[0]["os_uid"] == os.getuid()
        info = c.get("/api/webui/info").json()
        assert (info["transport"], info["peer_uid"]) == ("unix", os.getuid())
    with tcp(daemon) as c:
        assert whoami(c, headers=bearer(body["token"])).json()["id"] == body["id"]
        assert c.get("/api/webui/info", headers=bearer(body["token"])).json()["transport"] == "tcp"


def test_token_on_the_socket_overrides_the_uid(daemon: DaemonProc) -> None:
    with unix(daemon) as c:
        r = c.post(
            "/api/v1/auths/add",  # as the OS account: an admin without any token
            json={"name": "Ursula", "email": "ursula@example.com", "password": "pw-123456"},
        )
        assert r.status_code == 200, r.text
        ursula = r.json()
        assert ursula["role"] == "pending"  # /auths/add defaults to pending, as Open WebUI does
        promoted = c.post(f"/api/v1/users/{ursula['id']}/update", json={"role": "user"})
        assert promoted.status_code == 200, promoted.text
        me = whoami(c, headers=bearer(ursula["token"]))
        assert me.status_code == 200, me.text
        assert (me.json()["id"], me.json()["role"]) == (ursula["id"], "user")
        # The token's user, with its role: the OS account behind the socket is admin, she is not.
        assert_error(c.get("/api/v1/users/", headers=bearer(ursula["token"])), 401)
        assert c.get("/api/v1/users/").status_code == 200  # same socket, no token: admin
        # A bad token is refused, not quietly replaced by the uid identity.
        assert_error(whoami(c, headers=bearer("bad-token")), 401)
        with unix(daemon, cookies={"token": ursula["token"]}) as cookie_client:
            assert whoami(cookie_client).json()["id"] == ursula["id"]


def test_tcp_never_uses_the_peer_identity(daemon: DaemonProc) -> None:
    with tcp(daemon) as c:
        assert_error(whoami(c), 401)
        config = c.get("/api/config").json()
        assert "permissions" not in config  # anonymous view only


# ---- a second OS account (root only) -----------------------------------------------------------


@pytest.fixture(scope="module")
def os_user() -> Iterator[OsUser]:
    with os_user_account() as user:
        yield user


@pytest.fixture(scope="module")
def open_dir() -> Iterator[Path]:
    """A folder every account can traverse (pytest's own tmp folders are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="webui-peer-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_daemon(os_user: OsUser, open_dir: Path) -> Iterator[DaemonProc]:
    # The socket's folder does not exist yet: the daemon must create it traversable.
    base = open_dir / "shared"
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    proc = start_daemon(
        base,
        socket_path=base / "run" / "webui.sock",
        args=["--shared", "--group", os_user.group],
    )
    yield proc
    proc.stop()


def test_shared_socket_mode_and_group(shared_daemon: DaemonProc, os_user: OsUser) -> None:
    st = shared_daemon.socket_path.stat()
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert st.st_gid == os_user.group_gid
    assert stat.S_IMODE(shared_daemon.socket_path.parent.stat().st_mode) == 0o755
    assert stat.S_IMODE(shared_daemon.data_dir.stat().st_mode) == 0o700


def test_other_account_on_shared_socket_is_its_own_user(
    shared_daemon: DaemonProc, os_user: OsUser
) -> None:
    sock = str(shared_daemon.socket_path)
    with unix(shared_daemon) as c:
        root_me = whoami(c).json()
        assert root_me["role"] == "admin"
        secret = c.post("/api/v1/groups/create", json={"name": "root only"}).json()
        c.post(f"/api/v1/groups/id/{secret['id']}/users/add", json={"user_ids": [root_me["id"]]})

    def get(path: str, **extra: Any) -> dict[str, Any]:
        return {"op": "http", "socket": sock, "method": "GET", "path": path, **extra}

    me, users, user, groups, group, data, info = run_as(
        os_user,
        [
            get("/api/v1/auths/"),
            get("/api/v1/users/"),
            get(f"/api/v1/users/{root_me['id']}"),
            get("/api/v1/groups/"),
            get(f"/api/v1/groups/id/{secret['id']}"),
            {"op": "listdir", "path": str(shared_daemon.data_dir)},
            get("/api/webui/info"),
        ],
    )
    assert me.get("status") == 200, me
    body = me["body"]
    assert body["name"] == os_user.name
    assert body["email"] == f"{os_user.name}@localhost"
    assert body["role"] == "user"
    assert body["id"] != root_me["id"]
    assert users.get("status") == 401 and "detail" in users["body"], users
    assert user["status"] == 401
    assert groups == {"status": 200, "body": []}
    assert group["status"] == 401
    assert data == {"error": "PermissionError", "errno": 13}  # the data folder is the daemon's
    assert info["status"] == 200 and info["body"]["peer_uid"] == os_user.uid

    # Second contact: the same webui user. Its token, reused over the socket, is honoured.
    again, with_token = run_as(
        os_user,
        [
            get("/api/v1/auths/"),
            get("/api/v1/auths/", headers={"Authorization": f"Bearer {body['token']}"}),
        ],
    )
    assert again["body"]["id"] == with_token["body"]["id"] == body["id"]

    with unix(shared_daemon) as c:
        listed = {u["id"]: u for u in c.get("/api/v1/users/").json()["users"]}
        assert listed[body["id"]]["os_uid"] == os_user.uid
        assert listed[body["id"]]["role"] == "user"


def test_shared_socket_refuses_accounts_outside_its_group(
    shared_daemon: DaemonProc, os_user: OsUser
) -> None:
    [result] = run_as(
        os_user,
        [{"op": "http", "socket": str(shared_daemon.socket_path), "method": "GET", "path": "/"}],
        in_group=False,
    )
    assert result == {"error": "PermissionError", "errno": 13}


def test_per_user_socket_refuses_other_accounts(os_user: OsUser, open_dir: Path) -> None:
    base = open_dir / "private"
    base.mkdir()
    base.chmod(0o755)  # only the socket's own mode stands in the way
    proc = start_daemon(base, socket_path=base / "webui.sock")
    try:
        st = proc.socket_path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert st.st_uid == os.getuid()
        [result] = run_as(
            os_user,
            [{"op": "http", "socket": str(proc.socket_path), "method": "GET", "path": "/health"}],
        )
        assert result == {"error": "PermissionError", "errno": 13}
        with unix(proc) as c:
            users = c.get("/api/v1/users/").json()["users"]
        assert [u["name"] for u in users] == [pwd.getpwuid(os.getuid()).pw_name]
    finally:
        assert proc.stop() == 0


# ---- the daemon's own check, whatever the socket file's mode -----------------------------------


def test_loosened_per_user_socket_still_refuses_other_accounts(
    os_user: OsUser, open_dir: Path
) -> None:
    base = open_dir / "loosened-private"
    base.mkdir()
    base.chmod(0o755)
    proc = start_daemon(base, socket_path=base / "webui.sock")
    try:
        proc.socket_path.chmod(0o666)  # as a careless `chmod` would leave it
        health, me = run_as(
            os_user,
            [
                {"op": "http", "socket": str(proc.socket_path), "method": "GET", "path": p}
                for p in ("/health", "/api/v1/auths/")
            ],
        )
        owner = pwd.getpwuid(os.getuid()).pw_name
        for result in (health, me):
            assert result["status"] == 403, result
            assert f"serves only {owner}" in result["body"]["detail"]
            assert os_user.name in result["body"]["detail"]
        with unix(proc) as c:
            users = c.get("/api/v1/users/").json()["users"]
        assert [u["name"] for u in users] == [owner]  # no account was made for the stranger
        assert "refused a socket connection" in proc.log()
    finally:
        assert proc.stop() == 0


def test_loosened_shared_socket_refuses_processes_outside_its_group(
    shared_daemon: DaemonProc, os_user: OsUser
) -> None:
    sock = shared_daemon.socket_path
    sock.chmod(0o666)
    try:
        [outside] = run_as(
            os_user,
            [{"op": "http", "socket": str(sock), "method": "GET", "path": "/api/v1/auths/"}],
            in_group=False,
        )
        assert outside["status"] == 403, outside
        assert f"members of group {os_user.group}" in outside["body"]["detail"]
        # The same account with the group among its supplementary groups is served.
        [inside] = run_as(
            os_user,
            [{"op": "http", "socket": str(sock), "method": "GET", "path": "/api/v1/auths/"}],
        )
        assert inside["status"] == 200, inside
        assert inside["body"]["name"] == os_user.name
    finally:
        sock.chmod(0o660)
