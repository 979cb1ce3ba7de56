"""`webui` commands say on stderr which provider URLs of their environment the running daemon
does not use (the rule: client.env_check)."""

from typing import TYPE_CHECKING

from webui_tui.cli.output import note
from webui_tui.client.env_check import stale

if TYPE_CHECKING:
    from webui_tui.client.api import WebUIClient


async def warn_missing(client: "WebUIClient") -> None:
    line = await stale(client)
    if line:
        note(line)
