"""`webui chats list|show|search|rename|rm|pin|archive|tag|export|import`: your saved chats."""

import json
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from webui_daemon.schemas.chats import ChatResponse, ChatTitleIdResponse, TagModel
from webui_tui.cli.completion import chat_ids
from webui_tui.cli.ids import find_chat, find_chat_id
from webui_tui.cli.output import JsonFlag, print_json, print_table, say, stdout_is_tty, when
from webui_tui.cli.runtime import UsageProblem, call, confirm_or_yes, read_input, write_output
from webui_tui.client.api import WebUIClient
from webui_tui.client.chats import json_or_ndjson
from webui_tui.client.transcript import to_markdown

app = typer.Typer(help="List, read, change, export and import your chats.", no_args_is_help=True)

ChatArg = Annotated[
    str,
    typer.Argument(
        help="Chat id, 4+ characters of it, or `last`.",
        show_default=False,
        autocompletion=chat_ids,
    ),
]
IMPORT_BATCH = 200  # chats per request: a big export stays under the daemon's body limit
T = TypeVar("T")


def on_chat(ctx: typer.Context, ref: str, action: Callable[[WebUIClient, str], Awaitable[T]]) -> T:
    """`action` on the chat `ref` names (a whole id, a unique prefix, or `last`)."""

    async def work(client: WebUIClient) -> T:
        return await action(client, await find_chat_id(client, ref))

    return call(ctx, work)


class Format(StrEnum):
    json = "json"
    md = "md"


def _table(chats: list[ChatTitleIdResponse]) -> None:
    rows = []
    for chat in chats:
        flags = [name for name, on in (("pinned", chat.pinned), ("archived", chat.archived)) if on]
        rows.append([chat.id, chat.title, when(chat.updated_at), ",".join(flags)])
    print_table(["ID", "TITLE", "UPDATED", "FLAGS"], rows)


@app.command("list")
def list_chats(
    ctx: typer.Context,
    archived: Annotated[bool, typer.Option("--archived", help="Archived chats instead.")] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="At most this many.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """List chats, most recently updated first (pinned ones included)."""

    async def work(client: WebUIClient) -> list[ChatTitleIdResponse]:
        if archived:
            return await client.archived_chats()
        return await client.list_chats()

    chats = call(ctx, work)[:limit]
    if json_out:
        print_json(chats)
        return
    _table(chats)


@app.command("search")
def search_chats(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            help="Words in titles or messages; also tag:NAME, pinned:true, archived:true.",
            show_default=False,
        ),
    ],
    json_out: JsonFlag = False,
) -> None:
    """Find chats by their title and message text."""
    chats = call(ctx, lambda client: client.search_chats(text))
    if json_out:
        print_json(chats)
        return
    _table(chats)


@app.command("show")
def show_chat(ctx: typer.Context, chat_id: ChatArg, json_out: JsonFlag = False) -> None:
    """Print the chat's current branch (the messages from the first to the one shown)."""
    chat = on_chat(ctx, chat_id, lambda client, found: client.get_chat(found))
    if json_out:
        print_json(chat)
        return
    _print_markdown(to_markdown(chat))


def _print_markdown(text: str) -> None:
    if not stdout_is_tty():
        sys.stdout.write(text)
        return
    from rich.console import Console
    from rich.markdown import Markdown

    Console(highlight=False).print(Markdown(text))


@app.command("rename")
def rename_chat(
    ctx: typer.Context,
    chat_id: ChatArg,
    title: Annotated[str, typer.Argument(help="New title.", show_default=False)],
    json_out: JsonFlag = False,
) -> None:
    """Give a chat a new title."""
    if not title.strip():
        raise UsageProblem("a title cannot be empty")
    chat = on_chat(ctx, chat_id, lambda client, found: client.rename_chat(found, title.strip()))
    if json_out:
        print_json({"id": chat.id, "title": chat.title})
        return
    say(f"Renamed chat {chat.id} to {chat.title!r}.")


@app.command("rm")
def remove_chat(
    ctx: typer.Context,
    chat_id: ChatArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Delete a chat and all its messages."""
    chat = call(ctx, lambda client: find_chat(client, chat_id))
    confirm_or_yes(yes, f"Delete chat {chat.id} ({chat.title})?")
    deleted = call(ctx, lambda client: client.delete_chat(chat.id))
    if json_out:
        print_json({"id": chat.id, "deleted": deleted})
        return
    say(f"Deleted chat {chat.id}.")


@app.command("pin")
def pin_chat(ctx: typer.Context, chat_id: ChatArg, json_out: JsonFlag = False) -> None:
    """Pin a chat, or unpin a pinned one."""
    chat = on_chat(ctx, chat_id, lambda client, found: client.toggle_pin(found))
    if json_out:
        print_json({"id": chat.id, "pinned": bool(chat.pinned)})
        return
    say(f"{'Pinned' if chat.pinned else 'Unpinned'} chat {chat.id}.")


@app.command("archive")
def archive_chat(ctx: typer.Context, chat_id: ChatArg, json_out: JsonFlag = False) -> None:
    """Archive a chat, or bring an archived one back."""
    chat = on_chat(ctx, chat_id, lambda client, found: client.toggle_archive(found))
    if json_out:
        print_json({"id": chat.id, "archived": chat.archived})
        return
    say(f"{'Archived' if chat.archived else 'Unarchived'} chat {chat.id}.")


@app.command("tag")
def tag_chat(
    ctx: typer.Context,
    chat_id: ChatArg,
    tag: Annotated[str, typer.Argument(help="Tag name.", show_default=False)],
    remove: Annotated[bool, typer.Option("--remove", "-r", help="Remove the tag.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Tag a chat (or remove a tag); prints the chat's tags."""

    async def work(client: WebUIClient, found: str) -> list[TagModel]:
        if remove:
            return await client.remove_tag(found, tag)
        return await client.add_tag(found, tag)

    tags = on_chat(ctx, chat_id, work)
    if json_out:
        print_json(tags)
        return
    say(", ".join(t.name for t in tags) if tags else "(no tags)")


@app.command("export")
def export_chats(
    ctx: typer.Context,
    chat_id: Annotated[
        str | None,
        typer.Argument(
            help="One chat (default: all of them).", show_default=False, autocompletion=chat_ids
        ),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="json: Open WebUI's export; md: Markdown.")
    ] = Format.json,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Export chats: JSON that `webui chats import` and Open WebUI read, or Markdown."""

    async def work(client: WebUIClient) -> list[ChatResponse]:
        if chat_id:
            return [await client.get_chat(await find_chat_id(client, chat_id))]
        return await client.export_chats()

    chats = call(ctx, work)
    if fmt is Format.json:
        text = json.dumps([c.model_dump(mode="json") for c in chats], ensure_ascii=False, indent=2)
        text += "\n"
    else:
        text = "\n---\n\n".join(to_markdown(chat) for chat in chats)
    if write_output(text, output):
        say(f"Exported {len(chats)} chat(s) to {output}.")


def read_export(source: str) -> list[dict[str, Any]]:
    """Chats from an export: a JSON list (Open WebUI), `{chats: [...]}`, one chat, or NDJSON."""
    raw = read_input(source)
    try:
        data = json_or_ndjson(raw)
    except ValueError:
        raise UsageProblem(f"{source} is not JSON (nor JSON lines)") from None
    if isinstance(data, dict):
        data = data["chats"] if isinstance(data.get("chats"), list) else [data]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise UsageProblem(f"{source} holds no list of chats")
    return data


@app.command("import")
def import_chats(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="Export file (JSON), or - for stdin.", show_default=False)
    ],
    json_out: JsonFlag = False,
) -> None:
    """Import chats from an Open WebUI (or webui) export; each gets a new id."""
    items = read_export(source)

    async def work(client: WebUIClient) -> list[ChatResponse]:
        imported: list[ChatResponse] = []
        for start in range(0, len(items), IMPORT_BATCH):
            imported += await client.import_chats(items[start : start + IMPORT_BATCH])
        return imported

    imported = call(ctx, work)
    if json_out:
        print_json([{"id": c.id, "title": c.title} for c in imported])
        return
    say(f"Imported {len(imported)} chat(s).")
