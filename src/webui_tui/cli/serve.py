"""`webui serve`: run the daemon in the foreground (the only CLI module that imports it), or
print the systemd unit that runs it as a shared daemon (`--print-unit`)."""

import shlex
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

SHARED_SOCKET = "/run/webui/webui.sock"


def systemd_unit(
    *, group: str, data_dir: Path | None, local_users: str | None, port: int | None
) -> str:
    """A system unit for a daemon shared by `group`: its own account, the socket every user's
    CLI finds without configuration, logs to the journal (`journalctl -u webui`)."""
    exe = shutil.which("webui") or str(Path(sys.argv[0]).resolve())
    args = [exe, "serve", "--shared", "--group", group, "--socket", SHARED_SOCKET]
    if local_users:
        args += ["--local-users", local_users]
    if port is not None:
        args += ["--port", str(port)]
    home = str(data_dir or "/var/lib/webui")
    return f"""# /etc/systemd/system/webui.service: the webui daemon for group {group}.
# sudo useradd --system --home-dir {home} --create-home webui
# sudo systemctl enable --now webui; logs: journalctl -u webui
[Unit]
Description=webui daemon (shared by group {group})
After=network-online.target

[Service]
User=webui
Group={group}
RuntimeDirectory=webui
RuntimeDirectoryMode=0755
Environment=DATA_DIR={home}
ExecStart={shlex.join(args)}
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


def serve(
    socket: Annotated[
        Path | None, typer.Option(help="Unix socket path (default: per-user runtime dir).")
    ] = None,
    host: Annotated[str | None, typer.Option(help="TCP address, with --port.")] = None,
    port: Annotated[int | None, typer.Option(help="Also listen on this TCP port.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data folder (env DATA_DIR).")
    ] = None,
    shared: Annotated[
        bool, typer.Option("--shared", help="Serve several local users (socket 0660).")
    ] = False,
    group: Annotated[
        str | None, typer.Option(help="Group that may use the --shared socket.")
    ] = None,
    local_users: Annotated[
        str | None,
        typer.Option(
            "--local-users",
            help="trusted: local accounts use every unrestricted model and make their own "
            "knowledge bases, prompts and notes; restricted: Open WebUI's rules "
            "(env WEBUI_LOCAL_USERS, default trusted).",
        ),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option("--log-level", help="debug, info, warning or error.")
    ] = None,
    no_socket: Annotated[
        bool, typer.Option("--no-socket", help="Serve TCP only (needs --port).")
    ] = False,
    print_unit: Annotated[
        bool,
        typer.Option(
            "--print-unit",
            help="Print a systemd unit running this as a shared daemon for --group, and exit.",
        ),
    ] = False,
) -> None:
    """Run the daemon in the foreground until Ctrl-C or SIGTERM."""
    if print_unit:
        unit = systemd_unit(
            group=group or "webui", data_dir=data_dir, local_users=local_users, port=port
        )
        typer.echo(unit, nl=False)
        return
    # Imported here: fastapi, uvicorn and aiosqlite must stay off every other command's path.
    import gc

    gc.disable()  # as `python -m webui_daemon`: the lifespan turns it back on
    from webui_daemon.server import ServeOptions, run

    options = ServeOptions(
        socket=socket,
        host=host,
        port=port,
        data_dir=data_dir,
        shared=shared,
        group=group,
        local_users=local_users,
        log_level=log_level,
        no_socket=no_socket,
    )
    code = run(options)
    if code:
        raise typer.Exit(code)
