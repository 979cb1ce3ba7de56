"""Helpers for the chat, models, chats and connections CLI tests (no tests here).

A daemon on a temporary socket whose only provider is a stand-in Ollama, the CLI run in a
subprocess (its caller is the daemon's own OS user: an admin, no token needed), and reads
of the chat store through the daemon's HTTP API.
"""

import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.cli_support import cli_env
from tests.daemon_proc import DaemonProc, start_daemon
from tests.standins import StandIn, provider_env

T = TypeVar("T")
MODEL = "standin:latest"
OTHER_MODEL = "zephyr:latest"  # sorts after MODEL: MODEL is the first listed


def standin_env(standin: StandIn, **env: str) -> dict[str, str]:
    """A daemon's environment using only `standin`; title generation off unless asked for."""
    extra = {"ENABLE_TITLE_GENERATION": "false", **env}
    return provider_env(ollama=[standin], **extra)


def provider_daemon(tmp: Path, standin: StandIn, **env: str) -> DaemonProc:
    """A daemon that uses only `standin`; title generation off unless asked for."""
    return start_daemon(tmp, env=standin_env(standin, **env))


def chat_env(daemon: DaemonProc, tmp: Path) -> dict[str, str]:
    return cli_env(tmp, WEBUI_SOCKET=str(daemon.socket_path), WEBUI_NO_AUTOSTART="1")


def api(daemon: DaemonProc) -> httpx.Client:
    """The daemon's API on its socket, as the same OS user as the CLI."""
    return daemon.unix_client(timeout=10)


def get_chat(daemon: DaemonProc, chat_id: str) -> dict[str, Any]:
    with api(daemon) as c:
        r = c.get(f"/api/v1/chats/{chat_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def chat_ids(daemon: DaemonProc) -> set[str]:
    with api(daemon) as c:
        r = c.get("/api/v1/chats/", params={"include_pinned": True, "include_folders": True})
        assert r.status_code == 200, r.text
        archived = c.get("/api/v1/chats/archived").json()
        return {chat["id"] for chat in r.json() + archived}


def message(daemon: DaemonProc, chat_id: str, message_id: str) -> dict[str, Any]:
    return dict(get_chat(daemon, chat_id)["chat"]["history"]["messages"].get(message_id) or {})


def poll(check: Callable[[], T | None], timeout: float = 10.0, step: float = 0.05) -> T:
    """The first truthy answer of `check`, asked until `timeout` (then AssertionError)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s (last: {last!r})")


def spawn(*args: str, env: dict[str, str], stdin: str | None = None) -> "subprocess.Popen[str]":
    """Start the CLI without waiting (for signals mid-stream); stdout and stderr are pipes."""
    return subprocess.Popen(
        [sys.executable, "-m", "webui_tui.cli.main", *args],
        env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(proc: "subprocess.Popen[str]", wanted: str, timeout: float = 10.0) -> str:
    """Read the CLI's stdout until `wanted` has appeared (it is flushed as it streams)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted.encode() not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{wanted!r} did not appear in time; got {seen[-300:]!r}")
        ready, _, _ = select.select([fd], [], [], min(left, 0.1))
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"{wanted!r} did not appear before EOF; got {seen[-300:]!r}")
            seen += chunk
    return seen.decode()
