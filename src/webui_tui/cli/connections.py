"""`webui connections list|add|rm|test`: the Ollama and OpenAI-compatible URLs (admins only).

`list` shows where each URL's settings come from (env, default, stored: saved settings win
over the environment), whether it answers, and how many models it lists.
"""

import asyncio
from enum import StrEnum
from typing import Annotated, Any

import typer

from webui_daemon.schemas.connections import ConnectionsState, ConnectionState
from webui_tui.cli.output import JsonFlag, note, print_json, print_table, say
from webui_tui.cli.runtime import call
from webui_tui.cli.status import connection_health
from webui_tui.client.api import WebUIClient
from webui_tui.client.connections import Connection, Kind, clean_url, guess_kind
from webui_tui.client.env_check import env_urls, missing_line
from webui_tui.client.errors import RequestFailed, WebUIClientError

app = typer.Typer(
    help="List, add, remove and test provider connections (admins only).", no_args_is_help=True
)


class KindName(StrEnum):
    ollama = "ollama"
    openai = "openai"


UrlArg = Annotated[str, typer.Argument(help="Provider base URL.", show_default=False)]
TypeOpt = Annotated[
    KindName | None,
    typer.Option(
        "--type", "-t", help="ollama or openai (default: openai when the URL ends in /v1)."
    ),
]
KeyOpt = Annotated[str | None, typer.Option("--key", "-k", help="API key for this URL.")]


def _public(conn: Connection) -> dict[str, Any]:
    """A connection for printing: never the key itself."""
    return {
        "type": conn.kind,
        "url": conn.url,
        "enabled": conn.enabled,
        "key": conn.masked_key,
        "prefix_id": conn.prefix_id,
    }


def _answered(kind: Kind, answer: Any) -> str:
    if kind == "ollama" and isinstance(answer, dict) and answer.get("version"):
        return f"Ollama {answer['version']}"
    if isinstance(answer, dict) and isinstance(answer.get("data"), list):
        return f"{len(answer['data'])} model(s)"
    return "answered"


def _with_state(conn: Connection, state: ConnectionState | None) -> dict[str, Any]:
    if state is None:  # Open WebUI: no origin or health to show
        return _public(conn) | {"origin": None, "health": None, "reason": None, "models": None}
    extra = {"origin": state.origin, "health": state.health, "reason": state.reason}
    return _public(conn) | extra | {"models": state.models}


@app.command("list")
def list_connections(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List connections: type, URL, whether it is used, its key (shortened), where its
    settings come from (env, default, stored), its health and model count."""

    async def work(client: WebUIClient) -> tuple[list[Connection], ConnectionsState | None]:
        found, states = await asyncio.gather(client.list_connections(), client.connection_states())
        return found, states

    found, states = call(ctx, work)
    by_url = {(s.type, s.idx): s for s in states.connections} if states else {}
    shown = [_with_state(c, by_url.get((c.kind, c.index))) for c in found]
    if json_out:
        print_json(shown)
    else:
        rows = [
            [
                c["url"],
                c["type"],
                "yes" if c["enabled"] else "no",
                c["key"],
                c["origin"] or "-",
                connection_health(c) if c["health"] else "-",
            ]
            for c in shown
        ]
        print_table(["URL", "TYPE", "ENABLED", "KEY", "ORIGIN", "HEALTH"], rows)
    line = missing_line(states, env_urls()) if states is not None else None
    if line:
        note(line)


@app.command("add")
def add_connection(
    ctx: typer.Context,
    url: UrlArg,
    kind: TypeOpt = None,
    key: KeyOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Add a provider URL, then test it (a URL that does not answer is kept, with a warning)."""
    chosen: Kind = kind.value if kind else guess_kind(url)

    async def work(client: WebUIClient) -> tuple[Connection, str | None]:
        added = await client.add_connection(chosen, url, key or "")
        try:
            answer = await client.verify_connection(chosen, added.url, key or "")
        except RequestFailed as exc:
            return added, exc.detail
        return added, f"ok: {_answered(chosen, answer)}"

    added, result = call(ctx, work)
    ok = bool(result and result.startswith("ok"))
    if json_out:
        print_json(_public(added) | {"verified": ok, "problem": None if ok else result})
        return
    say(f"Added {added.kind} connection {added.url}.")
    if not ok:
        note(f"it does not answer yet: {result}")


@app.command("rm")
def remove_connection(ctx: typer.Context, url: UrlArg, json_out: JsonFlag = False) -> None:
    """Remove a provider URL (its models disappear from the list)."""
    removed = call(ctx, lambda client: client.remove_connection(url))
    if json_out:
        print_json(_public(removed) | {"removed": True})
        return
    say(f"Removed {removed.kind} connection {removed.url}.")


@app.command("test")
def test_connection(
    ctx: typer.Context, url: UrlArg, kind: TypeOpt = None, key: KeyOpt = None
) -> None:
    """Check that a URL answers (a configured one is tested with its saved key)."""

    async def work(client: WebUIClient) -> tuple[Kind, Any]:
        known = await client.find_connection(url)
        chosen: Kind = kind.value if kind else (known.kind if known else guess_kind(url))
        secret = key if key is not None else (known.key if known else "")
        try:
            return chosen, await client.verify_connection(chosen, clean_url(url), secret)
        except RequestFailed as exc:
            raise WebUIClientError(f"{clean_url(url)} does not answer well: {exc.detail}") from None

    chosen, answer = call(ctx, work)
    say(f"{clean_url(url)}: ok, {_answered(chosen, answer)}")
