"""Tools (Open WebUI 0.12): the tool servers you may use (`/api/v1/tools/`), and, for admins,
the tool server connections (`/api/v1/configs/tool_servers`, + verify).

    tools = await client.list_tools()                    # [ToolUserResponse]
    saved = await client.tool_server_connections()      # admins
    await client.verify_tool_server(connection)         # 400 (RequestFailed) when unreachable
    await client.set_tool_server_connections([...])
    specs = await client.tool_specs("server:mcp:files")  # the functions one server offers
    await client.resolve_tool_call(chat_id, message_id, call_id, approve=True)  # --confirm
"""

from typing import Any

from pydantic import TypeAdapter

from webui_daemon.schemas.tools import (
    ToolServersConfigForm,
    ToolSpecsResponse,
    ToolUserResponse,
)
from webui_tui.client.base import LATER, BaseClient, parse

TOOLS = "/api/v1/tools"
CONFIG = "/api/v1/configs/tool_servers"

_TOOLS: TypeAdapter[list[ToolUserResponse]] = TypeAdapter(list[ToolUserResponse], config=LATER)
# Open WebUI 0.12.4 wants these keys in every connection it is sent (null allowed): 422 without.
_REQUIRED: dict[str, Any] = {"key": "", "auth_type": "none", "config": None}


def _complete(connection: dict[str, Any]) -> dict[str, Any]:
    return {**_REQUIRED, **connection}


class ToolsMixin(BaseClient):
    """Tool servers (see the module docstring)."""

    async def list_tools(self) -> list[ToolUserResponse]:
        return await self._list(f"{TOOLS}/", _TOOLS)

    async def tool_specs(self, tool_id: str) -> ToolSpecsResponse:
        data = await self.request("GET", f"{TOOLS}/id/{tool_id}/specs")
        return parse(ToolSpecsResponse, data, f"{TOOLS}/id/{tool_id}/specs")

    async def tool_server_connections(self) -> list[dict[str, Any]]:
        data = await self.request("GET", CONFIG)
        form = parse(ToolServersConfigForm, data, CONFIG)
        return [c.model_dump(exclude_none=True) for c in form.TOOL_SERVER_CONNECTIONS]

    async def set_tool_server_connections(
        self, connections: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        body = {"TOOL_SERVER_CONNECTIONS": [_complete(c) for c in connections]}
        data = await self.request("POST", CONFIG, body=body)
        form = parse(ToolServersConfigForm, data, CONFIG)
        return [c.model_dump(exclude_none=True) for c in form.TOOL_SERVER_CONNECTIONS]

    async def verify_tool_server(self, connection: dict[str, Any]) -> Any:
        return await self.request("POST", f"{CONFIG}/verify", body=_complete(connection))

    async def resolve_tool_call(
        self, chat_id: str, message_id: str, call_id: str, *, approve: bool
    ) -> None:
        """Approve or reject a tool call that waits for its user (`tool_approval_mode: ask`)."""
        action = "approve" if approve else "reject"
        await self.request(
            "POST",
            f"/api/v1/chats/{chat_id}/messages/{message_id}/resolve",
            body={"call_id": call_id, "action": action},
        )
