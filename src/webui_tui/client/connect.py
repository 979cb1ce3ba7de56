"""Open a client the way a person means it: discovery, stored credentials, auto-start."""

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx

from webui_tui.client.api import WebUIClient
from webui_tui.client.autostart import AutostartTransport
from webui_tui.client.credentials import resolve_token
from webui_tui.client.discovery import Target, discover


def autostart_disabled(env: Mapping[str, str] | None = None) -> bool:
    """`WEBUI_NO_AUTOSTART=1` (or true/yes/on) turns auto-start off."""
    value = (os.environ if env is None else env).get("WEBUI_NO_AUTOSTART", "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def open_client(
    target: Target | None = None,
    *,
    token: str | None = None,
    autostart: bool = True,
    on_start: Callable[[Path], None] | None = None,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
    quick: bool = False,
) -> WebUIClient:
    """A client for `target` (default: discovered), with its token and, if allowed, auto-start.
    A `transport` given carries every request (no auto-start then). `quick`: on the socket,
    the standard library's HTTP (blocking.py) for a command of a few short requests, which
    then skips httpx's transport imports (~40 ms); not for streams.

    Raises ValueError for a malformed `WEBUI_URL`.
    """
    target = target or discover()
    if token is None:
        token = resolve_token(target)
    if transport is not None:
        autostart = False
    inner = None
    if quick and transport is None and target.socket:
        from webui_tui.client.blocking import BlockingSocketTransport

        inner = transport = BlockingSocketTransport(target.socket, timeout)
    if autostart and target.may_autostart and target.socket and not autostart_disabled():
        transport = AutostartTransport(target.socket, on_start, inner=inner)
    client = WebUIClient(target, token=token, transport=transport, timeout=timeout)
    client.client_turns = client_turns_forced()
    return client


def client_turns_forced(env: Mapping[str, str] | None = None) -> bool:
    """`WEBUI_CLIENT_TURNS=1`: save chat turns from the client, as against Open WebUI, even
    on a webui daemon (a debugging and compatibility switch)."""
    value = (os.environ if env is None else env).get("WEBUI_CLIENT_TURNS", "")
    return value.strip().lower() in ("1", "true", "yes", "on")
