"""`webui tools list|add|rm|test`: tool servers models may call during a chat.

Admins add servers (an OpenAPI server by its URL, an MCP server over streamable HTTP with
--mcp, or a local MCP server the daemon starts with --command); everyone lists the ones they
may use and gives them to a chat with `webui chat --tool ID`.
"""

import shlex
from typing import Annotated, Any

import typer

from webui_daemon.schemas.tools import ToolSpecsResponse, server_id
from webui_tui.cli.output import JsonFlag, print_json, print_table, say
from webui_tui.cli.runtime import UsageProblem, call
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import NotFound

app = typer.Typer(help="Tool servers models may call (OpenAPI, MCP).", no_args_is_help=True)

IdArg = Annotated[str, typer.Argument(help="The tool's id (`webui tools list`).")]


@app.command("list")
def list_tools(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List the tool servers you may use."""
    tools = call(ctx, lambda client: client.list_tools())
    if json_out:
        print_json(tools)
        return
    rows = [[t.id, t.name, str(t.meta.get("description") or "")] for t in tools]
    print_table(["ID", "NAME", "DESCRIPTION"], rows)


def _connection(
    url: str | None,
    mcp: bool,
    command: str | None,
    path: str,
    key: str | None,
    session: bool,
    ident: str | None,
    name: str | None,
    groups: list[str],
    everyone: bool,
) -> dict[str, Any]:
    if bool(url) == bool(command):
        raise UsageProblem("give the server's URL, or --command for a local MCP server")
    if key and session:
        raise UsageProblem("use either --key or --session, not both")
    grants = [{"principal_type": "group", "principal_id": g, "permission": "read"} for g in groups]
    if everyone:
        grants.append({"principal_type": "user", "principal_id": "*", "permission": "read"})
    info: dict[str, Any] = {}
    if ident:
        info["id"] = ident
    if name:
        info["name"] = name
    connection: dict[str, Any] = {
        "url": url or "",
        "path": path,
        "type": "mcp" if (mcp or command) else "openapi",
        "auth_type": "bearer" if key else "session" if session else "none",
        "config": {"enable": True, "access_grants": grants},
        "info": info,
    }
    if key:
        connection["key"] = key
    if command:
        connection["command"] = shlex.split(command)
        if not ident:
            raise UsageProblem("a local MCP server needs an --id (its tool id: server:mcp:ID)")
    return connection


@app.command("add")
def add_tool(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Argument(help="The server's URL (OpenAPI base URL or MCP endpoint).")
    ] = None,
    mcp: Annotated[bool, typer.Option("--mcp", help="An MCP server (streamable HTTP).")] = False,
    command: Annotated[
        str | None,
        typer.Option("--command", help='A local MCP server the daemon starts ("cmd args").'),
    ] = None,
    path: Annotated[
        str, typer.Option("--path", help="Where the OpenAPI document is, below the URL.")
    ] = "openapi.json",
    key: Annotated[str | None, typer.Option("--key", help="Send this bearer token.")] = None,
    session: Annotated[
        bool, typer.Option("--session", help="Send the caller's own session token.")
    ] = False,
    ident: Annotated[str | None, typer.Option("--id", help="Its id (default: its index).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="The name shown.")] = None,
    groups: Annotated[
        list[str] | None,
        typer.Option("--group", help="A group id that may use it (repeatable)."),
    ] = None,
    everyone: Annotated[
        bool, typer.Option("--everyone", help="Every user may use it (default: admins only).")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Add a tool server (admins). It is checked first: one that does not answer is not added."""
    connection = _connection(
        url, mcp, command, path, key, session, ident, name, list(groups or []), everyone
    )

    async def work(client: WebUIClient) -> str:
        if not command:
            await client.verify_tool_server(connection)
        saved = await client.tool_server_connections()
        new_id = server_id(len(saved), connection)
        if any(server_id(i, c) == new_id for i, c in enumerate(saved)):
            raise UsageProblem(f"{new_id} exists already: give another --id")
        await client.set_tool_server_connections([*saved, connection])
        return new_id

    added = call(ctx, work)
    if json_out:
        print_json({"id": added})
        return
    say(f"Added {added}. Use it with: webui chat --tool {added} ...")


@app.command("rm")
def remove_tool(ctx: typer.Context, tool_id: IdArg) -> None:
    """Remove a tool server (admins)."""

    async def work(client: WebUIClient) -> None:
        saved = await client.tool_server_connections()
        kept = [c for i, c in enumerate(saved) if server_id(i, c) != tool_id]
        if len(kept) == len(saved):
            raise UsageProblem(f"no tool server {tool_id} (see `webui tools list`)")
        await client.set_tool_server_connections(kept)

    call(ctx, work)
    say(f"Removed {tool_id}.")


@app.command("test")
def test_tool(ctx: typer.Context, tool_id: IdArg, json_out: JsonFlag = False) -> None:
    """Ask a tool server what it offers (it must answer)."""

    async def work(client: WebUIClient) -> ToolSpecsResponse:
        try:
            return await client.tool_specs(tool_id)
        except NotFound:
            if tool_id.startswith("server:mcp:") or await client.daemon_info() is not None:
                raise
            if not any(t.id == tool_id for t in await client.list_tools()):
                raise
            raise UsageProblem(
                f"this server lists the functions of MCP tool servers only, and {tool_id} is an"
                " OpenAPI one (Open WebUI 0.12); chat with --tool to use it"
            ) from None

    specs = call(ctx, work)
    if json_out:
        print_json(specs)
        return
    rows = [[s.name, " ".join(s.description.split())[:80]] for s in specs.specs]
    print_table(["FUNCTION", "DESCRIPTION"], rows)
