"""Provider URLs this shell's environment names that the running daemon does not use.

A daemon reads OLLAMA_BASE_URL(S) and OPENAI_API_BASE_URL(S) once, when it starts, and
connections an admin saved win over them; a command run with another value in its own
environment would otherwise be silently ignored. `missing_line` says so in one line, with the
fix: restart the daemon with this environment, or add the URL as a saved connection; `stale`
asks the daemon (the CLI prints the line on stderr, the TUI shows it as a notice).
"""

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from webui_daemon.schemas.connections import ConnectionsState
from webui_tui.client.errors import WebUIClientError

if TYPE_CHECKING:
    from webui_tui.client.api import WebUIClient

# (kind, the list variable, the single-URL variable): the list wins, as in the daemon.
_VARIABLES = (
    ("ollama", "OLLAMA_BASE_URLS", "OLLAMA_BASE_URL"),
    ("openai", "OPENAI_API_BASE_URLS", "OPENAI_API_BASE_URL"),
)


def env_urls(environ: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(variable, kind, URL) for each provider URL the environment names."""
    env = os.environ if environ is None else environ
    out: list[tuple[str, str, str]] = []
    for kind, many, one in _VARIABLES:
        variable = many if env.get(many, "").strip() else one
        for url in env.get(variable, "").split(";"):
            if url.strip():
                out.append((variable, kind, url.strip().rstrip("/")))
    return out


def missing_line(state: ConnectionsState, named: list[tuple[str, str, str]]) -> str | None:
    """One line naming the URLs of `named` the daemon does not use, and the fix; or None."""
    have = {(c.type, c.url) for c in state.connections if c.enabled}
    missing = [(var, kind, url) for var, kind, url in named if (kind, url) not in have]
    if not missing:
        return None
    variable, kind, url = missing[0]
    urls = ", ".join(u for _, _, u in missing)
    stored = any(c.origin == "stored" for c in state.connections if c.type == kind)
    if stored and state.persistent_config:
        why = f"connections an admin saved win over {variable}"
        fix = f"`webui connections add {url}` adds it"
    else:
        why = "it was started with another environment"
        fix = f"`webui daemon restart` starts it with yours, or `webui connections add {url}`"
    return f"{variable} names {urls}, which the running daemon does not use ({why}); {fix}"


async def stale(client: "WebUIClient") -> str | None:
    """The line for this environment's provider URLs the daemon does not use, or None. Asks
    nothing unless the environment names one; None for non-admins and other servers."""
    named = env_urls()
    if not named:
        return None
    try:
        state = await client.connection_states()
    except WebUIClientError:
        return None
    return missing_line(state, named) if state is not None else None
