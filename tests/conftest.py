"""Shared fixtures: a real daemon process per test module, and users signed up on it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc, start_daemon


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProc]:
    """One daemon for a test module: Unix socket + loopback TCP, a fresh data folder."""
    proc = start_daemon(tmp_path_factory.mktemp("daemon"), env={"DEFAULT_USER_ROLE": "user"})
    yield proc
    proc.stop()


def signup(client: httpx.Client, name: str, email: str, password: str = "pw-123456") -> Any:
    r = client.post(
        "/api/v1/auths/signup", json={"name": name, "email": email, "password": password}
    )
    assert r.status_code == 200, r.text
    return r.json()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
