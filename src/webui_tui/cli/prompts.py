"""`webui prompts`: the prompt library, `/command` templates used with `webui chat -p` and the
TUI's `/` picker. Prompts are named by their command, with or without the slash."""

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from webui_tui.cli import access
from webui_tui.cli.editor import edit_text
from webui_tui.cli.output import JsonFlag, note, print_json, print_table, say, stdout_is_tty, when
from webui_tui.cli.runtime import UsageProblem, call, confirm_or_yes, read_input, write_output
from webui_tui.client.api import WebUIClient

if TYPE_CHECKING:
    from webui_daemon.schemas.prompts import Prompt

app = typer.Typer(
    help="Prompt library: templates you call with `webui chat -p COMMAND`.",
    no_args_is_help=True,
)
app.command("access")(access.prompt_access)

CommandArg = Annotated[
    str,
    typer.Argument(help="The prompt's command (e.g. summarize or /summarize).", show_default=False),
]
TagOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", "-t", help="A tag (repeatable).", show_default=False),
]
NameOpt = Annotated[str | None, typer.Option("--name", "-n", help="Title (default: the command).")]
FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file", "-f", help="The template from a file (- for stdin).", show_default=False
    ),
]


def _content(file: Path | None, initial: str = "") -> str:
    """The template: from --file (- for stdin), piped on stdin, else typed in $EDITOR."""
    if file is not None:
        return read_input(str(file)).decode("utf-8", "replace")
    if not sys.stdin.isatty():
        return sys.stdin.read()
    return edit_text(initial)


def _show_line(prompt: "Prompt") -> list[str]:
    access_text = {True: "write", False: "read", None: ""}[prompt.write_access]
    return [
        f"/{prompt.command}",
        prompt.name,
        prompt.owner,
        ",".join(prompt.tags),
        access_text if prompt.is_active else f"{access_text} (off)".strip(),
    ]


@app.command("list")
def list_prompts(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Your prompts and those shared with you."""
    prompts = call(ctx, lambda client: client.list_prompts())
    if json_out:
        print_json(prompts)
        return
    if not prompts:
        say("No prompts yet: `webui prompts create COMMAND` makes one.")
        return
    print_table(["COMMAND", "NAME", "OWNER", "TAGS", "ACCESS"], [_show_line(p) for p in prompts])


@app.command("show")
def show(ctx: typer.Context, command: CommandArg, json_out: JsonFlag = False) -> None:
    """A prompt's template (the exact text in a pipe), with its variables on a terminal."""
    prompt = call(ctx, lambda client: client.find_prompt(command))
    if json_out:
        print_json(prompt)
        return
    if not stdout_is_tty():
        sys.stdout.write(prompt.content)
        return
    changed = when(prompt.updated_at)
    say(f"/{prompt.command}  {prompt.name}  (owner {prompt.owner}, changed {changed})")
    if prompt.tags:
        say("tags: " + ", ".join(prompt.tags))
    from webui_tui.client.templates import questions

    asks = questions(prompt.content)
    if asks:
        say("asks for: " + ", ".join(asks))
    say("")
    say(prompt.content)


@app.command("create")
def create(
    ctx: typer.Context,
    command: CommandArg,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Title (default: the command).")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", "-f", help="Read the template from a file (- for stdin).", show_default=False
        ),
    ] = None,
    tags: TagOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Make a prompt: the template from --file, from stdin, or typed in $EDITOR."""
    bare = command.strip().removeprefix("/")
    content = _content(file)
    if not content.strip():
        raise UsageProblem("the template is empty: nothing saved")
    made = call(
        ctx, lambda client: client.create_prompt(bare, name or bare, content, tags=list(tags or []))
    )
    if json_out:
        print_json(made)
        return
    say(f"Created /{made.command}.")


@app.command("edit")
def edit(
    ctx: typer.Context,
    command: CommandArg,
    name: NameOpt = None,
    new_command: Annotated[
        str | None, typer.Option("--command", help="New command.", show_default=False)
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", "-f", help="New template from a file (- for stdin).", show_default=False
        ),
    ] = None,
    tags: TagOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Change a prompt: its template in $EDITOR (or from --file, - for stdin), title, command,
    tags.
    Each change of the text is kept as a version."""
    prompt = call(ctx, lambda client: client.find_prompt(command))
    only_fields = name is not None or new_command is not None or tags is not None
    content = None
    if file is not None or not only_fields:
        content = _content(file) if file is not None else edit_text(prompt.content)
        if not content.strip():
            raise UsageProblem("the template is empty: nothing saved")
        if content == prompt.content and not only_fields:
            say(f"/{prompt.command} is unchanged.")
            return
    updated = call(
        ctx,
        lambda client: client.update_prompt(
            prompt,
            command=new_command,
            name=name,
            content=content,
            tags=None if tags is None else list(tags),
        ),
    )
    if json_out:
        print_json(updated)
        return
    say(f"Saved /{updated.command}.")


@app.command("rm")
def remove(
    ctx: typer.Context,
    command: CommandArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete a prompt (and its versions)."""
    confirm_or_yes(yes, f"Delete the prompt /{command.removeprefix('/')}?")

    async def work(client: WebUIClient) -> "Prompt":
        prompt = await client.find_prompt(command)
        await client.delete_prompt(prompt)
        return prompt

    gone = call(ctx, work)
    say(f"Deleted /{gone.command}.")


@app.command("export")
def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Export the prompts you can read as JSON (what `webui prompts import` and Open WebUI's
    prompt import read)."""
    prompts = call(ctx, lambda client: client.list_prompts())
    records = [
        {"command": p.command, "name": p.name, "content": p.content, "tags": p.tags}
        for p in prompts
    ]
    text = json.dumps(records, ensure_ascii=False, indent=2)
    if write_output(text + "\n", output):
        say(f"Exported {len(records)} prompt(s) to {output}.")


def _records(source: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(read_input(source))
    except ValueError as exc:
        raise UsageProblem(f"{source} is not JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("prompts", data.get("items"))
    if not isinstance(data, list):
        raise UsageProblem(f"{source} holds no list of prompts")
    records = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("command"), str):
            raise UsageProblem(f"{source}: every prompt needs a command")
        if not isinstance(item.get("content"), str):
            raise UsageProblem(f"{source}: /{item['command']} has no content")
        records.append(item)
    return records


@app.command("import")
def import_(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="Export file (JSON), or - for stdin.", show_default=False)
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite prompts whose command exists.")
    ] = False,
    json_out: JsonFlag = False,
) -> None:
    """Import prompts from an export (webui's or Open WebUI's). A command that exists is
    skipped, or overwritten with --replace."""
    records = _records(source)

    async def work(client: WebUIClient) -> dict[str, list[str]]:
        existing = {p.command: p for p in await client.list_prompts()}
        done: dict[str, list[str]] = {"created": [], "replaced": [], "skipped": []}
        for item in records:
            command = str(item["command"]).strip().removeprefix("/")
            name = str(item.get("name") or item.get("title") or command)
            tags = [str(t) for t in item.get("tags") or [] if isinstance(t, str)]
            if command in existing:
                if not replace:
                    done["skipped"].append(command)
                    continue
                await client.update_prompt(
                    existing[command], name=name, content=str(item["content"]), tags=tags
                )
                done["replaced"].append(command)
                continue
            await client.create_prompt(command, name, str(item["content"]), tags=tags)
            done["created"].append(command)
        return done

    done = call(ctx, work)
    if json_out:
        print_json(done)
        return
    if done["skipped"]:
        note(
            "skipped (exist; --replace overwrites): " + ", ".join(f"/{c}" for c in done["skipped"])
        )
    say(f"Imported {len(done['created'])} prompt(s), replaced {len(done['replaced'])}.")
