"""`webui chat [PROMPT]`: ask a model; the answer streams to stdout and is kept in a chat."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from webui_tui.cli.answer_out import writer_for
from webui_tui.cli.completion import chat_ids, kb_names, model_ids
from webui_tui.cli.runtime import UsageProblem, call

PromptArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="What to ask (several words are joined). Text piped on stdin is added after it.",
        metavar="PROMPT",
        show_default=False,
    ),
]


def chat(
    ctx: typer.Context,
    prompt: PromptArg = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Model id (default: the chat's model, your default model, else the first).",
            autocompletion=model_ids,
        ),
    ] = None,
    system: Annotated[
        str | None, typer.Option("--system", "-s", help="System prompt for the chat.")
    ] = None,
    continue_last: Annotated[
        bool, typer.Option("--continue", "-c", help="Continue your most recent chat.")
    ] = False,
    chat_id: Annotated[
        str | None,
        typer.Option(
            "--chat",
            help="Continue this chat: its id, 4+ characters of it, or `last`.",
            show_default=False,
            autocompletion=chat_ids,
        ),
    ] = None,
    temporary: Annotated[
        bool, typer.Option("--temporary", help="Do not save this exchange.")
    ] = False,
    kbs: Annotated[
        list[str] | None,
        typer.Option(
            "--kb",
            metavar="NAME",
            help="Answer from this knowledge base (repeatable); sources are listed after.",
            show_default=False,
            autocompletion=kb_names,
        ),
    ] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option(
            "--file",
            "-f",
            metavar="PATH",
            help="Upload this file and ask about it (repeatable).",
            show_default=False,
        ),
    ] = None,
    notes: Annotated[
        list[str] | None,
        typer.Option(
            "--note",
            metavar="NOTE",
            help="Give the model this note as context: id, 4+ characters of it, or its title "
            "(repeatable).",
            show_default=False,
        ),
    ] = None,
    attach: Annotated[
        str | None,
        typer.Option(
            "--attach",
            metavar="CHAT_ID",
            help="Follow the answer being generated in a chat (or show its last one).",
            show_default=False,
            autocompletion=chat_ids,
        ),
    ] = None,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json",
            help="One JSON object at the end: chat_id, message_id, model, content, usage "
            "(and the numbered sources).",
        ),
    ] = False,
    raw: Annotated[
        bool, typer.Option("--raw", help="Plain text on a terminal too (no Markdown).")
    ] = False,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            "-p",
            metavar="COMMAND",
            help="Start from this library prompt (`webui prompts list`); PROMPT or stdin "
            "follows it, or fills its {{CLIPBOARD}}.",
            show_default=False,
        ),
    ] = None,
    variables: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            metavar="NAME=VALUE",
            help="A value for the prompt's {{NAME}} (repeatable); asked on a terminal if left out.",
            show_default=False,
        ),
    ] = None,
    memory: Annotated[
        bool | None,
        typer.Option(
            "--memory/--no-memory",
            help="Add your memories to this request, or leave them out (default: your setting).",
            show_default=False,
        ),
    ] = None,
    tool_ids: Annotated[
        list[str] | None,
        typer.Option(
            "--tool",
            metavar="ID",
            help="Let the model call this tool server (`webui tools list`; repeatable).",
            show_default=False,
        ),
    ] = None,
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm",
            help="Ask on the terminal before each tool call (no: the model is told you declined).",
        ),
    ] = False,
) -> None:
    """Ask a model and stream its answer; Ctrl-C stops it and keeps what arrived.

    On a terminal the answer is rendered as Markdown; in a pipe it is the exact text.
    With --kb or --file, a numbered list of the sources follows the answer.
    Exit codes: 0 answered, 1 usage, 2 daemon or provider error, 130 stopped.
    """
    # Imported here: the command's work, not needed to list or parse commands.
    from webui_tui.cli import chat_run

    if attach is not None:
        extra = prompt or model or system or continue_last or chat_id or temporary or kbs or files
        extra = extra or template or variables or notes or tool_ids
        if extra or confirm:
            raise UsageProblem("--attach takes only a chat id (and --json or --raw)")
        out = writer_for(json_out=json_out, raw=raw)
        try:
            outcome = call(ctx, lambda client: chat_run.attach(client, attach, out))
        finally:
            out.finish()
        raise typer.Exit(chat_run.finish(outcome, json_out=json_out))

    if continue_last and chat_id:
        raise UsageProblem("use either -c/--continue or --chat, not both")
    if temporary and (continue_last or chat_id):
        raise UsageProblem("--temporary starts a new, unsaved exchange: no -c or --chat")
    if confirm and not tool_ids:
        raise UsageProblem("--confirm asks before tool calls: use it with --tool")
    if confirm and temporary:
        raise UsageProblem("--confirm needs a saved chat to answer in: no --temporary")
    if variables and template is None:
        raise UsageProblem("--var fills a library prompt's variables: use it with -p COMMAND")
    text = _prompt_text(prompt, required=template is None)
    if template is not None:
        from webui_tui.cli.prompt_use import parse_vars, prepare

        text = prepare(ctx, template, text, parse_vars(variables))
    options = chat_run.ChatOptions(
        prompt=text,
        model=model,
        system=system,
        continue_last=continue_last,
        chat_id=chat_id,
        temporary=temporary,
        kbs=list(kbs or []),
        files=[_readable(path) for path in files or []],
        notes=list(notes or []),
        memory=memory,
        tools=list(tool_ids or []),
        confirm=confirm,
    )
    out = writer_for(json_out=json_out, raw=raw)
    try:
        outcome = call(ctx, lambda client: chat_run.ask(client, options, out))
    finally:
        out.finish()
    raise typer.Exit(chat_run.finish(outcome, json_out=json_out))


def _readable(path: Path) -> Path:
    if not path.is_file():
        raise UsageProblem(f"no such file: {path}")
    return path


def _prompt_text(words: list[str] | None, *, required: bool = True) -> str:
    """PROMPT, then a blank line and whatever is piped on stdin."""
    parts = [" ".join(words).strip()] if words else []
    if sys.stdin is not None and not sys.stdin.isatty():
        piped = sys.stdin.read().rstrip()
        if piped.strip():
            parts.append(piped)
    text = "\n\n".join(part for part in parts if part)
    if not text and required:
        raise UsageProblem("nothing to ask: give a PROMPT, or pipe text on stdin")
    return text
