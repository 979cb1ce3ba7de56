"""The Typer application: global options, the subcommands, and errors turned into exit codes."""

import importlib
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from webui_tui.cli.runtime import EXIT_SERVER, EXIT_USAGE, CliState, UsageProblem
from webui_tui.client.errors import WebUIClientError

if TYPE_CHECKING:
    import httpx

_SETTINGS: dict[str, Any] = {
    "name": "webui",
    "add_completion": False,
    "pretty_exceptions_enable": False,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = typer.Typer(**_SETTINGS)  # the global options; `_with` adds the commands


def _print_version(value: bool) -> None:
    if value:
        from webui_daemon import __version__

        typer.echo(f"webui {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    no_autostart: Annotated[
        bool,
        typer.Option(
            "--no-autostart",
            help="Never start the daemon in the background (env WEBUI_NO_AUTOSTART=1).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", help="Print the version.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Open WebUI for the terminal.

    Talks to the local daemon on its socket (started on demand), or to WEBUI_URL after login.
    """
    # A state handed to `run` (its transport) is kept; the options fill it in.
    state = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
    state.no_autostart = no_autostart
    ctx.obj = state
    if ctx.invoked_subcommand is None:
        # On a terminal the bare command opens the TUI; piped or redirected, it shows help.
        if sys.stdin.isatty() and sys.stdout.isatty():
            _module("tui").run_tui(ctx)
        else:
            _echo_help(ctx.get_help())


# Each command's module, imported when the command runs: the CLI holds ~25 command modules and
# one runs (docs/benchmarks.md, `webui status`). A command is the module's function of its name;
# a group is the module's `app`. The order is `webui --help`'s.
COMMANDS = {
    "chat": "chat",
    "serve": "serve",
    "status": "status",
    "login": "auth",
    "logout": "auth",
    "tui": "tui",
    "ps": "ps",
    "stop": "ps",
    "usage": "usage",
    "completion": "completion",
}
GROUPS = {
    "daemon": "daemon",
    "users": "users",
    "groups": "groups",
    "apikey": "apikey",
    "chats": "chats",
    "models": "models",
    "config": "config",
    "connections": "connections",
    "kb": "kb",
    "memories": "memories",
    "permissions": "permissions",
    "prompts": "prompts",
    "notes": "notes",
    "tools": "tools",
}


def _module(name: str) -> Any:
    return importlib.import_module(f"webui_tui.cli.{name}")


def _with(names: list[str]) -> typer.Typer:
    """A copy of the app holding the named commands and groups, their modules imported now."""
    only = typer.Typer(**_SETTINGS)
    only.registered_callback = app.registered_callback
    for name in names:
        if name in COMMANDS:
            only.command()(getattr(_module(COMMANDS[name]), name))
        else:
            only.add_typer(_module(GROUPS[name]).app, name=name)
    return only


def _fail(message: str, code: int) -> int:
    print(f"webui: {message}", file=sys.stderr)
    return code


def run(args: list[str], *, transport: "httpx.AsyncBaseTransport | None" = None) -> int:
    """Run the command line; every failure becomes one line on stderr and an exit code.

    `transport`, when given, carries every request (tests replay recorded answers with one).
    """
    from webui_tui.cli import completion

    if os.environ.get(completion.COMPLETE_VAR):
        completion.install()  # the shell asks for completions: Typer answers and exits
        command = typer.main.get_command(_only(_typed_words()))
    else:
        command = typer.main.get_command(_only(args))
    state = CliState(transport=transport)
    try:
        result = command.main(args=args, prog_name="webui", standalone_mode=False, obj=state)
    except WebUIClientError as exc:
        return _fail(exc.message, EXIT_SERVER)
    except UsageProblem as exc:
        return _fail(str(exc), EXIT_USAGE)
    except typer.Abort:
        return _fail("aborted", EXIT_USAGE)
    except typer.TyperException as exc:
        return _usage_error(exc)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("WEBUI_DEBUG"):
            raise
        text = f"unexpected error: {type(exc).__name__}: {exc} (WEBUI_DEBUG=1 shows where)"
        return _fail(text, EXIT_SERVER)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def _only(args: list[str]) -> typer.Typer:
    """The app with only the command that `args` name, only its module imported: Typer also
    builds a Click command for every command it holds (their signatures read with
    get_type_hints), so one command's start pays for none of the others. No name (`webui`,
    `webui --help`) or an unknown one: the whole app, for its help and its "No such command"."""
    name = next((arg for arg in args if not arg.startswith("-")), None)
    if name in COMMANDS or name in GROUPS:
        return _with([name])
    return _with([*COMMANDS, *GROUPS])


def _typed_words() -> list[str]:
    """On a Tab, the words typed before the one being completed (bash's line up to the cursor,
    zsh's and fish's words), without the program's name: `webui chat -m ` → chat, -m."""
    line = os.environ.get("_WEBUI_COMPLETE_LINE") or os.environ.get("_TYPER_COMPLETE_ARGS") or ""
    words = line.split()
    if line and not line[-1].isspace():
        words = words[:-1]  # the word being completed
    return words[1:]


def _usage_error(exc: typer.TyperException) -> int:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":
        _echo_help(exc.format_message())  # `webui users` alone: its help, not an error
        return 0
    where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return _fail(f"{exc.format_message()}{where}", EXIT_USAGE)


def _echo_help(text: str) -> None:
    # With rich installed, Typer prints help itself and hands back an empty string.
    if text:
        typer.echo(text)
