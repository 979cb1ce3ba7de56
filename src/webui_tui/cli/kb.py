"""`webui kb create|list|show|rm|add|remove|search|access`: knowledge bases of your documents.

A knowledge base is named by its name (or id) on the command line. `kb add` uploads files,
folders and globs in parallel; the daemon indexes them; `kb search` and `webui chat --kb`
retrieve from them.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from webui_daemon.schemas.knowledge import (
    KnowledgeFileItem,
    KnowledgeFilesResponse,
    KnowledgeResponse,
)
from webui_tui.cli import access
from webui_tui.cli.completion import kb_names
from webui_tui.cli.ids import find_knowledge as find_knowledge  # by name, id or id prefix
from webui_tui.cli.output import (
    JsonFlag,
    counted,
    note,
    print_json,
    print_table,
    say,
    stdout_is_tty,
    when,
)
from webui_tui.cli.runtime import EXIT_SERVER, UsageProblem, call, confirm_or_yes
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import NotFound

if TYPE_CHECKING:
    from webui_tui.cli.kb_add import AddReport

app = typer.Typer(
    help="Knowledge bases: add your documents, search them, chat with them (--kb).",
    no_args_is_help=True,
)

app.command("access")(access.kb_access)

KbArg = Annotated[
    str,
    typer.Argument(
        help="Knowledge base name (or id, or 4+ characters of it).",
        show_default=False,
        autocompletion=kb_names,
    ),
]
EXIT_INTERRUPTED = 130


def _size(item: KnowledgeFileItem) -> str:
    raw = item.meta.get("size")
    if not isinstance(raw, int):
        return "-"
    if raw < 1024:
        return f"{raw} B"
    size = raw / 1024
    for unit in ("KB", "MB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@app.command("create")
def create_kb(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The new knowledge base's name.", show_default=False)],
    description: Annotated[str, typer.Option("--description", "-d", help="What it holds.")] = "",
    json_out: JsonFlag = False,
) -> None:
    """Create an empty knowledge base (names are unique: the command line uses them)."""
    if not name.strip():
        raise UsageProblem("a name cannot be empty")

    async def work(client: WebUIClient) -> KnowledgeResponse:
        for kb in await client.list_knowledge():
            if kb.name.casefold() == name.strip().casefold():
                raise UsageProblem(f"a knowledge base named {kb.name!r} exists already ({kb.id})")
        return await client.create_knowledge(name.strip(), description)

    kb = call(ctx, work)
    if json_out:
        print_json(kb)
        return
    say(f"Created knowledge base {kb.name!r} ({kb.id}).")


@app.command("list")
def list_kbs(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List the knowledge bases you can read."""
    bases = call(ctx, lambda client: client.list_knowledge())
    if json_out:
        print_json(bases)
        return
    rows = [
        [kb.id, kb.name, str(kb.file_count), when(kb.updated_at), kb.description] for kb in bases
    ]
    print_table(["ID", "NAME", "FILES", "UPDATED", "DESCRIPTION"], rows)


@app.command("show")
def show_kb(ctx: typer.Context, kb_ref: KbArg, json_out: JsonFlag = False) -> None:
    """Show a knowledge base and its files."""

    async def work(client: WebUIClient) -> KnowledgeFilesResponse:
        return await client.get_knowledge((await find_knowledge(client, kb_ref)).id)

    kb = call(ctx, work)
    if json_out:
        print_json(kb)
        return
    if stdout_is_tty():
        say(f"{kb.name} ({kb.id})")
        if kb.description:
            say(kb.description)
        say(f"{len(kb.files)} file(s), updated {when(kb.updated_at)}")
        if kb.files:
            say("")
    rows = []
    for item in kb.files:
        status = item.status if not item.error else f"{item.status}: {item.error}"
        rows.append([item.id, item.filename, status, _size(item), when(item.updated_at)])
    print_table(["FILE ID", "NAME", "STATUS", "SIZE", "UPDATED"], rows)


@app.command("rm")
def remove_kb(
    ctx: typer.Context,
    kb_ref: KbArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    keep_files: Annotated[
        bool, typer.Option("--keep-files", help="Keep your uploaded files (only unlink them).")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Delete a knowledge base, and your files in it that no other knowledge base holds."""

    async def work(client: WebUIClient) -> dict[str, Any]:
        kb = await find_knowledge(client, kb_ref)
        return {"id": kb.id, "name": kb.name}

    found = call(ctx, work)
    confirm_or_yes(yes, f"Delete knowledge base {found['name']!r} ({found['id']})?")

    async def delete(client: WebUIClient) -> dict[str, Any]:
        kb = await client.get_knowledge(found["id"])
        elsewhere: set[str] = set()
        mine: set[str] = set()
        if not keep_files:
            me = (await client.whoami()).id
            mine = {f.id for f in await client.list_files() if f.user_id == me}
            for other in await client.list_knowledge():
                if other.id != kb.id and other.file_count:
                    elsewhere |= {f.id for f in (await client.get_knowledge(other.id)).files}
        deleted = await client.delete_knowledge(kb.id)
        removed = []
        if not keep_files:
            for item in kb.files:
                if item.id in mine and item.id not in elsewhere:
                    try:
                        await client.delete_file(item.id)
                    except NotFound:
                        continue
                    removed.append(item.id)
        return {**found, "deleted": deleted, "files_deleted": removed}

    result = call(ctx, delete)
    if json_out:
        print_json(result)
        return
    extra = f" and {len(result['files_deleted'])} file(s)" if result["files_deleted"] else ""
    say(f"Deleted knowledge base {result['name']!r}{extra}.")


@app.command("add")
def add_files(
    ctx: typer.Context,
    kb_ref: KbArg,
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders (all files under them) and globs ('docs/**/*.md').",
            metavar="PATH...",
            show_default=False,
        ),
    ],
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, max=32, help="Files uploaded at once.")
    ] = 4,
    json_out: JsonFlag = False,
) -> None:
    """Add files to a knowledge base (unchanged ones are skipped, changed ones replaced).

    A progress bar on a terminal shows files/s and chunks/s. Ctrl-C stops: the files already
    added stay, the others are cancelled. Exit codes: 0 all added, 1 usage, 2 some file
    failed (or the daemon did), 130 stopped.
    """
    from webui_tui.cli.kb_add import Adder, AddReport, expand, progress_for

    files = expand(paths)

    async def work(client: WebUIClient) -> AddReport:
        import time

        kb = await find_knowledge(client, kb_ref)
        started = time.monotonic()
        adder = Adder(client, kb.id, files, jobs=jobs, progress=progress_for(not json_out))
        _, interrupted = await adder.run()
        report = AddReport(kb, list(adder.results.values()), interrupted=interrupted)
        report.seconds = time.monotonic() - started
        return report

    report = call(ctx, work)
    counts = report.count()
    if json_out:
        print_json(report.to_json())
    else:
        rows = []
        for result in report.results:
            detail = result.error or (counted(result.chunks, "chunk") if result.chunks else "")
            rows.append([result.status, str(result.path), detail])
        print_table(["STATUS", "FILE", "DETAIL"], rows)
        say(_summary(report, counts))
    if report.interrupted:
        note(f"stopped: {counts['added'] + counts['updated']} added, the rest cancelled")
        raise typer.Exit(EXIT_INTERRUPTED)
    if counts["failed"]:
        note(f"{counts['failed']} of {len(report.results)} file(s) could not be added")
        raise typer.Exit(EXIT_SERVER)


def _summary(report: "AddReport", counts: dict[str, int]) -> str:
    parts = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    done = sum(counts[k] for k in ("added", "updated", "unchanged", "failed"))
    rate = f"{done / report.seconds:.1f} files/s" if report.seconds > 0 else ""
    if report.chunks and report.seconds > 0:
        rate += f", {report.chunks / report.seconds:.0f} chunks/s"
    return f"{report.kb.name}: {parts or 'nothing to do'} in {report.seconds:.1f} s ({rate})."


@app.command("remove")
def remove_file(
    ctx: typer.Context,
    kb_ref: KbArg,
    file_ref: Annotated[
        str,
        typer.Argument(
            help="The file: its id (or 4+ characters of it), its name, or the path it was "
            "added from.",
            metavar="FILE",
            show_default=False,
        ),
    ],
    json_out: JsonFlag = False,
) -> None:
    """Remove a file from a knowledge base (and delete your upload of it)."""
    from webui_tui.cli.kb_add import source_path

    local = str(Path(file_ref).expanduser().resolve())

    async def work(client: WebUIClient) -> tuple[KnowledgeFilesResponse, KnowledgeFileItem]:
        kb = await client.get_knowledge((await find_knowledge(client, kb_ref)).id)
        for test in (
            lambda f: f.id == file_ref,
            lambda f: source_path(f) == local,
            lambda f: f.filename == file_ref,
            lambda f: len(file_ref) >= 4 and f.id.startswith(file_ref),
        ):
            matches = [f for f in kb.files if test(f)]
            if len(matches) > 1:
                ids = ", ".join(f.id for f in matches)
                raise UsageProblem(f"several files match {file_ref!r} ({ids}); use a file id")
            if matches:
                return await client.remove_from_knowledge(kb.id, matches[0].id), matches[0]
        path = f"/api/v1/knowledge/{kb.id}"
        raise NotFound(404, f"{kb.name!r} holds no file {file_ref!r}", "GET", path)

    kb, item = call(ctx, work)
    if json_out:
        print_json({"knowledge_id": kb.id, "removed": item.id, "filename": item.filename})
        return
    say(f"Removed {item.filename} ({item.id}) from {kb.name!r}.")


@app.command("search")
def search_kb(
    ctx: typer.Context,
    kb_ref: KbArg,
    query: Annotated[str, typer.Argument(help="What to look for.", show_default=False)],
    k: Annotated[int, typer.Option("--top", "-k", min=1, max=100, help="How many chunks.")] = 5,
    json_out: JsonFlag = False,
) -> None:
    """Search a knowledge base: the best chunks with their score (higher is better)."""

    async def work(client: WebUIClient) -> list[dict[str, Any]]:
        kb = await find_knowledge(client, kb_ref)
        found = await client.search_knowledge(kb.id, query, k)
        hits = []
        documents = found.documents[0] if found.documents else []
        metadatas = found.metadatas[0] if found.metadatas else []
        distances = found.distances[0] if found.distances else []
        for index, text in enumerate(documents):
            meta = metadatas[index] if index < len(metadatas) else {}
            score = distances[index] if index < len(distances) else meta.get("score")
            hit = {
                "score": score,
                "file": meta.get("name") or meta.get("source"),
                "file_id": meta.get("file_id"),
                "page": meta.get("page_label"),
                "headers": meta.get("headers") or [],
                "text": text,
            }
            hits.append(hit)
        return hits

    hits = call(ctx, work)
    if json_out:
        print_json(hits)
        return
    rows = []
    for hit in hits:
        where = f"page {hit['page']}" if hit["page"] else " > ".join(hit["headers"])
        score = f"{hit['score']:.3f}" if isinstance(hit["score"], int | float) else "-"
        text = " ".join(str(hit["text"]).split())
        rows.append([score, str(hit["file"] or "-"), where, text[:120]])
    print_table(["SCORE", "FILE", "WHERE", "TEXT"], rows)
