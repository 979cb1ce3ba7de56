"""Wire models of tools (Open WebUI 0.12): tool server connections, the tools list, tool events.

A tool server connection is 0.12's `ToolServerConnection`: an OpenAPI server (`url` + `path`
to its `openapi.json`) or an MCP server over streamable HTTP (`type: "mcp"`, `url`), with
`auth_type` none / bearer (`key`) / session (the caller's own token), `config.enable` and
`config.access_grants` (who may use it; none: admins only), `info.id` / `info.name`.
webui's extension: `type: "mcp"` with `command` (and `env`) is a stdio MCP server the daemon
starts itself (only admins set connections at all).

While the daemon runs a tool loop, each tool call and each result goes to a streaming client
as an SSE comment line (`: webui.tool {item}`, TOOL_COMMENT), which OpenAI clients skip; the
item is the one saved in the message's `output` (0.12's `function_call` and
`function_call_output` items). With `params.tool_approval_mode: "ask"` a call is sent again
with status "pending" before it runs and waits for POST
/api/v1/chats/{id}/messages/{message_id}/resolve (ResolveToolCallForm); then "in_progress", or
"rejected" with its refusal as the result.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TOOL_COMMENT = ": webui.tool "
# The key of a tool item in the daemon's stream of chunks (sent as a TOOL_COMMENT line).
TOOL_KEY = "webui_tool"


def server_id(index: int, connection: dict[str, Any]) -> str:
    """A connection's tool id, as 0.12 names it: `server:<info.id or index>` (OpenAPI),
    `server:mcp:<info.id or index>` (MCP)."""
    info = connection.get("info") or {}
    ident = info.get("id") if isinstance(info, dict) else None
    if connection.get("type") == "mcp":
        return f"server:mcp:{ident or index}"
    return f"server:{ident or index}"


class ToolServerConnection(BaseModel):
    model_config = ConfigDict(extra="allow")

    url: str = Field(default="", max_length=4096)
    path: str = Field(default="openapi.json", max_length=4096)
    type: Literal["openapi", "mcp"] | None = "openapi"
    auth_type: str | None = "none"
    forward_cookies: bool = False  # kept as 0.12.4 keeps it (the daemon forwards none)
    headers: dict[str, str] | None = None
    key: str | None = None
    config: dict[str, Any] | None = None
    info: dict[str, Any] | None = None
    # webui extension: a stdio MCP server the daemon starts (argv), with extra environment.
    command: list[str] | None = Field(default=None, max_length=256)
    env: dict[str, str] | None = None


class ToolServersConfigForm(BaseModel):
    TOOL_SERVER_CONNECTIONS: list[ToolServerConnection] = Field(
        default_factory=list, max_length=256
    )


class ToolUserResponse(BaseModel):
    """One entry of GET /api/v1/tools/ (0.12's ToolUserResponse)."""

    model_config = ConfigDict(extra="allow")

    id: str
    user_id: str | None = None
    name: str
    meta: dict[str, Any] = Field(default_factory=dict)
    access_grants: list[dict[str, Any]] = Field(default_factory=list)
    updated_at: int
    created_at: int


class ToolSpec(BaseModel):
    """One function a tool server offers (an OpenAI function spec)."""

    model_config = ConfigDict(extra="allow")

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)


class ToolSpecsResponse(BaseModel):
    """GET /api/v1/tools/id/{id}/specs and `webui tools test`: what a server offers."""

    specs: list[ToolSpec]


class CodeToolForm(BaseModel):
    """0.12's ToolForm / FunctionForm: Python code to run inside the server (refused here)."""

    model_config = ConfigDict(extra="allow")

    id: str = ""
    name: str = ""
    content: str = ""


class ResolveToolCallForm(BaseModel):
    """POST /api/v1/chats/{id}/messages/{message_id}/resolve (0.12): the user's answer to a
    tool call that waits for approval (`params.tool_approval_mode: "ask"`)."""

    call_id: str = Field(max_length=256)
    action: Literal["approve", "reject", "answer"]
    answers: Any | None = None  # 0.12's `ask_user` tool (not here)
    timed_out: bool = False


class ResolveToolCallResponse(BaseModel):
    status: bool
    chat_id: str
    message_id: str
