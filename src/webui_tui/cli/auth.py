"""`webui login` and `webui logout`: tokens for URLs (the local socket needs none)."""

import contextlib
from typing import Annotated

import typer

from webui_daemon.schemas.auths import SessionUserResponse
from webui_tui.cli.output import say
from webui_tui.cli.runtime import call, read_secret, resolve_target
from webui_tui.client.api import WebUIClient
from webui_tui.client.credentials import CredentialStore
from webui_tui.client.discovery import Target
from webui_tui.client.errors import Forbidden, WebUIClientError

UrlArg = Annotated[
    str | None, typer.Argument(help="Server URL (default: WEBUI_URL).", show_default=False)
]

_SOCKET_NOTE = (
    "No login needed: on the local socket ({address}) the daemon knows you by your OS account. "
    "Log in to a URL instead: `webui login http://host:8080`."
)


def _where(store: CredentialStore, where: str) -> str:
    return "the system keyring" if where == "keyring" else str(store.file)


def login(
    ctx: typer.Context,
    url: UrlArg = None,
    email: Annotated[
        str | None, typer.Option("--email", "-e", help="Account email (prompted).")
    ] = None,
    api_key: Annotated[
        bool,
        typer.Option("--api-key", help="Use an API key (prompted, or read from stdin)."),
    ] = False,
) -> None:
    """Sign in to a server URL (email and password, or an API key) and store the token."""
    target = resolve_target(url)
    if target.url is None:
        say(_SOCKET_NOTE.format(address=target.address))
        return
    if api_key:
        token = read_secret("API key")
        session = call(ctx, _check_key, target=target, token=token)
    else:
        address = email or str(typer.prompt("Email"))
        password = read_secret("Password")
        session = call(ctx, lambda client: client.signin(address, password), target=target)
        token = session.token
    store = CredentialStore()
    where = store.set(target.url, token)
    who = f" as {session.name} <{session.email}> ({session.role})" if session else ""
    say(f"Logged in to {target.url}{who}; token kept in {_where(store, where)}.")
    if target.source == "argument":
        say(f"Use it with: WEBUI_URL={target.url} webui status")


async def _check_key(client: WebUIClient) -> SessionUserResponse | None:
    try:
        return await client.whoami()
    except Forbidden:
        # Open WebUI 0.12 refuses API keys on this one route; the key itself is fine.
        return None


def logout(ctx: typer.Context, url: UrlArg = None) -> None:
    """Sign out of a server URL and forget its stored token."""
    target = resolve_target(url)
    if target.url is None:
        say(f"Nothing to log out of: on the local socket ({target.address}) no token is used.")
        return
    store = CredentialStore()
    token = store.get(target.url)
    if token is None:
        say(f"Not logged in to {target.url}.")
        return
    if not token.startswith("sk-"):  # an API key is not a session: nothing to end on the server
        _end_session(ctx, target, token)
    store.delete(target.url)
    say(f"Logged out of {target.url}.")


def _end_session(ctx: typer.Context, target: Target, token: str) -> None:
    # Expired, or the server is away: forgetting the token locally is what matters.
    with contextlib.suppress(WebUIClientError):
        call(ctx, lambda client: client.signout(), target=target, token=token, autostart=False)
