"""`webui daemon start|stop|restart|logs`: the local daemon's life cycle, and its log.

start is the auto-start made explicit (a running daemon is no error); stop asks the daemon on
its socket (`POST /api/webui/shutdown`: the same graceful stop as SIGTERM, live answers saved
and marked interrupted) and, when nothing answers there, sends SIGTERM to the pid in the data
folder's daemon.lock if that process is yours; restart is both, so the daemon takes up the
settings of the environment it is restarted from; logs prints what a daemon started in the
background wrote (`DATA_DIR/daemon.log`).
"""

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from webui_daemon.schemas.system import DaemonInfo
from webui_tui.cli import daemon_files
from webui_tui.cli.output import JsonFlag, note, print_json, say
from webui_tui.cli.runtime import UsageProblem, call, resolve_target
from webui_tui.client import autostart
from webui_tui.client.api import WebUIClient
from webui_tui.client.credentials import resolve_token
from webui_tui.client.discovery import Target
from webui_tui.client.errors import DaemonUnreachable, NotFound, RequestFailed, WebUIClientError

app = typer.Typer(
    help="Start, stop or restart the local daemon, and read its log.", no_args_is_help=True
)

# The daemon's graceful shutdown waits up to 10 s for open requests, after ending live answers.
STOP_TIMEOUT_S = 20.0
SETTINGS_NOTE = "settings from this environment (OLLAMA_BASE_URLS, WEBUI_*, ...) now apply"


@dataclass(slots=True)
class Started:
    info: DaemonInfo | None
    log: Path | None  # set when this command started it

    def to_json(self, target: Target) -> dict[str, Any]:
        info = self.info
        return {
            "running": True,
            "started": self.log is not None,
            "pid": info.pid if info else None,
            "socket": info.socket if info else str(target.socket),
            "tcp": info.tcp if info else None,
            "data_dir": info.data_dir if info else None,
            "log": str(self.log or autostart.log_path()),
        }


@dataclass(slots=True)
class Stopped:
    pid: int | None
    how: str  # "api": it stopped when asked; "signal": SIGTERM to the lock's pid; "none"
    info: DaemonInfo | None = None

    def to_json(self) -> dict[str, Any]:
        return {"stopped": self.how != "none", "pid": self.pid, "how": self.how}


def _local_target() -> Target:
    target = resolve_target()
    if target.socket is None:
        raise UsageProblem(
            f"WEBUI_URL is set ({target.url}): `webui daemon` runs the local daemon only"
        )
    return target


def _where(info: DaemonInfo | None, target: Target) -> str:
    places = [info.socket, info.tcp] if info else [str(target.socket)]
    return " and ".join(place for place in places if place)


def _pid(info: DaemonInfo | None) -> str:
    return f" (pid {info.pid})" if info else ""


# --- start ---


async def _info(client: WebUIClient) -> DaemonInfo | None:
    try:
        return await client.daemon_info()
    except RequestFailed:
        return None  # a caller the daemon does not let read it (a pending account)


def start_daemon(target: Target) -> Started:
    """Start the daemon unless one answers; the per-user socket, or WEBUI_SOCKET's."""
    if target.source == "shared":
        raise UsageProblem(
            f"the shared daemon on {target.socket} does not answer; its system service "
            "starts it (`sudo systemctl start webui`)"
        )
    socket = target.socket
    assert socket is not None
    started: list[Path] = []

    async def main() -> DaemonInfo | None:
        # Auto-start regardless of --no-autostart and WEBUI_SOCKET: starting is what was asked.
        transport = autostart.AutostartTransport(socket, started.append)
        client = WebUIClient(target, token=resolve_token(target), transport=transport)
        async with client:
            await client.health()  # nobody answering: starts it (and waits until it answers)
            return await _info(client)

    info = asyncio.run(main())
    return Started(info, started[0] if started else None)


def _running(ctx: typer.Context, target: Target) -> Started | None:
    """The daemon answering on `target` (its info, if it lets us read it); None if none does."""

    async def probe(client: WebUIClient) -> Started:
        await client.health()
        return Started(await _info(client), None)

    try:
        return call(ctx, probe, target=target, autostart=False)
    except DaemonUnreachable:
        return None


@app.command("start")
def start(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Start the daemon in the background (as any command does when it needs one).

    It listens on your per-user socket (or WEBUI_SOCKET) and writes its log to
    DATA_DIR/daemon.log (`webui daemon logs`). A daemon already running is no error.
    """
    target = _local_target()
    outcome = _running(ctx, target) or start_daemon(target)
    if json_out:
        print_json(outcome.to_json(target))
        return
    where = f"{_pid(outcome.info)}, listening on {_where(outcome.info, target)}"
    if outcome.log is None:
        say(f"The webui daemon is already running{where}.")
        return
    say(f"Started the webui daemon{where}.")
    say(f"Its log: {outcome.log} (`webui daemon logs`).")


# --- stop ---


def _gone(pid: int | None, socket: Path | None, data_dir: Path | None) -> bool:
    if pid is not None and daemon_files.alive(pid):
        return False
    if socket is not None and socket.exists():
        return False  # it removes its socket as it ends
    return data_dir is None or daemon_files.lock_holder(data_dir) is None


def _wait_gone(pid: int | None, socket: Path | None, data_dir: Path | None) -> None:
    if not daemon_files.wait_until(lambda: _gone(pid, socket, data_dir), STOP_TIMEOUT_S):
        which = f"pid {pid}" if pid is not None else str(socket)
        raise WebUIClientError(
            f"asked the daemon ({which}) to stop, but it still runs after "
            f"{STOP_TIMEOUT_S:.0f} s (its log: `webui daemon logs`)"
        )


def stop_daemon(ctx: typer.Context, target: Target) -> Stopped:
    """Stop the daemon on `target`: over its socket, else by the pid in the data folder's lock."""

    async def ask(client: WebUIClient) -> Stopped:
        info = await _info(client)
        try:
            await client.shutdown_daemon()
        except NotFound:
            # A daemon from before the shutdown route: SIGTERM, if it is ours.
            if info is None or not daemon_files.is_mine(info.pid):
                raise
            daemon_files.terminate(info.pid)
            return Stopped(info.pid, "signal", info)
        return Stopped(info.pid if info else None, "api", info)

    try:
        stopped = call(ctx, ask, target=target, autostart=False)
    except DaemonUnreachable:
        return _stop_by_lock(target)
    info = stopped.info
    data_dir = Path(info.data_dir) if info else None
    _wait_gone(stopped.pid, target.socket, data_dir)
    return stopped


def _stop_by_lock(target: Target) -> Stopped:
    """Nothing answers on the socket: the daemon holding the data folder, if it is ours."""
    data_dir = autostart.data_dir()
    holder = daemon_files.lock_holder(data_dir)
    if holder is None:
        return Stopped(None, "none")
    if not daemon_files.is_mine(holder.pid):
        raise WebUIClientError(
            f"nothing answers on {target.socket}, and the daemon using {data_dir} "
            f"(pid {holder.pid}) runs under another account"
        )
    daemon_files.terminate(holder.pid)
    _wait_gone(holder.pid, None, data_dir)
    return Stopped(holder.pid, "signal")


def _say_stopped(stopped: Stopped, target: Target) -> None:
    if stopped.how == "none":
        say(f"The webui daemon is not running (nothing answers on {target.socket}).")
    elif stopped.how == "api":
        say(f"Stopped the webui daemon{_pid(stopped.info)}.")
    else:
        say(
            f"Nothing answered on {target.socket}; stopped the daemon using "
            f"{autostart.data_dir()} (pid {stopped.pid}) with SIGTERM."
        )


@app.command("stop")
def stop(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Stop the daemon: answers being generated are saved, marked interrupted.

    Yours, or any for an admin. When its socket does not answer, the process named in the data
    folder's daemon.lock gets SIGTERM, if it is yours. Not running is no error.
    """
    target = _local_target()
    stopped = stop_daemon(ctx, target)
    if json_out:
        print_json(stopped.to_json())
        return
    _say_stopped(stopped, target)


# --- restart ---


@app.command("restart")
def restart(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Stop the daemon and start it again, with this shell's environment.

    Settings changed there (OLLAMA_BASE_URLS, OPENAI_API_KEYS, WEBUI_*, ...) take effect.
    """
    target = _local_target()
    if target.source == "shared":
        raise UsageProblem(
            f"the shared daemon on {target.socket} is run by its system service: "
            "`sudo systemctl restart webui`"
        )
    stopped = stop_daemon(ctx, target)
    started = start_daemon(target)
    if json_out:
        print_json({"stopped": stopped.to_json(), "started": started.to_json(target)})
        return
    was = f"pid {stopped.pid} → " if stopped.pid is not None else ""
    now = f"pid {started.info.pid}" if started.info else "running"
    if stopped.how == "none":
        say(f"The webui daemon was not running; started it ({now}).")
    else:
        say(f"Restarted the webui daemon ({was}{now}).")
    say(f"Listening on {_where(started.info, target)}; {SETTINGS_NOTE}.")
    before = stopped.info.tcp if stopped.info else None
    if before and started.info is not None and started.info.tcp != before:
        note(f"it listened on {before} before; set WEBUI_PORT (and WEBUI_HOST) for TCP")


# --- logs ---


@app.command("logs")
def logs(
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing what it writes (Ctrl-C ends).")
    ] = False,
    lines: Annotated[
        int | None,
        typer.Option("--lines", "-n", min=0, help="Only the last N lines (with -f: 10)."),
    ] = None,
) -> None:
    """Print the log of the daemon started in the background (DATA_DIR/daemon.log).

    A daemon run with `webui serve` logs to its terminal; a shared one to its service's journal
    (`journalctl -u webui`).
    """
    path = autostart.log_path()
    count = lines if lines is not None else (10 if follow else -1)
    try:
        text, size = daemon_files.last_lines(path, count)
    except FileNotFoundError:
        raise UsageProblem(
            f"no daemon log at {path}: only a daemon started in the background writes one "
            "(`webui serve` logs to its terminal)"
        ) from None
    except OSError as exc:
        raise UsageProblem(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        daemon_files.write_out(text)
        if follow:
            daemon_files.follow(path, size, sys.stdout.buffer)
    except KeyboardInterrupt:
        return  # Ctrl-C is how -f ends
    except BrokenPipeError:
        # `| head`: nobody reads any more; nor should the flush at exit complain about it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
