"""Run the daemon: the data-folder lock, the Unix socket (and optional TCP), uvicorn, shutdown.

Unix-socket callers are identified by SO_PEERCRED: a thin subclass of uvicorn's HTTP protocol
reads the peer's credentials when a connection is made and puts them in each request's scope.
A caller the socket is not meant for (not the owner of a per-user socket, not in a shared
socket's group) is answered 403 on every request, whatever the socket file's mode says.
"""

import asyncio
import contextlib
import fcntl
import grp
import json
import logging
import os
import signal
import socket
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webui_daemon.api.deps import PEER_KEY
from webui_daemon.app import ListenInfo, create_app
from webui_daemon.security.peer import PeerPolicy, peer_credentials, peer_groups
from webui_daemon.security.tokens import parse_duration
from webui_daemon.settings import Settings

log = logging.getLogger("webui_daemon")


class StartupError(Exception):
    """A reason the daemon cannot start, worded for the person who started it."""


@dataclass(slots=True)
class ServeOptions:
    socket: Path | None = None
    host: str | None = None
    port: int | None = None
    data_dir: Path | None = None
    shared: bool = False
    group: str | None = None
    local_users: str | None = None
    log_level: str | None = None
    no_socket: bool = False


def build_settings(options: ServeOptions) -> Settings:
    overrides: dict[str, Any] = {}
    if options.socket is not None:
        overrides["WEBUI_SOCKET"] = options.socket
    if options.host is not None:
        overrides["WEBUI_HOST"] = options.host
    if options.port is not None:
        overrides["WEBUI_PORT"] = options.port
    if options.data_dir is not None:
        overrides["DATA_DIR"] = options.data_dir
    if options.shared:
        overrides["WEBUI_SHARED"] = True
    if options.group is not None:
        overrides["WEBUI_SHARED_GROUP"] = options.group
    if options.local_users is not None:
        overrides["WEBUI_LOCAL_USERS"] = options.local_users
    if options.log_level is not None:
        overrides["WEBUI_LOG_LEVEL"] = options.log_level
    return Settings(**overrides)


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[Path]:
    """Hold an exclusive lock on the data folder for the daemon's lifetime."""
    path = data_dir / "daemon.lock"
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise StartupError(
            f"another webui daemon already uses {data_dir} ({holder}); "
            "stop it with `webui daemon stop`, or pass another --data-dir"
        ) from None
    try:
        yield path
    finally:
        handle.close()


def _socket_in_use(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def bind_unix_socket(path: Path, *, shared: bool, group: str | None) -> socket.socket:
    """Bind the socket with its final mode from the start (no window where others can connect)."""
    # The daemon runs under umask 077, which would make a new folder for a shared socket
    # untraversable by the very users it is shared with.
    old_umask = os.umask(0o022 if shared else 0o077)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755 if shared else 0o700)
    finally:
        os.umask(old_umask)
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            # A typo in --socket must not cost someone a file.
            raise StartupError(f"{path} exists and is not a socket; remove it or pick another path")
        if _socket_in_use(path):
            raise StartupError(
                f"a webui daemon already listens on {path}; stop it with `webui daemon stop`, "
                "or pass another --socket"
            )
        path.unlink()  # left behind by a daemon that was killed
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mode = 0o660 if shared else 0o600
    old_umask = os.umask(0o777 & ~mode)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old_umask)
    if shared and group:
        try:
            gid = grp.getgrnam(group).gr_gid
        except KeyError:
            sock.close()
            path.unlink(missing_ok=True)
            raise StartupError(
                f"no such group: {group} (create it or pass another --group)"
            ) from None
        os.chown(path, -1, gid)
    os.chmod(path, mode)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def bind_tcp_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on sockets that say they are TCP;
    # without it every response waited ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _peer_aware(base: type[Any], policy: PeerPolicy) -> type[Any]:
    """uvicorn's HTTP protocol, plus the Unix peer's credentials in every request scope; a peer
    the policy does not admit gets a 403 for each request and never reaches the app."""

    class PeerAwareProtocol(base):  # type: ignore[misc]
        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            raw = transport.get_extra_info("socket")
            if raw is None or raw.family != socket.AF_UNIX:
                return
            creds = peer_credentials(raw)
            if creds is None:
                return
            if not policy.admits(creds, peer_groups(raw)):
                reason = policy.refusal(creds)
                log.warning("refused a socket connection from uid %d: %s", creds.uid, reason)
                self.app = _refuse(reason)
                return
            inner: Any = self.app

            async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
                scope.setdefault("extensions", {})[PEER_KEY] = creds
                await inner(scope, receive, send)

            self.app = app

    return PeerAwareProtocol


def _refuse(reason: str) -> Any:
    """An ASGI app that answers every request 403 with Open WebUI's error shape."""
    body = json.dumps({"detail": reason}).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def socket_policy(sock: socket.socket, *, shared: bool) -> PeerPolicy:
    """Who the bound socket is for: its owner, and on a shared socket the file's group."""
    owner = os.getuid()
    if not shared:
        return PeerPolicy(owner)
    return PeerPolicy(owner, os.stat(sock.getsockname()).st_gid)


def _server_class(base: type[Any], app: Any) -> type[Any]:
    """uvicorn's Server, which on shutdown also interrupts running generations at once."""

    class WebUIServer(base):  # type: ignore[misc]
        _wake: asyncio.Event | None = None
        _loop: asyncio.AbstractEventLoop | None = None

        async def main_loop(self) -> None:
            # Private uvicorn API (its version range is capped in pyproject.toml for this).
            # uvicorn wakes every 0.1 s to look for a stop request and refresh its Date
            # header; an idle daemon should sleep (laptops, and a shared box's CPU). Here a
            # stop request wakes the loop, and the date is refreshed once a second.
            self._wake = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            counter = 0
            while not await self.on_tick(counter):
                counter = (counter + 10) % 864000  # on_tick refreshes the date on multiples of 10
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self._wake.wait()

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            if self._loop is not None and self._wake is not None:
                self._loop.call_soon_threadsafe(self._wake.set)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # Stop accepting first, then end live turns (saving what arrived, marked
            # interrupted), so their streaming responses finish instead of holding the
            # graceful shutdown open until its timeout.
            for listener in getattr(self, "servers", []):
                listener.close()
            services = getattr(app.state, "services", None)
            generations = getattr(services, "generations", None)
            if generations is not None:
                generations.close()  # requests waiting for a slot: told, not kept waiting
            turns = getattr(services, "turns", None)
            if turns is not None:
                await turns.shutdown()
            await super().shutdown(sockets=sockets)

    return WebUIServer


def _quiet_startup_failure(app: Any) -> Any:
    """Starlette reports a failed start-up with a full traceback, which uvicorn prints; the
    lifespan has already logged the reason in one line, so drop the traceback text."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def quiet_send(message: dict[str, Any]) -> None:
            if message.get("type") == "lifespan.startup.failed":
                message = {**message, "message": ""}
            await send(message)

        await app(scope, receive, quiet_send)

    return wrapped


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def run(options: ServeOptions) -> int:
    """Start the daemon and block until SIGTERM/SIGINT; returns the exit code."""
    try:
        settings = build_settings(options)
        # Checked before uvicorn starts: a bad value is then one line, not a lifespan traceback.
        parse_duration(settings.jwt_expires_in)
        _configure_logging(settings.log_level)
    except ValueError as exc:
        print(f"webui: invalid setting: {exc}", file=sys.stderr)
        return 1
    try:
        return _serve(settings, options)
    except StartupError as exc:
        print(f"webui: {exc}", file=sys.stderr)
        return 1


def _serve(settings: Settings, options: ServeOptions) -> int:
    import uvicorn
    from uvicorn.config import Config

    os.umask(0o077)  # database, logs and uploads are private to the daemon's account
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if settings.shared:
        os.chmod(settings.data_dir, 0o700)  # the daemon reads it; the users go through the socket
    with data_dir_lock(settings.data_dir) as lock_path:
        listen = ListenInfo()
        sockets: list[socket.socket] = []
        socket_path = None if options.no_socket else settings.resolved_socket_path()
        try:
            policy = PeerPolicy(os.getuid())
            if socket_path is not None:
                unix_sock = bind_unix_socket(
                    socket_path, shared=settings.shared, group=settings.shared_group
                )
                sockets.append(unix_sock)
                policy = socket_policy(unix_sock, shared=settings.shared)
                listen.socket = str(socket_path)
            if settings.port is not None:
                tcp = bind_tcp_socket(settings.host, settings.port)
                sockets.append(tcp)
                host, port = tcp.getsockname()[:2]
                listen.tcp = f"http://{host}:{port}"
            if not sockets:
                raise StartupError("nothing to listen on: give a socket or --port")
            lock_path.write_text(f"pid {os.getpid()}, socket {listen.socket or '-'}\n")

            app = create_app(settings, listen)
            config = Config(
                _quiet_startup_failure(app),
                lifespan="on",
                log_config=None,
                access_log=False,
                server_header=False,
                timeout_graceful_shutdown=10,
            )
            config.load()
            config.http_protocol_class = _peer_aware(config.http_protocol_class, policy)
            server = _server_class(uvicorn.Server, app)(config)
            # For api/system.py: the uptime, and `POST /api/webui/shutdown` (`webui daemon
            # stop`), which stops the server exactly as SIGTERM does.
            app.state.started = time.monotonic()
            app.state.request_shutdown = lambda: server.handle_exit(signal.SIGTERM, None)
            # uvicorn re-raises the signal that stopped it once it is done; a no-op handler
            # here turns that into a clean exit 0 after the graceful shutdown.
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: None)
            where = ", ".join(x for x in (listen.socket, listen.tcp) if x)
            log.info("listening on %s", where)
            try:
                asyncio.run(server.serve(sockets=sockets))
            except SystemExit:
                return 1  # uvicorn's exit on a failed start-up, already reported in one line
            return 0 if server.started else 1
        finally:
            for sock in sockets:
                sock.close()
            if socket_path is not None and listen.socket is not None:
                socket_path.unlink(missing_ok=True)
