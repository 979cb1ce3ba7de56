"""`webui apikey create|show|rm`: your API key (one per user) for scripts and SDKs."""

import typer

from webui_daemon.schemas.auths import ApiKey
from webui_tui.cli.output import JsonFlag, note, print_json, say, stdout_is_tty
from webui_tui.cli.runtime import call
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import NotFound

app = typer.Typer(help="Create, show or delete your API key.", no_args_is_help=True)


@app.command("create")
def create(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Create a new API key; it replaces your previous one. Prints only the key."""
    key = call(ctx, lambda client: client.create_api_key())
    if json_out:
        print_json(key)
        return
    say(key.api_key)
    if stdout_is_tty():
        note("this key replaces any earlier one; use it as `Authorization: Bearer <key>`")


@app.command("show")
def show(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Print your API key (an error if you have none)."""
    key = call(ctx, _get)
    if json_out:
        print_json(key)
        return
    say(key.api_key)


@app.command("rm")
def remove(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Delete your API key: scripts using it stop working."""
    deleted = call(ctx, lambda client: client.delete_api_key())
    if json_out:
        print_json({"deleted": deleted})
        return
    say("API key deleted." if deleted else "You had no API key.")


async def _get(client: WebUIClient) -> ApiKey:
    try:
        return await client.get_api_key()
    except NotFound as exc:
        raise NotFound(
            exc.status, "you have no API key; create one with `webui apikey create`"
        ) from None
