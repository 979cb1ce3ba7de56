"""Tool servers: the admins' connections (0.12's `tool_server.connections`), who may use them,
their functions, and the tool set one completion gets from its `tool_ids`.

Connections are stored in the config table under 0.12's key; until an admin saves some, the
TOOL_SERVER_CONNECTIONS environment variable (JSON) gives them. OpenAPI documents are fetched
when the connections are set (and again, at most every RETRY_S, for a server that failed);
MCP servers are asked for their tools when a completion needs them (kept for MCP_SPECS_TTL_S).

Ids as in 0.12: `server:<info.id or index>` for OpenAPI, `server:mcp:<info.id>` for MCP. A
connection with no `config.access_grants` is for admins only; grants name users or groups.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from webui_daemon.schemas.tools import server_id
from webui_daemon.services import errors
from webui_daemon.services.access import has_grant
from webui_daemon.services.tools.approvals import DEFAULT_APPROVAL_TIMEOUT_S, Approvals
from webui_daemon.services.tools.calls import CallLimits, Tool
from webui_daemon.services.tools.mcp_link import McpLink, McpTarget
from webui_daemon.services.tools.openapi import OpenApiServer, parse, spec_url
from webui_daemon.storage.config import ConfigRepo
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.rows import UserRow

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

CONFIG_KEY = "tool_server.connections"
RETRY_S = 10.0
MCP_SPECS_TTL_S = 30.0
SPEC_MAX_BYTES = 4 * 1024 * 1024


@dataclass(slots=True)
class _Fetched:
    server: OpenApiServer | None = None
    failed_at: float = 0.0


@dataclass(slots=True)
class ToolSet:
    """The functions one completion may call; its MCP links close with it."""

    tools: dict[str, Tool] = field(default_factory=dict)
    links: list[McpLink] = field(default_factory=list)

    def specs(self) -> list[dict[str, Any]]:
        return [{"type": "function", "function": t.spec} for t in self.tools.values()]

    async def aclose(self) -> None:
        for link in self.links:
            await link.aclose()


def _enabled(connection: dict[str, Any]) -> bool:
    return bool((connection.get("config") or {}).get("enable"))


def _filter(connection: dict[str, Any]) -> list[str]:
    names = (connection.get("config") or {}).get("function_name_filter_list") or ""
    if isinstance(names, str):
        names = names.split(",")
    return [str(n).strip() for n in names if str(n).strip()]


class ToolServerService:
    def __init__(
        self,
        config: ConfigRepo,
        groups: GroupRepo,
        http: "Callable[[], httpx.AsyncClient]",
        *,
        defaults: list[dict[str, Any]],
        limits: CallLimits,
        session_token: Callable[[UserRow], str],
        approvals: Approvals | None = None,
    ) -> None:
        self._config = config
        # The calls waiting for their user's yes (`tool_approval_mode: "ask"`).
        self.approvals = approvals or Approvals(DEFAULT_APPROVAL_TIMEOUT_S)
        self._groups = groups
        self._make_http = http
        self._http: httpx.AsyncClient | None = None
        self._defaults = defaults
        self.limits = limits
        self._session_token = session_token
        self._connections: list[dict[str, Any]] = []
        self._openapi: dict[int, _Fetched] = {}
        self._mcp_cache: dict[int, tuple[float, list[dict[str, Any]]]] = {}
        self._stdio: dict[int, McpLink] = {}  # started once, kept for the daemon's life

    @property
    def http(self) -> "httpx.AsyncClient":
        """Made on first use: httpx is not imported while the daemon starts."""
        if self._http is None:
            self._http = self._make_http()
        return self._http

    # ---- the admins' connections ------------------------------------------------------------

    async def load(self) -> None:
        stored = await self._config.get(CONFIG_KEY)
        self._connections = stored if isinstance(stored, list) else list(self._defaults)

    def connections(self) -> list[dict[str, Any]]:
        return [dict(c) for c in self._connections]

    async def set_connections(self, connections: list[dict[str, Any]]) -> list[dict[str, Any]]:
        await self._config.set_many({CONFIG_KEY: connections})
        await self._close_stdio()
        self._connections = list(connections)
        self._openapi.clear()
        self._mcp_cache.clear()
        await asyncio.gather(
            *(self._fetch_openapi(i) for i, c in enumerate(connections) if _is_openapi(c))
        )
        return self.connections()

    # ---- fetching what servers offer --------------------------------------------------------

    def _headers(self, connection: dict[str, Any], user: UserRow | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        auth = connection.get("auth_type") or "none"
        if auth == "bearer" and connection.get("key"):
            headers["Authorization"] = f"Bearer {connection['key']}"
        elif auth == "session" and user is not None:
            headers["Authorization"] = f"Bearer {self._session_token(user)}"
        extra = connection.get("headers")
        if isinstance(extra, dict):
            headers.update({str(k): str(v) for k, v in extra.items()})
        return headers

    async def fetch_document(self, connection: dict[str, Any], user: UserRow | None) -> Any:
        url = spec_url(str(connection.get("url") or ""), str(connection.get("path") or ""))
        async with asyncio.timeout(self.limits.timeout_s):
            response = await self.http.get(url, headers=self._headers(connection, user))
        if response.status_code != 200:
            raise ValueError(f"{url} answered {response.status_code}")
        if len(response.content) > SPEC_MAX_BYTES:
            raise ValueError(f"{url} is larger than {SPEC_MAX_BYTES} bytes")
        return json.loads(response.content)

    async def _fetch_openapi(self, index: int) -> OpenApiServer | None:
        connection = self._connections[index]
        try:
            server = parse(await self.fetch_document(connection, None))
        except Exception as exc:
            log.warning("tool server %s: %s", connection.get("url"), exc)
            self._openapi[index] = _Fetched(None, time.monotonic())
            return None
        info = connection.get("info") or {}
        if isinstance(info, dict) and (info.get("name") or info.get("description")):
            title = str(info.get("name") or server.title)
            server = OpenApiServer(
                title,
                str(info.get("description", server.description)),
                server.specs,
                server.operations,
            )
        self._openapi[index] = _Fetched(server)
        return server

    async def _openapi_server(self, index: int) -> OpenApiServer | None:
        fetched = self._openapi.get(index)
        if fetched is not None and (
            fetched.server is not None or time.monotonic() - fetched.failed_at < RETRY_S
        ):
            return fetched.server
        return await self._fetch_openapi(index)

    def mcp_target(self, connection: dict[str, Any], user: UserRow | None) -> McpTarget:
        command = connection.get("command")
        if command:
            env = connection.get("env") if isinstance(connection.get("env"), dict) else {}
            return McpTarget(command=tuple(str(c) for c in command), env=dict(env or {}))
        return McpTarget(
            url=str(connection.get("url") or ""), headers=self._headers(connection, user)
        )

    def _link(self, index: int, user: UserRow, toolset: ToolSet) -> McpLink:
        connection = self._connections[index]
        if connection.get("command"):
            link = self._stdio.get(index)
            if link is None:
                link = self._stdio[index] = McpLink(self.mcp_target(connection, None), 10.0)
            return link
        link = McpLink(self.mcp_target(connection, user), self.limits.timeout_s)
        toolset.links.append(link)
        return link

    async def _mcp_specs(self, index: int, link: McpLink) -> list[dict[str, Any]]:
        cached = self._mcp_cache.get(index)
        if cached is not None and time.monotonic() - cached[0] < MCP_SPECS_TTL_S:
            return cached[1]
        specs = await link.list_tools(self.limits.timeout_s)
        self._mcp_cache[index] = (time.monotonic(), specs)
        return specs

    # ---- who may use what -------------------------------------------------------------------

    async def _may_use(self, user: UserRow, connection: dict[str, Any], groups: set[str]) -> bool:
        if user.role == "admin":
            return True
        grants = (connection.get("config") or {}).get("access_grants") or []
        return bool(grants) and has_grant(user, grants, "read", groups)

    async def _group_ids(self, user: UserRow) -> set[str]:
        return {g.id for g in await self._groups.for_user(user.id)}

    async def listed(self, user: UserRow) -> list[dict[str, Any]]:
        """GET /api/v1/tools/: the enabled servers this user may use (0.12's entries)."""
        groups = await self._group_ids(user)
        now = int(time.time())
        out: list[dict[str, Any]] = []
        for index, connection in enumerate(self._connections):
            if not _enabled(connection) or not await self._may_use(user, connection, groups):
                continue
            info = connection.get("info") if isinstance(connection.get("info"), dict) else {}
            if _is_openapi(connection):
                server = await self._openapi_server(index)
                if server is None:
                    continue  # 0.12 lists only the OpenAPI servers it could read
                name, description = server.title, server.description
            else:
                name = str((info or {}).get("name") or "MCP Tool Server")
                description = str((info or {}).get("description") or "")
            ident = server_id(index, connection)
            out.append(
                {
                    "version_id": None,  # 0.12.4's keys, as it fills them for a server
                    "id": ident,
                    "user_id": ident,
                    "name": name,
                    "meta": {
                        "i18n": None,
                        "description": description,
                        "manifest": {},
                        "has_user_valves": False,
                    },
                    "access_grants": [],
                    "updated_at": now,
                    "created_at": now,
                    "user": None,
                }
            )
        return out

    async def specs(self, user: UserRow, tool_id: str) -> list[dict[str, Any]]:
        """What one server offers (`webui tools test`, /api/v1/tools/id/{id}/specs)."""
        toolset = await self.toolset(user, [tool_id], strict=True)
        try:
            return [t.spec for t in toolset.tools.values()]
        finally:
            await toolset.aclose()

    async def toolset(self, user: UserRow, tool_ids: list[str], *, strict: bool = False) -> ToolSet:
        """The functions of these servers for one completion. Ids that are unknown, disabled or
        not this user's are left out, as 0.12 does (`strict`: NotFound instead)."""
        toolset = ToolSet()
        groups = await self._group_ids(user)
        by_id = {server_id(i, c): i for i, c in enumerate(self._connections)}
        for tool_id in dict.fromkeys(tool_ids):
            index = by_id.get(tool_id)
            connection = self._connections[index] if index is not None else None
            usable = connection is not None and _enabled(connection)
            if not usable or not await self._may_use(user, connection or {}, groups):
                if strict:
                    raise errors.NotFound("Tool not found")
                log.info("tool %s is unknown or not allowed for %s: left out", tool_id, user.id)
                continue
            assert index is not None and connection is not None
            try:
                await self._add(toolset, index, connection, tool_id, user)
            except Exception as exc:
                log.warning("tool server %s left out: %r", tool_id, exc, exc_info=True)
                if strict:
                    await toolset.aclose()
                    reason = str(exc) or type(exc).__name__
                    raise errors.WebUIError(f"The tool server did not answer: {reason}") from None
        return toolset

    async def _add(
        self, toolset: ToolSet, index: int, connection: dict[str, Any], tool_id: str, user: UserRow
    ) -> None:
        wanted = _filter(connection)
        prefix = tool_id.rsplit(":", 1)[-1]
        if _is_openapi(connection):
            server = await self._openapi_server(index)
            if server is None:
                raise ValueError("its OpenAPI document could not be read")
            headers = {"Content-Type": "application/json", **self._headers(connection, user)}
            for spec in server.specs:
                if wanted and spec["name"] not in wanted:
                    continue
                name = _free_name(toolset, spec["name"], prefix)
                toolset.tools[name] = Tool(
                    name=name,
                    spec={**spec, "name": name},
                    server=tool_id,
                    remote_name=spec["name"],
                    url=str(connection.get("url") or ""),
                    operation=server.operations[spec["name"]],
                    headers=headers,
                )
            return
        link = self._link(index, user, toolset)
        for spec in await self._mcp_specs(index, link):
            if wanted and spec["name"] not in wanted:
                continue
            name = _free_name(toolset, spec["name"], prefix)
            toolset.tools[name] = Tool(
                name=name,
                spec={**spec, "name": name},
                server=tool_id,
                remote_name=spec["name"],
                mcp=link,
            )

    # ---- verify, close ----------------------------------------------------------------------

    async def verify(self, connection: dict[str, Any], user: UserRow) -> dict[str, Any]:
        """POST /configs/tool_servers/verify: the OpenAPI document, or 0.12's MCP answer."""
        try:
            if connection.get("type") == "mcp":
                link = McpLink(self.mcp_target(connection, user), self.limits.timeout_s)
                try:
                    return {"status": True, "specs": await link.list_tools(self.limits.timeout_s)}
                finally:
                    await link.aclose()
            document = await self.fetch_document(connection, user)
            parse(document)
            return document if isinstance(document, dict) else {}
        except Exception as exc:
            log.info("tool server verification failed: %s", exc)
            if connection.get("type") == "mcp":
                raise errors.WebUIError("Failed to create MCP client") from None
            raise errors.WebUIError("Failed to connect to the tool server") from None

    async def _close_stdio(self) -> None:
        links, self._stdio = list(self._stdio.values()), {}
        for link in links:
            await link.aclose()

    async def aclose(self) -> None:
        await self._close_stdio()
        if self._http is not None:
            await self._http.aclose()


def _is_openapi(connection: dict[str, Any]) -> bool:
    return (connection.get("type") or "openapi") == "openapi"


def _free_name(toolset: ToolSet, name: str, prefix: str) -> str:
    """0.12's rule for two servers offering the same name: the later one gets a prefix."""
    while name in toolset.tools:
        name = f"{prefix}_{name}"
    return name
