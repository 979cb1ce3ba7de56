"""`webui serve`: run the daemon in the foreground (the only CLI module that imports it)."""

from pathlib import Path
from typing import Annotated

import typer


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
) -> None:
    """Run the daemon in the foreground until Ctrl-C or SIGTERM."""
    # Imported here: fastapi, uvicorn and aiosqlite must stay off every other command's path.
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
