"""`webui chat -p COMMAND [PROMPT]`: a prompt from the library made into the question.

As the web UI does it: `--var NAME=VALUE` first (any variable, built-in ones too), then the
clock and the user's variables; `{{CLIPBOARD}}` takes the text given after the command or piped
in (which is otherwise added after the template, following a blank line); the custom variables
left are asked for on a terminal (defaults offered, options listed) and in a script must come
with --var: one missing is a usage error naming it (exit 1).
"""

import sys
from typing import TYPE_CHECKING, Any

import typer

from webui_tui.cli.runtime import UsageProblem, call
from webui_tui.client.templates import (
    CLIPBOARD,
    answer,
    default_of,
    expand_known,
    options_of,
    questions,
)

if TYPE_CHECKING:
    from webui_daemon.schemas.auths import SessionUserResponse
    from webui_daemon.schemas.prompts import Prompt
    from webui_tui.client.api import WebUIClient


def parse_vars(items: list[str] | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip().removeprefix("{{").removesuffix("}}").strip()
        if not sep or not name:
            raise UsageProblem(f"--var takes NAME=VALUE, not {item!r}")
        values[name] = value
    return values


def _ask(name: str, spec: dict[str, Any]) -> str:
    """One variable, asked on the terminal (on stderr: stdout is the answer's)."""
    options = options_of(spec)
    default = default_of(spec)
    required = bool(spec.get("required"))
    label = spec.get("label") or spec.get("placeholder") or name
    if options:
        listed = "  ".join(f"{i}) {o}" for i, o in enumerate(options, 1))
        typer.echo(f"{label}: {listed}", err=True)
    while True:
        value = str(
            typer.prompt(
                name if not options else f"{name} (number or text)",
                default=default if default is not None else "",
                show_default=default is not None,
                err=True,
            )
        )
        if options and value.isdigit() and 1 <= int(value) <= len(options):
            value = options[int(value) - 1]
        if options and value and value not in options:
            typer.echo(f"choose one of: {', '.join(options)}", err=True)
            continue
        if required and not value:
            typer.echo(f"{name} is required", err=True)
            continue
        return value


def expand(
    prompt: "Prompt",
    user: Any,
    given: str,
    variables: dict[str, str],
    *,
    interactive: bool,
) -> str:
    """The question `prompt` makes with the text `given` after it and `variables`."""
    known = questions(prompt.content)
    unknown = sorted(set(variables) - set(known))
    if unknown:
        has = ", ".join(known) or "no variables"
        raise UsageProblem(f"/{prompt.command} has no variable {unknown[0]} (it has: {has})")
    text = answer(prompt.content, variables)
    clipboard = given if CLIPBOARD in text and given else None
    text = expand_known(text, user, clipboard=clipboard)
    values: dict[str, str] = {}
    missing = []
    for name, spec in questions(text).items():
        if interactive:
            values[name] = _ask(name, spec)
        elif (default := default_of(spec)) is not None:
            values[name] = default
        else:
            missing.append(name)
    if missing:
        wanted = " ".join(f"--var {m}=VALUE" for m in missing)
        raise UsageProblem(f"/{prompt.command} needs {', '.join(missing)}: give {wanted}")
    text = answer(text, values)
    if given and clipboard is None:
        text = f"{text.rstrip()}\n\n{given}"
    if not text.strip():
        raise UsageProblem(f"/{prompt.command} makes an empty question")
    return text


def prepare(ctx: typer.Context, command: str, given: str, variables: dict[str, str]) -> str:
    """Fetch the prompt and who is asking, then expand (asking on a terminal)."""

    async def fetch(client: "WebUIClient") -> "tuple[Prompt, SessionUserResponse]":
        return await client.find_prompt(command), await client.whoami()

    prompt, user = call(ctx, fetch)
    interactive = sys.stdin is not None and sys.stdin.isatty() and sys.stderr.isatty()
    return expand(prompt, user, given, variables, interactive=interactive)
