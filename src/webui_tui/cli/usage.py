"""`webui usage`: requests and tokens per user, day and model on the daemon (yours; admins:
everyone's, or one user's with --user)."""

import re
from typing import Annotated

import typer

from webui_daemon.schemas.tasks import UsageOut
from webui_tui.cli.lookup import find_user
from webui_tui.cli.output import JsonFlag, note, print_json, print_table
from webui_tui.cli.runtime import UsageProblem, call
from webui_tui.client.api import WebUIClient


def days(text: str) -> int:
    """`7d`, `2w`, `30` (days) -> days."""
    match = re.fullmatch(r"\s*(\d+)\s*([dw]?)\s*", text)
    if match is None or int(match.group(1)) < 1:
        raise UsageProblem(f"--since takes a number of days or weeks, e.g. 7d or 2w (not {text!r})")
    return int(match.group(1)) * (7 if match.group(2) == "w" else 1)


def usage(
    ctx: typer.Context,
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user (email or id; admins).")
    ] = None,
    since: Annotated[str, typer.Option("--since", help="How far back: 7d, 2w, 30.")] = "7d",
    json_out: JsonFlag = False,
) -> None:
    """Requests and tokens per day and model: yours, or (admins) everyone's."""
    span = days(since)

    async def work(client: WebUIClient) -> list[UsageOut]:
        user_id = (await find_user(client, user)).id if user else None
        return await client.usage(user_id=user_id, since_days=span)

    rows = call(ctx, work)
    if json_out:
        print_json([r.model_dump() for r in rows])
        return
    if not rows:
        note(f"no generations in the last {span} day(s)")
        return
    print_table(
        ["DAY", "USER", "MODEL", "REQUESTS", "TOKENS IN", "TOKENS OUT"],
        [
            [r.day, r.user_name, r.model, str(r.requests), str(r.tokens_in), str(r.tokens_out)]
            for r in rows
        ],
    )
