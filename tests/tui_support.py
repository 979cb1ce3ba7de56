"""Helpers for the TUI tests (no tests here): the app pointed at a test daemon, waiting in Pilot."""

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot

from tests.daemon_proc import DaemonProc
from webui_tui.app.app import WebUIApp
from webui_tui.app.config import TuiConfig
from webui_tui.client.base import socket_transport
from webui_tui.client.discovery import Target
from webui_tui.client.tui_extra import TuiClient

MODEL = "standin:latest"
OTHER_MODEL = "zephyr:latest"


def make_app(
    daemon: DaemonProc,
    tmp: Path,
    *,
    mode: str = "chat",
    client_turns: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    token: str | None = None,
    **config: Any,
) -> WebUIApp:
    """The app with a client on the daemon's socket and a private config file;
    `client_turns`: turns saved from the client, as against Open WebUI; `token`: signed in
    as that user instead of the socket's own OS account."""
    target = Target(source="WEBUI_SOCKET", socket=daemon.socket_path)
    client = TuiClient(target, token=token, timeout=10, transport=transport)
    client.client_turns = client_turns
    cfg = TuiConfig(path=tmp / "tui.toml", **config)
    return WebUIApp(client, config=cfg, start_mode=mode)


async def until(
    pilot: Pilot[Any], check: Callable[[], Any], timeout: float = 10.0, what: str = ""
) -> Any:
    """Let the app run until `check()` is truthy (bounded); its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.02)
        await pilot.pause()
    raise AssertionError(f"timed out waiting for {what or check}")


class Recording(httpx.AsyncBaseTransport):
    """The daemon's socket, keeping (method, path, JSON body) of each request the app sends."""

    def __init__(self, daemon: DaemonProc) -> None:
        self.inner = socket_transport(daemon.socket_path)
        self.sent: list[tuple[str, str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content) if request.content else None
        except (ValueError, httpx.RequestNotRead):  # an upload's multipart body
            body = None
        self.sent.append((request.method, request.url.path, body))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def completions(self) -> list[dict[str, Any]]:
        """The bodies of the completions asked."""
        return [body for _, path, body in self.sent if path == "/api/chat/completions"]
