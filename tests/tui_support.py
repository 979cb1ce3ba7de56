"""Helpers for the TUI tests (no tests here): the app pointed at a test daemon, waiting in Pilot."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.daemon_proc import DaemonProc
from webui_tui.app.app import WebUIApp
from webui_tui.app.config import TuiConfig
from webui_tui.client.discovery import Target
from webui_tui.client.tui_extra import TuiClient

MODEL = "standin:latest"
OTHER_MODEL = "zephyr:latest"


def make_app(daemon: DaemonProc, tmp: Path, *, mode: str = "chat", **config: Any) -> WebUIApp:
    """The app with a client on the daemon's socket and a private config file."""
    target = Target(source="WEBUI_SOCKET", socket=daemon.socket_path)
    client = TuiClient(target, timeout=10)
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
