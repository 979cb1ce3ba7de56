"""WebUIClient against a real daemon (socket and TCP), and against a server that is not one."""

import http.server
import json
import os
import pwd
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_proc import DaemonProc, free_port
from tests.support import signup, tcp
from webui_daemon.schemas.auths import AddUserForm
from webui_daemon.schemas.groups import GroupForm, GroupUpdateForm
from webui_tui.client.api import WebUIClient
from webui_tui.client.discovery import Target, url_target
from webui_tui.client.errors import (
    AuthFailed,
    BadResponse,
    DaemonUnreachable,
    NotFound,
    RequestFailed,
)

PASSWORD = "pw-123456"


@pytest.fixture(scope="module")
def admin(daemon: DaemonProc) -> dict[str, Any]:
    with tcp(daemon) as c:
        return dict(signup(c, "Ada Admin", "ada@example.com"))


def _socket(daemon: DaemonProc) -> Target:
    return Target(source="argument", socket=daemon.socket_path)


async def test_public_routes_and_signin_over_tcp(daemon: DaemonProc, admin: dict[str, Any]) -> None:
    async with WebUIClient(url_target(daemon.base_url)) as client:
        assert await client.health() is True
        version = await client.version()
        assert version.webui_version and version.version
        config = await client.config()
        assert config.features["auth"] is True
        with pytest.raises(AuthFailed) as refused:
            await client.whoami()
        assert refused.value.status == 401

        session = await client.signin("ada@example.com", PASSWORD)
        assert client.token == session.token and session.role == "admin"
        me = await client.whoami()
        assert me.email == "ada@example.com"
        info = await client.daemon_info()
        assert info is not None
        assert info.transport == "tcp" and info.data_dir == str(daemon.data_dir)
        assert (await client.signout()).status is True
        assert client.token is None


async def test_bad_credentials_and_validation_errors(
    daemon: DaemonProc, admin: dict[str, Any]
) -> None:
    async with WebUIClient(url_target(daemon.base_url)) as client:
        with pytest.raises(RequestFailed) as wrong:
            await client.signin("ada@example.com", "nope")
        assert wrong.value.status == 400 and "incorrect" in wrong.value.message
        # A body without the required fields: pydantic's list of problems, in one line.
        with pytest.raises(RequestFailed) as invalid:
            await client.request("POST", "/api/v1/auths/signin")
        assert invalid.value.status == 422
        assert "\n" not in invalid.value.message


async def test_socket_caller_is_known_by_uid(daemon: DaemonProc) -> None:
    async with WebUIClient(_socket(daemon)) as client:
        me = await client.whoami()
        assert me.name == pwd.getpwuid(os.getuid()).pw_name
        assert me.role == "admin"  # the daemon's own OS account
        info = await client.daemon_info()
        assert info is not None and info.transport == "unix" and info.peer_uid == os.getuid()


async def test_api_key_lifecycle(daemon: DaemonProc) -> None:
    async with WebUIClient(_socket(daemon)) as client:
        key = (await client.create_api_key()).api_key
        assert (await client.get_api_key()).api_key == key
        async with WebUIClient(url_target(daemon.base_url), token=key) as by_key:
            assert (await by_key.whoami()).id == (await client.whoami()).id
        assert await client.delete_api_key() is True
        with pytest.raises(NotFound):
            await client.get_api_key()


async def test_users_and_groups(daemon: DaemonProc, admin: dict[str, Any]) -> None:
    async with WebUIClient(_socket(daemon)) as client:
        added = await client.add_user(
            AddUserForm(name="Bo", email="bo@example.com", password=PASSWORD, role="user")
        )
        assert added.role == "user" and added.token
        listing = await client.all_users()
        assert listing.total == len(listing.users)
        assert "bo@example.com" in {u.email for u in listing.users}
        assert (await client.list_users(query="bo@example.com")).users[0].id == added.id

        assert (await client.set_role(added.id, "pending")).role == "pending"
        assert (await client.get_user(added.id)).role == "pending"

        group = await client.create_group(GroupForm(name="ops", description="on call"))
        grown = await client.add_group_members(group.id, [added.id])
        assert grown.member_count == 1 and added.id in grown.user_ids
        renamed = await client.update_group(group.id, GroupUpdateForm(name="sre"))
        assert renamed.name == "sre"
        assert [g.name for g in await client.list_groups()] == ["sre"]
        shrunk = await client.remove_group_members(group.id, [added.id])
        assert shrunk.member_count == 0
        assert await client.delete_group(group.id) is True
        with pytest.raises(NotFound):
            await client.get_group(group.id)

        assert await client.delete_user(added.id) is True
        with pytest.raises(RequestFailed):  # Open WebUI answers an unknown user id with 400
            await client.get_user(added.id)


async def test_unreachable(tmp_path: Path) -> None:
    missing = Target(source="argument", socket=tmp_path / "none.sock")
    async with WebUIClient(missing) as client:
        with pytest.raises(DaemonUnreachable) as no_socket:
            await client.health()
        assert "webui serve" in no_socket.value.message
    closed = url_target(f"http://127.0.0.1:{free_port()}")
    async with WebUIClient(closed) as client:
        with pytest.raises(DaemonUnreachable):
            await client.version()


class _OtherServer(http.server.BaseHTTPRequestHandler):
    """Something that is not a webui daemon: Open WebUI-like version, no /api/webui/info."""

    def do_GET(self) -> None:
        routes: dict[str, tuple[int, Any]] = {
            "/api/version": (200, {"version": "0.6.43"}),
            "/health": (200, "not the shape we expect"),
        }
        status, body = routes.get(self.path, (404, {"detail": "Not Found"}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OtherServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_a_server_that_is_not_webui(other_server: str) -> None:
    async with WebUIClient(url_target(other_server)) as client:
        version = await client.version()
        assert version.version == "0.6.43" and version.webui_version is None
        assert await client.daemon_info() is None
        with pytest.raises(BadResponse):
            await client.health()
        with pytest.raises(NotFound) as missing:
            await client.list_groups()
        assert missing.value.message == "not found: Not Found"
