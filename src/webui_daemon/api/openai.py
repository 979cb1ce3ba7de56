"""/openai/...: Open WebUI's OpenAI proxy (spec 4.3, 5.6) and its connection settings."""

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser, interactive
from webui_daemon.api.streaming import raw_response
from webui_daemon.schemas.connections import ConnectionVerifyForm, OpenAIConfigForm
from webui_daemon.services import errors

router = APIRouter(prefix="/openai", tags=["openai"])


@router.get("/config")
async def get_config(_: AdminUser, services: ServicesDep) -> OpenAIConfigForm:
    return services.connections.openai_form()


@router.post("/config/update")
async def update_config(
    form: OpenAIConfigForm, _: AdminUser, services: ServicesDep
) -> OpenAIConfigForm:
    return await services.connections.update_openai(form)


@router.post("/verify")
async def verify(form: ConnectionVerifyForm, _: AdminUser, services: ServicesDep) -> Any:
    return await services.connections.verify("openai", form.url, form.key)


def _enabled(services: Any) -> None:
    if not services.connections.enabled("openai"):
        raise errors.Unavailable("OpenAI API is disabled")


@router.get("/models")
async def models(
    user: VerifiedUser, services: ServicesDep, refresh: bool = False
) -> dict[str, Any]:
    _enabled(services)
    return {"data": await services.models.provider_list(user, "openai", refresh=refresh)}


@router.get("/models/{url_idx}")
async def models_of(url_idx: int, _: AdminUser, services: ServicesDep) -> dict[str, Any]:
    _enabled(services)
    return {"data": await services.connections.models_of("openai", url_idx)}


@router.post("/chat/completions")
async def chat_completions(
    request: Request, user: VerifiedUser, services: ServicesDep, body: dict[str, Any] = Body(...)
) -> Response:
    """Pass-through: SSE or JSON as the upstream answers; errors keep their status."""
    _enabled(services)
    return await raw_response(
        request, services.proxies.openai_chat(user, body, interactive=interactive(request))
    )


# Last: every other /openai path (see ProxyService.openai_passthrough).
@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
async def passthrough(
    path: str, request: Request, user: VerifiedUser, services: ServicesDep
) -> Response:
    _enabled(services)
    query = request.url.query
    opening = services.proxies.openai_passthrough(
        user,
        request.method,
        f"{path}?{query}" if query else path,
        await request.body(),
        request.headers.get("content-type"),
    )
    return await raw_response(request, opening)
