"""/ollama/...: Open WebUI's Ollama proxy (spec 4.3, 5.6) and its connection settings."""

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.api.streaming import raw_response
from webui_daemon.schemas.connections import ConnectionVerifyForm, OllamaConfigForm
from webui_daemon.schemas.system import StatusResponse
from webui_daemon.services import errors
from webui_daemon.services.proxies import ProxyService
from webui_daemon.storage.rows import UserRow

router = APIRouter(prefix="/ollama", tags=["ollama"])


@router.get("/")
async def status(_: VerifiedUser) -> StatusResponse:
    # Open WebUI answers this to anyone; here every provider route needs a signed-in user.
    return StatusResponse(status=True)


@router.get("/config")
async def get_config(_: AdminUser, services: ServicesDep) -> OllamaConfigForm:
    return services.connections.ollama_form()


@router.post("/config/update")
async def update_config(
    form: OllamaConfigForm, _: AdminUser, services: ServicesDep
) -> OllamaConfigForm:
    return await services.connections.update_ollama(form)


@router.post("/verify")
async def verify(form: ConnectionVerifyForm, _: AdminUser, services: ServicesDep) -> Any:
    return await services.connections.verify("ollama", form.url, form.key)


def _enabled(services: Any) -> None:
    if not services.connections.enabled("ollama"):
        raise errors.Unavailable("Ollama API is disabled")


@router.get("/api/tags")
async def tags(user: VerifiedUser, services: ServicesDep, refresh: bool = False) -> dict[str, Any]:
    _enabled(services)
    return {"models": await services.models.provider_list(user, "ollama", refresh=refresh)}


@router.get("/api/tags/{url_idx}")
async def tags_of(url_idx: int, _: AdminUser, services: ServicesDep) -> dict[str, Any]:
    _enabled(services)
    return {"models": await services.connections.models_of("ollama", url_idx)}


@router.get("/api/version")
async def version(_: VerifiedUser, services: ServicesDep) -> dict[str, Any]:
    return {"version": await services.connections.ollama_version()}


async def _proxy(
    request: Request, proxies: ProxyService, user: UserRow, path: str, body: dict[str, Any]
) -> Response:
    return await raw_response(request, proxies.ollama(user, path, body))


@router.post("/api/chat")
async def chat(
    request: Request, user: VerifiedUser, services: ServicesDep, body: dict[str, Any] = Body(...)
) -> Response:
    """Ollama's /api/chat; NDJSON unless `"stream": false` (then one JSON object)."""
    _enabled(services)
    return await _proxy(request, services.proxies, user, "/api/chat", body)


@router.post("/api/generate")
async def generate(
    request: Request, user: VerifiedUser, services: ServicesDep, body: dict[str, Any] = Body(...)
) -> Response:
    _enabled(services)
    return await _proxy(request, services.proxies, user, "/api/generate", body)


@router.post("/api/show")
async def show(
    request: Request, user: VerifiedUser, services: ServicesDep, body: dict[str, Any] = Body(...)
) -> Response:
    _enabled(services)
    return await _proxy(request, services.proxies, user, "/api/show", body)
