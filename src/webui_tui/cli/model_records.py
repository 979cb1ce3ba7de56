"""`webui models export|import`: model records (presets) as Open WebUI's JSON, for backups and
moving them between servers."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from webui_tui.cli.output import JsonFlag, print_json, say
from webui_tui.cli.runtime import UsageProblem, call, read_input, write_output


def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Export model records (your presets; an admin's: all) as JSON Open WebUI also reads."""
    records = call(ctx, lambda client: client.export_presets())
    text = json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False, indent=2)
    if write_output(text + "\n", output):
        say(f"Exported {len(records)} model record(s) to {output}.")


def _read(source: str) -> list[dict[str, Any]]:
    """Records from an export: a JSON list, or `{"models": [...]}`."""
    try:
        data = json.loads(read_input(source))
    except ValueError:
        raise UsageProblem(f"{source} is not JSON") from None
    if isinstance(data, dict) and isinstance(data.get("models"), list):
        data = data["models"]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UsageProblem(f"{source} holds no list of model records")
    return data


def import_(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="Export file (JSON), or - for stdin.", show_default=False)
    ],
    json_out: JsonFlag = False,
) -> None:
    """Import model records: new ids are created, existing ones updated (all or none)."""
    records = _read(source)
    call(ctx, lambda client: client.import_presets(records))
    if json_out:
        print_json({"imported": [r.get("id") for r in records]})
        return
    say(f"Imported {len(records)} model record(s).")
