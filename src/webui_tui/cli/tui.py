"""`webui tui` (and bare `webui` on a terminal): open the Textual app; textual is imported here."""

import typer

from webui_tui.cli.runtime import cli_state, resolve_target


def tui(ctx: typer.Context) -> None:
    """Open the terminal UI: chats, knowledge, admin, settings and memories (F1: the keys)."""
    run_tui(ctx)


def run_tui(ctx: typer.Context) -> None:
    from webui_tui.app.app import WebUIApp
    from webui_tui.client.connect import autostart_disabled
    from webui_tui.client.credentials import resolve_token
    from webui_tui.client.tui_extra import TuiClient

    target = resolve_target()
    transport = None
    allowed = not cli_state(ctx).no_autostart and not autostart_disabled()
    if target.may_autostart and target.socket and allowed:
        from webui_tui.client.autostart import AutostartTransport

        # Started quietly: a line on stderr would land in the middle of the screen.
        transport = AutostartTransport(target.socket)
    client = TuiClient(target, token=resolve_token(target), transport=transport)
    WebUIApp(client).run()
