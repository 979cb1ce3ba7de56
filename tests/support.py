"""Helpers for the daemon tests: cookie-free clients, sign-up/sign-in, error-body checks."""

import http.cookiejar
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import httpx

from tests.daemon_proc import DaemonProc, daemon_env

PASSWORD = "pw-123456"


class _RefuseCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: urllib.request.Request) -> bool:
        return False


def tcp(daemon: DaemonProc, **kwargs: Any) -> httpx.Client:
    """A TCP client that never keeps the `token` cookie the daemon sets, so every request
    carries exactly the credentials the test gives it."""
    kwargs.setdefault("timeout", 10)
    kwargs.setdefault("cookies", http.cookiejar.CookieJar(_RefuseCookies()))
    return daemon.tcp_client(**kwargs)


def unix(daemon: DaemonProc, **kwargs: Any) -> httpx.Client:
    kwargs.setdefault("timeout", 10)
    kwargs.setdefault("cookies", http.cookiejar.CookieJar(_RefuseCookies()))
    return daemon.unix_client(**kwargs)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signup(client: httpx.Client, name: str, email: str, password: str = PASSWORD) -> Any:
    r = client.post(
        "/api/v1/auths/signup", json={"name": name, "email": email, "password": password}
    )
    assert r.status_code == 200, r.text
    return r.json()


def signin(client: httpx.Client, email: str, password: str = PASSWORD) -> Any:
    r = client.post("/api/v1/auths/signin", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def add_user(client: httpx.Client, admin_token: str, name: str, email: str, role: str) -> Any:
    """POST /auths/add (admin): the new user's id and a JWT for it."""
    r = client.post(
        "/api/v1/auths/add",
        headers=bearer(admin_token),
        json={"name": name, "email": email, "password": PASSWORD, "role": role},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == role
    return body


def whoami(client: httpx.Client, **kwargs: Any) -> httpx.Response:
    return client.get("/api/v1/auths/", **kwargs)


def assert_error(response: httpx.Response, status: int) -> Any:
    """The status, and Open WebUI's error shape: a JSON object with a `detail`."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict) and "detail" in body, body
    assert body["detail"], body
    return body["detail"]


def principals(grants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Grants as answered, cut to who holds what (0.12 adds an id, the resource and a time)."""
    keys = ("principal_type", "principal_id", "permission")
    return [{key: g[key] for key in keys} for g in grants]


def assert_no_traceback(daemon: DaemonProc) -> None:
    log = daemon.log()
    assert "Traceback" not in log, log
    assert " ERROR " not in log, log


def daemon_cmd(socket_path: Path, data_dir: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "webui_daemon",
        "--socket",
        str(socket_path),
        "--data-dir",
        str(data_dir),
        *args,
    ]


def run_to_exit(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    """Run a daemon command that is expected to stop on its own (a start-up failure)."""
    return subprocess.run(
        cmd, env=daemon_env(env), capture_output=True, text=True, timeout=timeout, check=False
    )
