"""Tools (Open WebUI 0.12): /api/v1/tools (the tool servers a user may use), the admins'
/api/v1/configs/tool_servers (+ verify), the answer to a tool call waiting for approval, and
the refusal to run Python tools or functions."""

from typing import Any

from fastapi import APIRouter

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.schemas.tools import (
    CodeToolForm,
    ResolveToolCallForm,
    ResolveToolCallResponse,
    ToolServerConnection,
    ToolServersConfigForm,
    ToolSpec,
    ToolSpecsResponse,
    ToolUserResponse,
)
from webui_daemon.services.errors import WebUIError

router = APIRouter(prefix="/api/v1")

NO_PYTHON = (
    "{what} are Python code run inside the server, and this webui daemon never runs users' "
    "code (it may serve several people). Register a tool server instead: an OpenAPI or MCP "
    "server, with `webui tools add` or POST /api/v1/configs/tool_servers."
)


@router.get("/tools/", tags=["tools"])
async def tools(user: VerifiedUser, services: ServicesDep) -> list[ToolUserResponse]:
    listed = await services.tools.listed(user)
    return [ToolUserResponse.model_validate(t) for t in listed]


@router.get("/tools/id/{tool_id}/specs", tags=["tools"])
async def tool_specs(tool_id: str, user: VerifiedUser, services: ServicesDep) -> ToolSpecsResponse:
    specs = await services.tools.specs(user, tool_id)
    return ToolSpecsResponse(specs=[ToolSpec.model_validate(s) for s in specs])


@router.post("/tools/create", tags=["tools"], responses={400: {}})
async def create_tool(_: CodeToolForm, __: VerifiedUser) -> None:
    raise WebUIError(NO_PYTHON.format(what="Tools"))


@router.post("/functions/create", tags=["functions"], responses={400: {}})
async def create_function(_: CodeToolForm, __: VerifiedUser) -> None:
    raise WebUIError(NO_PYTHON.format(what="Functions"))


@router.get("/configs/tool_servers", tags=["configs"])
async def tool_servers(_: AdminUser, services: ServicesDep) -> ToolServersConfigForm:
    return ToolServersConfigForm.model_validate(
        {"TOOL_SERVER_CONNECTIONS": services.tools.connections()}
    )


@router.post("/configs/tool_servers", tags=["configs"])
async def set_tool_servers(
    form: ToolServersConfigForm, _: AdminUser, services: ServicesDep
) -> ToolServersConfigForm:
    connections = [c.model_dump(exclude_none=True) for c in form.TOOL_SERVER_CONNECTIONS]
    saved = await services.tools.set_connections(connections)
    return ToolServersConfigForm.model_validate({"TOOL_SERVER_CONNECTIONS": saved})


@router.post("/configs/tool_servers/verify", tags=["configs"])
async def verify_tool_server(
    form: ToolServerConnection, user: AdminUser, services: ServicesDep
) -> dict[str, Any]:
    return await services.tools.verify(form.model_dump(exclude_none=True), user)


@router.post("/chats/{chat_id}/messages/{message_id}/resolve", tags=["chats"])
async def resolve_tool_call(
    chat_id: str,
    message_id: str,
    form: ResolveToolCallForm,
    user: VerifiedUser,
    services: ServicesDep,
) -> ResolveToolCallResponse:
    """Approve or reject a tool call waiting for its user (0.12's route; here the waiting
    answer goes on by itself: services.tools.approvals)."""
    if form.action == "answer":
        raise WebUIError("Tool call does not accept answers.")
    await services.chats.get(user.id, chat_id)  # 401 when the chat is not the caller's
    services.tools.approvals.resolve(
        user.id, chat_id, message_id, form.call_id, approve=form.action == "approve"
    )
    return ResolveToolCallResponse(status=True, chat_id=chat_id, message_id=message_id)
