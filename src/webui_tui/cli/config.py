"""`webui config get|set|unset`: your settings on the server (kept in your user settings)."""

from enum import StrEnum
from typing import Annotated

import typer

from webui_tui.cli.output import JsonFlag, print_json, say
from webui_tui.cli.runtime import call
from webui_tui.client.api import WebUIClient
from webui_tui.client.models import default_model_of

app = typer.Typer(help="Show and change your settings.", no_args_is_help=True)


class Key(StrEnum):
    default_model = "default-model"


KeyArg = Annotated[Key, typer.Argument(help="Setting name.", show_default=False)]


async def _values(client: WebUIClient) -> dict[str, str | None]:
    settings = await client.user_settings()
    return {Key.default_model.value: default_model_of(settings)}


@app.command("get")
def get(
    ctx: typer.Context,
    key: Annotated[
        Key | None, typer.Argument(help="Setting name (default: all).", show_default=False)
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Print settings (`default-model`: the model `webui chat` uses when none is named)."""
    values = call(ctx, _values)
    if key is not None:
        values = {key.value: values[key.value]}
    if json_out:
        print_json(values)
    elif key is not None:
        say(values[key.value] or "")
    else:
        for name, value in values.items():
            say(f"{name}\t{value or ''}")


@app.command("set")
def set_value(
    ctx: typer.Context,
    key: KeyArg,
    value: Annotated[str, typer.Argument(help="New value.", show_default=False)],
    json_out: JsonFlag = False,
) -> None:
    """Change a setting, e.g. `webui config set default-model llama3.1:8b`."""

    async def work(client: WebUIClient) -> dict[str, str | None]:
        await client.get_model(value)  # only a model you can use
        await client.set_default_model(value)
        return await _values(client)

    values = call(ctx, work)
    if json_out:
        print_json(values)
        return
    say(f"{key.value} is now {value}.")


@app.command("unset")
def unset_value(ctx: typer.Context, key: KeyArg, json_out: JsonFlag = False) -> None:
    """Forget a setting (default-model: then the first model listed is used)."""

    async def work(client: WebUIClient) -> dict[str, str | None]:
        await client.set_default_model(None)
        return await _values(client)

    values = call(ctx, work)
    if json_out:
        print_json(values)
        return
    say(f"{key.value} is unset.")
