"""Auto-start: when nobody listens on the per-user socket, start the daemon in the background."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from webui_tui.client.base import socket_transport
from webui_tui.client.errors import DaemonUnreachable

# A cold start imports fastapi, uvicorn and aiosqlite; on a cold disk cache that can take seconds.
START_TIMEOUT_S = 15.0
_POLL_S = 0.05


def data_dir() -> Path:
    """The daemon's data folder as it will compute it (`DATA_DIR`, else platformdirs)."""
    if os.environ.get("DATA_DIR"):
        return Path(os.environ["DATA_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("webui"))


def log_path() -> Path:
    """Where a daemon started in the background writes its output (`webui daemon logs`)."""
    return data_dir() / "daemon.log"


def spawn_daemon() -> tuple["subprocess.Popen[bytes]", Path]:
    """Start `python -m webui_daemon` detached from us, appending its output to daemon.log."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_file = folder / "daemon.log"
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as log:
        # A new session: the daemon outlives this command and ignores its terminal's Ctrl-C.
        process = subprocess.Popen(
            [sys.executable, "-m", "webui_daemon"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    return process, log_file


def last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


class AutostartTransport(httpx.AsyncBaseTransport):
    """A Unix-socket transport that starts the daemon once if the first connection fails.

    Retrying is safe: a refused connection means nothing of the request was sent.
    """

    def __init__(
        self,
        socket_path: Path,
        on_start: Callable[[Path], None] | None = None,
        timeout: float = START_TIMEOUT_S,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.socket_path = socket_path
        self._inner = inner or socket_transport(socket_path)
        self._on_start = on_start
        self._timeout = timeout
        self._lock = asyncio.Lock()
        self._attempted = False
        self._failure: DaemonUnreachable | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except httpx.ConnectError:
            await self._ensure_started()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def _ensure_started(self) -> None:
        # Concurrent requests (status asks several things at once) start one daemon, not three.
        async with self._lock:
            if not self._attempted:
                self._attempted = True
                try:
                    await self._start()
                except DaemonUnreachable as exc:
                    self._failure = exc
            if self._failure is not None:
                raise self._failure

    async def _start(self) -> None:
        try:
            process, log_path = spawn_daemon()
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise DaemonUnreachable(
                f"could not start the daemon: {exc.strerror or exc}{where}"
            ) from None
        deadline = time.monotonic() + self._timeout
        while True:
            if await self._healthy():
                if self._on_start is not None:
                    self._on_start(log_path)
                return
            if process.poll() is not None:
                # Another command may have started one at the same moment: look once more.
                if await self._healthy():
                    return
                # The daemon words its start-up errors as "webui: ..." already.
                reason = last_line(log_path).removeprefix("webui: ")
                reason = reason or f"exit code {process.returncode}"
                raise DaemonUnreachable(f"could not start the daemon: {reason}", f"log: {log_path}")
            if time.monotonic() > deadline:
                raise DaemonUnreachable(
                    f"started the daemon, but it did not answer on {self.socket_path} "
                    f"within {self._timeout:.0f} s",
                    f"log: {log_path}",
                )
            await asyncio.sleep(_POLL_S)

    async def _healthy(self) -> bool:
        request = httpx.Request("GET", "http://webui/health")
        try:
            response = await self._inner.handle_async_request(request)
            await response.aread()
            await response.aclose()
        except httpx.TransportError:
            return False
        return response.status_code == 200
