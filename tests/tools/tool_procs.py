"""Start the test tool servers (tests/tools/tool_servers.py) as processes on free ports."""

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.daemon_proc import free_port

SCRIPT = Path(__file__).with_name("tool_servers.py")
STDIO_COMMAND = [sys.executable, str(SCRIPT), "mcp-stdio"]


@dataclass
class ToolServerProc:
    url: str
    proc: subprocess.Popen[bytes]

    def calls(self) -> list[dict[str, object]]:
        """What the OpenAPI server was asked (its /calls)."""
        return list(httpx.get(f"{self.url}/calls", timeout=5).json())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def start_tool_server(kind: str) -> ToolServerProc:
    """`openapi` (url: its base) or `mcp-http` (url: its /mcp endpoint), ready to answer."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), kind, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{kind} tool server died: {proc.stderr.read() if proc.stderr else ''!r}"
            )
        try:
            httpx.get(f"{base}/", timeout=0.5)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError(f"{kind} tool server did not start")
    return ToolServerProc(base if kind == "openapi" else f"{base}/mcp", proc)


@pytest.fixture(scope="module")
def openapi_server() -> Iterator[ToolServerProc]:
    server = start_tool_server("openapi")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mcp_http_server() -> Iterator[ToolServerProc]:
    server = start_tool_server("mcp-http")
    yield server
    server.stop()
