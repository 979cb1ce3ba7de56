"""What the commands share: global options, opening a client, running async work, prompts."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from webui_tui.client.api import WebUIClient
from webui_tui.client.connect import open_client
from webui_tui.client.discovery import Target, discover, url_target
from webui_tui.client.errors import AuthFailed

if TYPE_CHECKING:
    import httpx

EXIT_OK = 0
EXIT_USAGE = 1
EXIT_SERVER = 2  # daemon unreachable, auth refused, server error

T = TypeVar("T")


class UsageProblem(Exception):
    """The command line asks for something we cannot do; exit code 1."""


@dataclass(slots=True)
class CliState:
    """The global options, kept on the root context; `transport`, when set, carries every
    request (`run(args, transport=...)`: tests replay recorded answers through one)."""

    no_autostart: bool = False
    transport: "httpx.AsyncBaseTransport | None" = None


def cli_state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()


def resolve_target(url: str | None = None) -> Target:
    """The URL given, else the discovered server; a malformed URL is a usage problem."""
    try:
        return url_target(url) if url else discover()
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None


def announce_start(log_path: Path) -> None:
    print(f"webui: started the daemon (log: {log_path})", file=sys.stderr)


def call(
    ctx: typer.Context,
    work: Callable[[WebUIClient], Awaitable[T]],
    *,
    target: Target | None = None,
    token: str | None = None,
    autostart: bool = True,
    quick: bool = False,
) -> T:
    """Run `work` with a client for `target` (default: discovered) and return its result.
    `quick`: a few short requests, no stream (see `open_client`)."""
    chosen = target or resolve_target()
    state = cli_state(ctx)
    allowed = autostart and not state.no_autostart

    async def main() -> T:
        client = open_client(
            chosen,
            token=token,
            autostart=allowed,
            on_start=announce_start,
            transport=state.transport,
            quick=quick,
        )
        async with client:
            try:
                return await work(client)
            except AuthFailed as exc:
                if chosen.url is None or client.token is not None:
                    raise
                raise AuthFailed(
                    exc.status, f"{exc.detail}; log in first: `webui login {chosen.url}`"
                ) from None

    return asyncio.run(main())


def read_secret(prompt: str, *, confirm: bool = False) -> str:
    """Prompt without echo on a terminal; otherwise read one line from standard input."""
    if sys.stdin.isatty():
        value = str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise UsageProblem(f"no {prompt.lower()} given (type it, or pipe it on standard input)")
    return value


def confirm_or_yes(yes: bool, question: str) -> None:
    """Ask before destroying something, unless --yes; without a terminal, --yes is required."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageProblem(f"{question} — pass --yes to confirm without a terminal")
    typer.confirm(question, abort=True)


def read_input(source: str) -> bytes:
    """The bytes of the file `source`, or of standard input for `-`."""
    try:
        return sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise UsageProblem(f"cannot read {source}: {exc.strerror or exc}") from None


def write_output(text: str, output: Path | None) -> bool:
    """`text` into the file `output`, or onto stdout when it is None; True for a file."""
    if output is None:
        sys.stdout.write(text)
        return False
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageProblem(f"cannot write {output}: {exc.strerror or exc}") from None
    return True
