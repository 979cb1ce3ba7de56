"""The admin commands that refusals to local users name are real: on a shared daemon (two real
OS accounts, root only), running the command a refusal quotes lets that user in at once."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.auth.test_shared_box import MODELS, ask, call, open_dir, shared
from tests.cli_support import cli_env, webui
from tests.daemon_proc import DaemonProc
from tests.os_users import OsUser, os_user_account, run_as
from tests.standins import StandIn, start_ollama
from tests.support import unix

__all__ = ["open_dir"]  # fixture used below


@pytest.fixture(scope="module")
def users() -> Iterator[tuple[OsUser, OsUser]]:
    with os_user_account() as alice, os_user_account(alice.group) as bob:
        yield alice, bob


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=MODELS, reply="Hello from the box.")
    yield s
    s.stop()


def admin_runs(daemon: DaemonProc, command: str, tmp: Path) -> None:
    """`command` as quoted in a refusal, run by root (an admin of the shared daemon)."""
    args = command.strip("`").split()
    assert args[0] == "webui", command
    env = cli_env(tmp, WEBUI_SOCKET=str(daemon.socket_path), WEBUI_NO_AUTOSTART="1")
    result = webui(*args[1:], env=env)
    assert result.returncode == 0, result.stderr


def test_the_model_command_a_refusal_names_lets_the_user_in(
    users: tuple[OsUser, OsUser], standin: StandIn, open_dir: Path, tmp_path: Path
) -> None:
    alice, bob = users
    daemon = shared(open_dir / "model-cmd", alice.group, standin)
    try:
        with unix(daemon) as admin:
            r = admin.post(
                "/api/v1/models/model/access/update",
                json={"id": "big:latest", "access_grants": []},
            )
            assert r.status_code == 200, r.text  # a record with no grants: admins only
        [refused] = run_as(
            alice, [call(daemon, "POST", "/api/chat/completions", ask("big:latest"))]
        )
        assert refused["status"] == 403, refused
        command = refused["body"]["detail"].split("an admin can run ", 1)[1]
        assert command == f"`webui models access big:latest --user {alice.name}`"
        admin_runs(daemon, command, tmp_path)
        models, answer = run_as(
            alice,
            [
                call(daemon, "GET", "/api/models"),
                call(daemon, "POST", "/api/chat/completions", ask("big:latest")),
            ],
        )
        assert "big:latest" in [m["id"] for m in models["body"]["data"]]
        assert answer["status"] == 200, answer
        [still] = run_as(bob, [call(daemon, "POST", "/api/chat/completions", ask("big:latest"))])
        assert still["status"] == 403, still  # only alice was let in
    finally:
        daemon.stop()


def test_the_permission_command_a_refusal_names_lets_the_user_in(
    users: tuple[OsUser, OsUser], standin: StandIn, open_dir: Path, tmp_path: Path
) -> None:
    alice, _ = users
    daemon = shared(open_dir / "perm-cmd", alice.group, standin, "--local-users", "restricted")
    try:
        create = call(daemon, "POST", "/api/v1/knowledge/create", {"name": "mine"})
        [refused] = run_as(alice, [create])
        assert refused["status"] == 401, refused
        everyone = (
            refused["body"]["detail"].split("an admin can run ", 1)[1].split(" (everyone)")[0]
        )
        assert everyone == "`webui permissions set workspace.knowledge true`"
        admin_runs(daemon, everyone, tmp_path)
        [created] = run_as(alice, [create])
        assert created["status"] == 200, created
    finally:
        daemon.stop()
