"""`webui ps` and `webui stop ID`: the generations running and waiting on the daemon's provider
nodes (yours, or everyone's for an admin), and stopping one."""

from typing import Annotated

import typer

from webui_daemon.schemas.tasks import GenerationOut
from webui_tui.cli.output import JsonFlag, note, print_json, print_table, say
from webui_tui.cli.runtime import call
from webui_tui.client.errors import NotFound


def _rate(g: GenerationOut) -> str:
    """Tokens per second, estimated from the text so far (about 4 characters a token)."""
    if not g.running_s or g.chars <= 0:
        return "-"
    return f"≈{g.chars / 4 / g.running_s:.0f}"


def _row(g: GenerationOut) -> list[str]:
    state = g.state if g.position is None else f"queued #{g.position}"
    if not g.interactive:
        state += " (api key)"
    for_s = g.running_s if g.running_s is not None else g.waited_s
    return [
        g.id,
        g.user_name,
        g.model,
        g.node,
        state,
        f"{g.waited_s:.1f}s",
        f"{for_s:.1f}s",
        f"≈{g.chars // 4}",
        _rate(g),
    ]


def ps(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Generations running and waiting on the provider nodes: yours (admins: everyone's)."""
    rows = call(ctx, lambda client: client.generations())
    if json_out:
        print_json([g.model_dump() for g in rows])
        return
    if not rows:
        note("nothing is generating")
        return
    print_table(
        ["ID", "USER", "MODEL", "NODE", "STATE", "WAITED", "FOR", "TOKENS", "TOK/S"],
        [_row(g) for g in rows],
    )


def stop(
    ctx: typer.Context,
    task_id: Annotated[str, typer.Argument(metavar="ID", help="An ID from `webui ps`.")],
    json_out: JsonFlag = False,
) -> None:
    """Stop a generation (or take it out of the line): yours, or anyone's for an admin."""
    stopped = call(ctx, lambda client: client.stop_message(task_id))
    if json_out:
        print_json({"id": task_id, "stopped": stopped})
        return
    if not stopped:
        raise NotFound(
            404,
            f"{task_id} is not a generation you may stop (see `webui ps`)",
            "POST",
            f"/api/tasks/stop/{task_id}",
        )
    say(f"Stopped {task_id}.")
