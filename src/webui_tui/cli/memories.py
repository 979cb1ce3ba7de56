"""`webui memories list|add|edit|rm|clear|search`: what models should remember about you.

Memories are yours alone. When your memory setting is on (the default where the server has
memories), chats get the ones that matter in their system prompt; `webui chat --no-memory`
leaves them out of one request, `--memory` adds them to one.
"""

import sys
from typing import Annotated

import typer

from webui_daemon.schemas.memories import MemoryModel, MemoryType
from webui_tui.cli.ids import MIN_PREFIX, ambiguous, matching, not_found, shown
from webui_tui.cli.output import JsonFlag, note, print_json, print_table, say, when
from webui_tui.cli.runtime import UsageProblem, call, confirm_or_yes
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import NotFound

app = typer.Typer(
    help="Your memories: facts models should know about you, added to your chats.",
    no_args_is_help=True,
)

NO_MEMORIES = "No memories found for user"  # the server's answer to a search with none
_MEMORIES = "/api/v1/memories/"

TextArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="The memory (several words are joined); piped text on stdin works too.",
        metavar="TEXT",
        show_default=False,
    ),
]
RefArg = Annotated[
    str, typer.Argument(help="The memory's id, or 4+ characters of it.", show_default=False)
]
PathOpt = Annotated[
    str | None,
    typer.Option("--path", help='File it under a path, e.g. work/projects ("" clears it).'),
]


def _text(words: list[str] | None, *, required: bool = True) -> str | None:
    parts = [" ".join(words).strip()] if words else []
    if not parts and sys.stdin is not None and not sys.stdin.isatty():
        parts.append(sys.stdin.read().strip())
    text = "\n".join(p for p in parts if p)
    if not text and required:
        raise UsageProblem("nothing to remember: give the TEXT, or pipe it on stdin")
    return text or None


def _kind(user: bool | None) -> MemoryType | None:
    if user is None:
        return None
    return "user" if user else "context"


def _short(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


async def find_memory(client: WebUIClient, ref: str) -> MemoryModel:
    """Your memory `ref` names: its id or a unique prefix of it."""
    ref = ref.strip()
    if len(ref) < MIN_PREFIX:
        raise UsageProblem(f"give at least {MIN_PREFIX} characters of a memory id (not {ref!r})")
    found = matching(await client.list_memories(), ref, lambda m: m.id)
    if not found:
        raise not_found("memory", ref, _MEMORIES)
    if len(found) > 1:
        named = [(m.id, _short(m.content, 30)) for m in found]
        raise ambiguous("memorie", ref, named, "give more of the id")
    return found[0]


@app.command("list")
def list_memories(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List your memories, oldest first."""
    memories = call(ctx, lambda client: client.list_memories())
    if json_out:
        print_json(memories)
        return
    rows = [[m.id, m.type, m.path or "", when(m.updated_at), m.content] for m in memories]
    print_table(["ID", "TYPE", "PATH", "UPDATED", "MEMORY"], rows)


@app.command("add")
def add_memory(
    ctx: typer.Context,
    text: TextArg = None,
    user: Annotated[
        bool,
        typer.Option(
            "--user",
            help="A fact about you (always given to chats), not just context found by meaning.",
        ),
    ] = False,
    path: PathOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Remember something."""
    content = _text(text) or ""
    kind: MemoryType = "user" if user else "context"
    made = call(ctx, lambda client: client.add_memory(content, kind=kind, path=path))
    if json_out:
        print_json(made)
        return
    say(f"Remembered ({made.id}).")


@app.command("edit")
def edit_memory(
    ctx: typer.Context,
    ref: RefArg,
    text: TextArg = None,
    user: Annotated[
        bool | None,
        typer.Option("--user/--context", help="Make it a fact about you, or context."),
    ] = None,
    path: PathOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Change a memory's text, type or path."""
    content = _text(text, required=False)
    if content is None and user is None and path is None:
        raise UsageProblem("nothing to change: give new TEXT, --user/--context or --path")

    async def work(client: WebUIClient) -> MemoryModel:
        memory = await find_memory(client, ref)
        return await client.update_memory(memory.id, content=content, kind=_kind(user), path=path)

    changed = call(ctx, work)
    if json_out:
        print_json(changed)
        return
    say(f"Changed {changed.id}.")


@app.command("rm")
def remove_memory(ctx: typer.Context, ref: RefArg, json_out: JsonFlag = False) -> None:
    """Forget one memory."""

    async def work(client: WebUIClient) -> MemoryModel:
        memory = await find_memory(client, ref)
        if not await client.delete_memory(memory.id):
            raise not_found("memory", ref, _MEMORIES)
        return memory

    gone = call(ctx, work)
    if json_out:
        print_json({"id": gone.id, "deleted": True})
        return
    say(f"Forgot {gone.id}: {_short(gone.content, 60)}")


@app.command("clear")
def clear_memories(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Forget all your memories."""
    count = len(call(ctx, lambda client: client.list_memories()))
    if not count:
        say("You have no memories.")
        return
    confirm_or_yes(yes, f"Forget all {count} of your memories?")
    call(ctx, lambda client: client.clear_memories())
    say(f"Forgot {count} memories.")


@app.command("search")
def search_memories(
    ctx: typer.Context,
    query: Annotated[list[str], typer.Argument(help="What to look for (by meaning).")],
    k: Annotated[int, typer.Option("--top", "-k", min=1, help="How many to show.")] = 5,
    json_out: JsonFlag = False,
) -> None:
    """Your memories closest in meaning to QUERY, best first, with their score (0 to 1)."""
    text = " ".join(query).strip()
    if not text:
        raise UsageProblem("nothing to search for")

    async def work(client: WebUIClient) -> list[dict[str, object]]:
        try:
            result = await client.query_memories(text, k)
        except NotFound as exc:
            if exc.detail != NO_MEMORIES:
                raise
            return []
        ids = result.ids[0] if result.ids else []
        docs = result.documents[0] if result.documents else []
        scores = result.distances[0] if result.distances else []
        by_id = {m.id: m for m in await client.list_memories()} if ids else {}
        hits: list[dict[str, object]] = []
        for position, memory_id in enumerate(ids):
            memory = by_id.get(memory_id)
            hits.append(
                {
                    "id": memory_id,
                    "score": scores[position] if position < len(scores) else None,
                    "type": memory.type if memory else None,
                    "path": memory.path if memory else None,
                    "content": memory.content if memory else docs[position],
                }
            )
        return hits

    hits = call(ctx, work)
    if json_out:
        print_json(hits)
        return
    if not hits:
        note(f"no memory matches {shown(text)}")
        return
    rows = [
        [str(h["id"]), f"{h['score']:.3f}", str(h["path"] or ""), str(h["content"])] for h in hits
    ]
    print_table(["ID", "SCORE", "PATH", "MEMORY"], rows)
