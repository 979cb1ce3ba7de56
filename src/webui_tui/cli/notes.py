"""`webui notes list|show|new|edit|rm|access`: your Markdown notes (Open WebUI's notes), written in
$EDITOR; `webui chat --note` asks a model with a note as context.

A note is named by its id, 4+ characters of it, or its exact title. `show` renders Markdown
on a terminal and prints the exact text in a pipe; `new` and `edit` open $VISUAL / $EDITOR
(else vi) on a temporary file, or read the text piped on stdin.
"""

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from webui_daemon.schemas.notes import NoteModel, NoteResponse, note_markdown
from webui_tui.cli import access
from webui_tui.cli.ids import find_note_id
from webui_tui.cli.output import JsonFlag, print_json, print_table, say, stdout_is_tty, when
from webui_tui.cli.runtime import UsageProblem, call, confirm_or_yes
from webui_tui.client.api import WebUIClient

app = typer.Typer(
    help="Notes: Markdown you write in $EDITOR, read here, and chat with (webui chat --note).",
    no_args_is_help=True,
)

app.command("access")(access.note_access)

NoteArg = Annotated[
    str,
    typer.Argument(help="The note: its id, 4+ characters of it, or its title.", show_default=False),
]


def seconds(stamp: int) -> int:
    """Open WebUI 0.12 stamps notes in nanoseconds (0.6 in seconds)."""
    return stamp // 1_000_000_000 if stamp > 10**14 else stamp


def editor_command() -> list[str]:
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            return shlex.split(value)
    return ["vi"]


def edit_text(text: str, *, name: str = "note") -> str:
    """`text` after the person edited it in their editor (a temporary .md file)."""
    command = editor_command()
    safe = "".join(c if c.isalnum() else "-" for c in name)[:40] or "note"
    with tempfile.TemporaryDirectory(prefix="webui-note-") as folder:
        path = Path(folder) / f"{safe}.md"
        path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run([*command, str(path)], check=False)
        except OSError as exc:
            raise UsageProblem(f"cannot run the editor {command[0]!r}: {exc.strerror}") from None
        if done.returncode != 0:
            raise UsageProblem(f"the editor exited with {done.returncode}; nothing saved")
        return path.read_text(encoding="utf-8")


def _piped() -> str | None:
    """Text piped on stdin; None on a terminal or for an empty pipe (the editor opens)."""
    if sys.stdin is None or sys.stdin.isatty():
        return None
    text = sys.stdin.read()
    return text if text.strip() else None


def title_of(text: str) -> str:
    """A title from the first non-empty line (without Markdown heading marks)."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""


@app.command("list")
def list_notes(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List the notes you can read (yours and those shared with you), latest change first."""
    notes = call(ctx, lambda client: client.list_notes())
    if json_out:
        print_json(notes)
        return
    rows = []
    for note in notes:
        first = next((ln for ln in note_markdown(note.data).splitlines() if ln.strip()), "")
        owner = note.user.name if note.user is not None else "-"
        rows.append([note.id, note.title, when(seconds(note.updated_at)), owner, first[:60]])
    print_table(["ID", "TITLE", "UPDATED", "OWNER", "BEGINS"], rows)


@app.command("show")
def show_note(
    ctx: typer.Context,
    note_ref: NoteArg,
    json_out: JsonFlag = False,
    raw: Annotated[
        bool, typer.Option("--raw", help="The Markdown as text on a terminal too.")
    ] = False,
) -> None:
    """Show a note: rendered Markdown on a terminal, its exact text in a pipe."""

    async def work(client: WebUIClient) -> NoteResponse:
        return await client.get_note(await find_note_id(client, note_ref))

    note = call(ctx, work)
    if json_out:
        print_json(note)
        return
    text = note_markdown(note.data)
    if raw or not stdout_is_tty():
        sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")
        return
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.text import Text

    console = Console()
    console.print(Text(note.title, style="bold"))
    console.print(Text(f"{note.id} · updated {when(seconds(note.updated_at))}", style="dim"))
    console.print()
    console.print(Markdown(text))


@app.command("new")
def new_note(
    ctx: typer.Context,
    title: Annotated[
        str | None,
        typer.Argument(help="Title (default: the text's first line).", show_default=False),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Write a new note in $EDITOR (or pipe its Markdown on stdin)."""
    piped = _piped()
    text = piped if piped is not None else edit_text("", name=title or "note")
    if not text.strip():
        raise UsageProblem("the note is empty; nothing saved")
    name = (title or "").strip() or title_of(text)
    note = call(ctx, lambda client: client.create_note(name, text))
    _done(note, f"Created note {note.title!r} ({note.id}).", json_out)


@app.command("edit")
def edit_note(
    ctx: typer.Context,
    note_ref: NoteArg,
    title: Annotated[
        str | None, typer.Option("--title", "-t", help="A new title.", show_default=False)
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Edit a note's Markdown in $EDITOR (or replace it with text piped on stdin)."""

    async def load(client: WebUIClient) -> NoteResponse:
        return await client.get_note(await find_note_id(client, note_ref))

    note = call(ctx, load)
    old = note_markdown(note.data)
    piped = _piped()
    text = piped if piped is not None else edit_text(old, name=note.title)
    new_title = title.strip() if title is not None and title.strip() else None
    if text == old and (new_title is None or new_title == note.title):
        if json_out:
            print_json(note)
        else:
            say(f"No change to note {note.title!r}.")
        return
    markdown = None if text == old else text
    updated = call(
        ctx, lambda client: client.update_note(note.id, title=new_title, markdown=markdown)
    )
    _done(updated, f"Saved note {updated.title!r} ({updated.id}).", json_out)


@app.command("rm")
def remove_note(
    ctx: typer.Context,
    note_ref: NoteArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Delete a note (yours, or one shared with you to write)."""

    async def find(client: WebUIClient) -> NoteResponse:
        return await client.get_note(await find_note_id(client, note_ref))

    note = call(ctx, find)
    confirm_or_yes(yes, f"Delete note {note.title!r} ({note.id})?")
    deleted = call(ctx, lambda client: client.delete_note(note.id))
    result: dict[str, Any] = {"id": note.id, "title": note.title, "deleted": deleted}
    if json_out:
        print_json(result)
        return
    say(f"Deleted note {note.title!r} ({note.id}).")


def _done(note: NoteModel, message: str, json_out: bool) -> None:
    if json_out:
        print_json(note)
    else:
        say(message)
