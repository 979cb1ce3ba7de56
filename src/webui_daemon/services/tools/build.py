"""Construction of the tool servers service (app.py hands it plain values from the settings)."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from webui_daemon.services.tools.approvals import DEFAULT_APPROVAL_TIMEOUT_S, Approvals
from webui_daemon.services.tools.calls import CallLimits
from webui_daemon.services.tools.servers import ToolServerService
from webui_daemon.storage.config import ConfigRepo
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.rows import UserRow

if TYPE_CHECKING:
    import httpx


async def open_tool_servers(
    config: ConfigRepo,
    groups: GroupRepo,
    session_token: Callable[[UserRow], str],
    *,
    connections: list[dict[str, Any]],
    timeout_s: float,
    max_bytes: int,
    approval_timeout_s: float = DEFAULT_APPROVAL_TIMEOUT_S,
) -> ToolServerService:
    """The service with the saved connections (or `connections`, from the environment).
    Nothing is fetched here: the daemon starts without waiting for any tool server."""

    def http() -> "httpx.AsyncClient":
        import httpx  # on first use: the daemon starts without it

        # Tool servers are the admins' own URLs: no proxy from the environment, no redirects.
        return httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=timeout_s)

    service = ToolServerService(
        config,
        groups,
        http,
        defaults=connections,
        limits=CallLimits(timeout_s=timeout_s, max_bytes=max_bytes),
        session_token=session_token,
        approvals=Approvals(approval_timeout_s),
    )
    await service.load()
    return service
