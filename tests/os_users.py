"""Throwaway OS accounts for the tests that need a second local user (root only), and a
stdlib-only HTTP client run as that account against a Unix socket."""

import grp
import json
import os
import pwd
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

CLIENT = r"""
import http.client, json, os, socket, sys

class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("webui", timeout=10)
        self.unix_path = path
    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(self.unix_path)
        self.sock = sock

out = []
for step in json.loads(sys.argv[1]):
    try:
        if step["op"] == "listdir":
            out.append({"entries": os.listdir(step["path"])})
            continue
        conn = UnixConnection(step["socket"])
        body = json.dumps(step["json"]).encode() if "json" in step else None
        headers = dict(step.get("headers", {}))
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(step["method"], step["path"], body=body, headers=headers)
        resp = conn.getresponse()
        out.append({"status": resp.status, "body": json.loads(resp.read() or b"null")})
        conn.close()
    except OSError as exc:
        out.append({"error": type(exc).__name__, "errno": exc.errno})
print(json.dumps(out))
"""


@dataclass(frozen=True)
class OsUser:
    name: str
    uid: int
    gid: int
    group: str  # a group the user belongs to, for the shared socket
    group_gid: int
    python: str  # an interpreter this account may execute


def _require_root_tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("creating a second OS account needs root")
    for tool in ("useradd", "userdel", "groupadd", "groupdel"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


def _python_for(uid: int, gid: int) -> str | None:
    """The test venv may live where other accounts cannot read (e.g. under /root)."""
    for candidate in (os.path.realpath(shutil.which("python3") or ""), "/usr/bin/python3"):
        if not candidate or not os.path.exists(candidate):
            continue
        try:
            probe = subprocess.run(
                [candidate, "-I", "-S", "-c", "import http.client, json, socket"],
                user=uid,
                group=gid,
                extra_groups=[],
                cwd="/",
                env={"PATH": "/usr/bin:/bin"},
                capture_output=True,
                timeout=20,
                check=False,
            )
        except OSError:  # not executable by that account
            continue
        if probe.returncode == 0:
            return candidate
    return None


@contextmanager
def os_user_account(group: str | None = None) -> Iterator[OsUser]:
    """A new OS account, removed afterwards (skips unless root), in `group` or else in a new
    group of its own (removed too)."""
    _require_root_tools()
    suffix = uuid.uuid4().hex[:8]
    name = f"webui-test-{suffix}"
    own_group = group is None
    group = group or f"webui-tg-{suffix}"
    if own_group:
        subprocess.run(["groupadd", group], check=True, capture_output=True, timeout=30)
    try:
        subprocess.run(
            ["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-G", group, name],
            check=True,
            capture_output=True,
            timeout=30,
        )
        try:
            entry = pwd.getpwnam(name)
            python = _python_for(entry.pw_uid, entry.pw_gid)
            if python is None:
                pytest.skip("no Python interpreter that the test account may run")
            yield OsUser(
                name,
                entry.pw_uid,
                entry.pw_gid,
                group,
                grp.getgrnam(group).gr_gid,
                python,
            )
        finally:
            subprocess.run(["userdel", name], capture_output=True, timeout=30, check=False)
    finally:
        if own_group:
            subprocess.run(["groupdel", group], capture_output=True, timeout=30, check=False)


def run_as(user: OsUser, steps: list[dict[str, Any]], *, in_group: bool = True) -> list[Any]:
    """Run the client as `user` (with or without its extra group) and return its results."""
    proc = subprocess.run(
        [user.python, "-I", "-S", "-c", CLIENT, json.dumps(steps)],
        user=user.uid,
        group=user.gid,
        extra_groups=[user.group_gid] if in_group else [],
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "HOME": "/"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results: list[Any] = json.loads(proc.stdout)
    return results
