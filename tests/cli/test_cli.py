"""The `webui` command against a real daemon on its Unix socket (identified by OS uid)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_support import HEAVY, PASSWORD, cli_env, one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.support import signin, tcp, whoami


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, WEBUI_SOCKET=str(daemon.socket_path))


def test_version_answers_without_typer(env: dict[str, str]) -> None:
    result = webui("--version", env=env)
    assert result.returncode == 0
    assert result.stdout.startswith("webui 0.")
    code = (
        "import sys; from webui_tui.cli.main import main; main(['--version']); "
        "print(sorted(m for m in ('typer', 'httpx', 'pydantic', 'rich') if m in sys.modules))"
    )
    probe = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert probe.stdout.splitlines()[-1] == "[]", probe.stdout


def test_bare_command_prints_help(env: dict[str, str]) -> None:
    result = webui(env=env)
    assert result.returncode == 0, result.stderr
    for command in ("serve", "status", "login", "users", "groups", "apikey"):
        assert command in result.stdout
    sub = webui("users", env=env)
    assert sub.returncode == 0
    assert "set-role" in sub.stdout


def test_status_human(daemon: DaemonProc, env: dict[str, str]) -> None:
    result = webui("status", env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "webui daemon" in out and "running" in out
    assert str(daemon.socket_path) in out
    assert str(daemon.data_dir) in out
    assert f"uid {os.getuid()}" in out  # the socket knows us by our OS account
    assert "admin" in out  # the daemon's own OS user is an admin


def test_status_json(daemon: DaemonProc, env: dict[str, str]) -> None:
    result = webui("status", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["reachable"] is True
    assert report["server"] == "webui"
    assert report["transport"] == "unix"
    assert report["source"] == "WEBUI_SOCKET"
    assert report["address"] == str(daemon.socket_path)
    assert report["data_dir"] == str(daemon.data_dir)
    assert report["listening"]["tcp"] == daemon.base_url
    assert report["identified_by"] == "os-account"
    assert report["peer_uid"] == os.getuid()
    assert report["user"]["role"] == "admin"


def _users(env: dict[str, str]) -> dict[str, dict[str, object]]:
    result = webui("users", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return {u["email"]: u for u in json.loads(result.stdout)["users"]}


def test_users_add_list_set_role_rm(env: dict[str, str]) -> None:
    added = webui("users", "add", "Cleo", "cleo@example.com", "--json", env=env, stdin=PASSWORD)
    assert added.returncode == 0, added.stderr
    body = json.loads(added.stdout)
    assert body["role"] == "user"  # the CLI's default for an admin-added account
    assert "token" not in body
    assert _users(env)["cleo@example.com"]["role"] == "user"

    # In a pipe the listing is tab-separated lines, one per user.
    plain = webui("users", "list", env=env)
    rows = [line.split("\t") for line in plain.stdout.splitlines()]
    assert [body["id"], "Cleo", "cleo@example.com", "user"] in [row[:4] for row in rows]

    changed = webui("users", "set-role", "cleo@example.com", "pending", env=env)
    assert changed.returncode == 0, changed.stderr
    assert _users(env)["cleo@example.com"]["role"] == "pending"
    by_id = webui("users", "set-role", body["id"], "user", env=env)
    assert by_id.returncode == 0, by_id.stderr
    assert _users(env)["cleo@example.com"]["role"] == "user"

    unconfirmed = webui("users", "rm", "cleo@example.com", env=env)
    assert unconfirmed.returncode == 1
    assert "--yes" in one_error_line(unconfirmed)
    assert "cleo@example.com" in _users(env)

    removed = webui("users", "rm", "cleo@example.com", "--yes", env=env)
    assert removed.returncode == 0, removed.stderr
    assert "cleo@example.com" not in _users(env)


def test_users_errors_are_one_line(env: dict[str, str]) -> None:
    first = webui("users", "add", "Dup", "dup@example.com", env=env, stdin=PASSWORD)
    assert first.returncode == 0, first.stderr
    again = webui("users", "add", "Dup", "dup@example.com", env=env, stdin=PASSWORD)
    assert again.returncode == 2
    assert "already registered" in one_error_line(again)

    missing = webui("users", "rm", "nobody@example.com", "--yes", env=env)
    assert missing.returncode == 2
    assert "no user with email nobody@example.com" in one_error_line(missing)

    no_password = webui("users", "add", "Eve", "eve@example.com", env=env, stdin="")
    assert no_password.returncode == 1
    one_error_line(no_password)


def test_usage_errors_exit_1(env: dict[str, str]) -> None:
    bad_role = webui("users", "set-role", "someone@example.com", "emperor", env=env)
    assert bad_role.returncode == 1
    assert "emperor" in one_error_line(bad_role)
    unknown = webui("frobnicate", env=env)
    assert unknown.returncode == 1
    one_error_line(unknown)
    bad_url = webui("status", env=env | {"WEBUI_URL": "ftp://example.com"})
    assert bad_url.returncode == 1
    assert "not an http(s) URL" in one_error_line(bad_url)


def test_groups(env: dict[str, str]) -> None:
    for name, email in (("Gus", "gus@example.com"), ("Hal", "hal@example.com")):
        assert webui("users", "add", name, email, env=env, stdin=PASSWORD).returncode == 0
    created = webui("groups", "create", "research", "-d", "Lab people", "--json", env=env)
    assert created.returncode == 0, created.stderr
    group = json.loads(created.stdout)
    assert group["name"] == "research" and group["description"] == "Lab people"

    added = webui("groups", "add-member", "research", "gus@example.com", "hal@example.com", env=env)
    assert added.returncode == 0, added.stderr
    assert "2 member" in added.stdout

    listing = json.loads(webui("groups", "list", "--json", env=env).stdout)
    research = next(g for g in listing if g["id"] == group["id"])
    assert research["member_count"] == 2
    assert webui("groups", "list", env=env).stdout.splitlines() == [
        f"{group['id']}\tresearch\t2\tLab people"
    ]

    removed = webui("groups", "remove-member", group["id"], "hal@example.com", env=env)
    assert removed.returncode == 0, removed.stderr
    assert "1 member" in removed.stdout

    gone = webui("groups", "rm", "research", "--yes", env=env)
    assert gone.returncode == 0, gone.stderr
    assert json.loads(webui("groups", "list", "--json", env=env).stdout) == []
    unknown = webui("groups", "add-member", "research", "gus@example.com", env=env)
    assert unknown.returncode == 2
    assert "no group named 'research'" in one_error_line(unknown)


def test_apikey(daemon: DaemonProc, env: dict[str, str]) -> None:
    none = webui("apikey", "show", env=env)
    assert none.returncode == 2
    assert "webui apikey create" in one_error_line(none)

    created = webui("apikey", "create", env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("sk-") and len(key) == 35
    shown = webui("apikey", "show", "--json", env=env)
    assert json.loads(shown.stdout) == {"api_key": key}
    with tcp(daemon) as c:  # the key works over TCP, for scripts
        assert whoami(c, headers={"Authorization": f"Bearer {key}"}).status_code == 200

    deleted = webui("apikey", "rm", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert webui("apikey", "show", env=env).returncode == 2


def test_a_plain_user_is_refused_admin_commands(daemon: DaemonProc, env: dict[str, str]) -> None:
    assert webui("users", "add", "Ivy", "ivy@example.com", env=env, stdin=PASSWORD).returncode == 0
    with tcp(daemon) as c:
        token = signin(c, "ivy@example.com")["token"]
    # A token on the socket overrides the OS account.
    as_ivy = env | {"WEBUI_TOKEN": token}
    status = json.loads(webui("status", "--json", env=as_ivy).stdout)
    assert status["user"]["email"] == "ivy@example.com"
    assert status["identified_by"] == "token"
    refused = webui("users", "list", env=as_ivy)
    assert refused.returncode == 2
    assert "permission" in one_error_line(refused)


def test_status_path_imports_nothing_heavy(env: dict[str, str]) -> None:
    """`webui status` loads no heavy library, and of the command modules only its own: the
    others (kb, prompts, chats, ...) wait until their command runs."""
    code = (
        "import sys\n"
        "from webui_tui.cli.main import main\n"
        "code = main(['status'])\n"
        f"heavy = [m for m in {HEAVY!r} + ('keyring',) if m in sys.modules]\n"
        "print('HEAVY', heavy, code)\n"
        "from webui_tui.cli.app import COMMANDS, GROUPS\n"
        "modules = set(COMMANDS.values()) | set(GROUPS.values())\n"
        "print('COMMANDS', sorted(m for m in modules if 'webui_tui.cli.' + m in sys.modules))\n"
    )
    probe = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[-2] == "HEAVY [] 0", probe.stdout
    # completion: every run asks whether the shell wants candidates
    assert probe.stdout.splitlines()[-1] == "COMMANDS ['completion', 'status']", probe.stdout


def test_serve_prints_a_systemd_unit_for_a_shared_daemon(env: dict[str, str]) -> None:
    result = webui(
        "serve", "--print-unit", "--group", "research", "--local-users", "restricted", env=env
    )
    assert result.returncode == 0, result.stderr
    unit = result.stdout
    lines = unit.splitlines()
    assert "[Service]" in lines and "[Install]" in lines
    assert "Group=research" in lines and "RuntimeDirectory=webui" in lines
    [exec_start] = [line for line in lines if line.startswith("ExecStart=")]
    assert exec_start.endswith(
        "serve --shared --group research --socket /run/webui/webui.sock --local-users restricted"
    )
    assert "journalctl -u webui" in unit
    # Printing the unit does not start a daemon, and imports none of it.
    assert "listening on" not in result.stderr
