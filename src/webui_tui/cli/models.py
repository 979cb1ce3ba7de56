"""`webui models list|show|preset create|preset rm` (the models you can chat with, and presets),
`export|import` (model records: cli/model_records.py), `access` (who may use a model:
cli/access.py) and `pull|rm|ps` (Ollama models on the daemon's nodes, for admins:
cli/model_admin.py)."""

import json
from typing import Annotated, Any

import typer

from webui_daemon.schemas.models import ModelForm, ModelModel
from webui_tui.cli import access, model_admin, model_records
from webui_tui.cli.output import JsonFlag, print_json, print_table, say
from webui_tui.cli.runtime import UsageProblem, call, confirm_or_yes
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import RequestFailed
from webui_tui.client.models import ModelEntry
from webui_tui.client.tasks import both

app = typer.Typer(
    help="List and show models; who may use them (access); presets (create, rm, export, "
    "import); Ollama models (pull, rm).",
    no_args_is_help=True,
)
preset_app = typer.Typer(
    help="Presets: a base model with its own name, system prompt and parameters.",
    no_args_is_help=True,
)
app.add_typer(preset_app, name="preset")
app.command("pull")(model_admin.pull)
app.command("rm")(model_admin.remove)
app.command("ps")(model_admin.loaded)
app.command("export")(model_records.export)
app.command("import")(model_records.import_)
app.command("access")(access.model_access)

ModelArg = Annotated[str, typer.Argument(help="Model id.", show_default=False)]


def _provider(entry: ModelEntry) -> str:
    return entry.owned_by or entry.connection_type or "-"


@app.command("list")
def list_models(
    ctx: typer.Context,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask the providers again (no cache).")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """List models: id, name, provider, base model (presets), and your default (*)."""

    async def work(client: WebUIClient) -> tuple[list[ModelEntry], str | None]:
        return await both(client.list_models(refresh=refresh), client.default_model())

    models, default = call(ctx, work)
    if json_out:
        print_json(models)
        return
    rows = [
        [
            m.id,
            m.display_name,
            _provider(m),
            m.base_model_id or "",
            "*" if m.id == default else "",
        ]
        for m in models
    ]
    print_table(["ID", "NAME", "PROVIDER", "BASE", "DEFAULT"], rows)


@app.command("show")
def show_model(ctx: typer.Context, model_id: ModelArg, json_out: JsonFlag = False) -> None:
    """Show one model; for a preset also its base model, system prompt and parameters."""

    async def work(client: WebUIClient) -> dict[str, Any]:
        entry, default = await both(client.get_model(model_id), client.default_model())
        record: ModelModel | None = None
        if entry.info is not None:
            try:
                record = await client.get_model_record(model_id)
            except RequestFailed:
                record = None  # a base model you may use but whose record is not yours to read
        shown = entry.model_dump(mode="json")
        shown["default"] = entry.id == default
        if record is not None:
            shown["record"] = record.model_dump(mode="json")
        return shown

    shown = call(ctx, work)
    if json_out:
        print_json(shown)
        return
    record = shown.get("record") or shown.get("info") or {}
    params = dict(record.get("params") or {})
    system = params.pop("system", None)
    rows = [
        ("id", shown["id"]),
        ("name", shown.get("name") or shown["id"]),
        ("provider", shown.get("owned_by") or shown.get("connection_type") or "-"),
    ]
    if record.get("base_model_id"):
        rows.append(("base", str(record["base_model_id"])))
    if system:
        rows.append(("system", " ".join(str(system).split())))
    if params:
        rows.append(("params", ", ".join(f"{k}={json.dumps(v)}" for k, v in params.items())))
    rows.append(("default", "yes" if shown["default"] else "no"))
    for key, value in rows:
        say(f"{key:<9} {value}")


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """`k=v` pairs; a value that reads as JSON (0.7, true, [..]) is taken as such."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageProblem(f"--param wants key=value, not {pair!r}")
        try:
            params[key.strip()] = json.loads(value)
        except ValueError:
            params[key.strip()] = value
    return params


@preset_app.command("create")
def create_preset(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="Id of the new preset.", show_default=False)],
    base: Annotated[
        str, typer.Option("--base", help="The model it is based on.", show_default=False)
    ],
    system: Annotated[str | None, typer.Option("--system", "-s", help="System prompt.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name (default: id).")] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A parameter, key=value (repeatable)."),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Create a preset: BASE with its own system prompt and parameters."""
    if any(ch.isspace() for ch in model_id):
        raise UsageProblem("a preset id cannot contain spaces")
    params = parse_params(param or [])
    if system is not None:
        params["system"] = system
    form = ModelForm(id=model_id, base_model_id=base, name=name or model_id, params=params)

    async def work(client: WebUIClient) -> ModelModel:
        await client.get_model(base)  # a clear error for a base model that is not there
        return await client.create_preset(form)

    created = call(ctx, work)
    if json_out:
        print_json(created)
        return
    say(f"Created preset {created.id} (based on {created.base_model_id}).")


@preset_app.command("rm")
def remove_preset(
    ctx: typer.Context,
    model_id: ModelArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Delete a preset (its base model stays)."""
    confirm_or_yes(yes, f"Delete preset {model_id}?")
    deleted = call(ctx, lambda client: client.delete_preset(model_id))
    if json_out:
        print_json({"id": model_id, "deleted": deleted})
        return
    say(f"Deleted preset {model_id}." if deleted else f"No preset {model_id} was deleted.")
