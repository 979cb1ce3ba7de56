"""`webui login`/`logout` and commands over a URL: tokens kept in a 0600 file without keyring."""

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.cli_support import PASSWORD, cli_env, one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.support import signup, tcp

NOTICE = "no system keyring works here"


@pytest.fixture(scope="module")
def admin(daemon: DaemonProc) -> dict[str, Any]:
    with tcp(daemon) as c:
        session = signup(c, "Ada Admin", "ada@example.com")
    assert session["role"] == "admin"
    return dict(session)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path)


def _credentials(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "webui" / "credentials.json"


def test_login_stores_token_in_private_file_then_commands_use_it(
    daemon: DaemonProc, admin: dict[str, Any], env: dict[str, str]
) -> None:
    url = daemon.base_url
    before = webui("users", "list", env=env | {"WEBUI_URL": url})
    assert before.returncode == 2
    assert f"webui login {url}" in one_error_line(before)

    login = webui("login", f"{url}/", "--email", "ada@example.com", env=env, stdin=PASSWORD)
    assert login.returncode == 0, login.stderr
    assert f"Logged in to {url} as Ada Admin" in login.stdout
    assert login.stderr.count(NOTICE) == 1  # said once, on stderr
    creds = _credentials(env)
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    token = json.loads(creds.read_text())["tokens"][url]
    assert token.count(".") == 2  # a JWT

    remote = env | {"WEBUI_URL": url}
    listing = webui("users", "list", "--json", env=remote)
    assert listing.returncode == 0, listing.stderr
    assert "ada@example.com" in {u["email"] for u in json.loads(listing.stdout)["users"]}
    status = json.loads(webui("status", "--json", env=remote).stdout)
    assert status["transport"] == "http" and status["source"] == "WEBUI_URL"
    assert status["identified_by"] == "token"
    assert status["user"]["email"] == "ada@example.com"

    again = webui("login", "--email", "ada@example.com", env=remote, stdin=PASSWORD)
    assert again.returncode == 0, again.stderr
    assert NOTICE not in again.stderr  # only the first time

    logout = webui("logout", env=remote)
    assert logout.returncode == 0, logout.stderr
    assert url not in json.loads(creds.read_text())["tokens"]
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    after = webui("users", "list", env=remote)
    assert after.returncode == 2
    assert "log in first" in one_error_line(after)
    assert "Not logged in" in webui("logout", env=remote).stdout


def test_login_with_api_key_and_token_override(
    daemon: DaemonProc, admin: dict[str, Any], env: dict[str, str]
) -> None:
    url = daemon.base_url
    with tcp(daemon) as c:
        r = c.post("/api/v1/auths/api_key", headers={"Authorization": f"Bearer {admin['token']}"})
        key = r.json()["api_key"]
    login = webui("login", url, "--api-key", env=env, stdin=key)
    assert login.returncode == 0, login.stderr
    assert "as Ada Admin" in login.stdout
    assert json.loads(_credentials(env).read_text())["tokens"][url] == key
    groups = webui("groups", "list", "--json", env=env | {"WEBUI_URL": url})
    assert groups.returncode == 0, groups.stderr

    # WEBUI_TOKEN wins over the stored key: a bad one is refused.
    override = env | {"WEBUI_URL": url, "WEBUI_TOKEN": "not-a-valid-token"}
    refused = webui("status", "--json", env=override)
    assert refused.returncode == 0, refused.stderr
    assert json.loads(refused.stdout)["user"] is None
    # Logging out of an API key only forgets it locally: the key keeps working.
    assert webui("logout", url, env=env).returncode == 0
    with tcp(daemon) as c:
        assert c.get("/api/v1/auths/", headers={"Authorization": f"Bearer {key}"}).is_success


def test_login_errors(daemon: DaemonProc, admin: dict[str, Any], env: dict[str, str]) -> None:
    wrong = webui("login", daemon.base_url, "--email", "ada@example.com", env=env, stdin="wrong-pw")
    assert wrong.returncode == 2
    assert "email or password provided is incorrect" in one_error_line(wrong)
    assert not _credentials(env).exists()

    nobody = webui("login", "http://127.0.0.1:9", "--email", "a@b.c", env=env, stdin="x")
    assert nobody.returncode == 2
    assert "cannot connect to http://127.0.0.1:9" in one_error_line(nobody)


def test_login_on_the_socket_is_not_needed(daemon: DaemonProc, env: dict[str, str]) -> None:
    local = env | {"WEBUI_SOCKET": str(daemon.socket_path)}
    result = webui("login", env=local)
    assert result.returncode == 0, result.stderr
    assert "No login needed" in result.stdout
    assert "Nothing to log out of" in webui("logout", env=local).stdout
