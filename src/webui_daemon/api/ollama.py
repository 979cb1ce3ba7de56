"""/ollama/...: Open WebUI's Ollama proxy (spec 4.3, 5.6) and its connection settings."""

import json
import time
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser, interactive
from webui_daemon.api.streaming import raw_response
from webui_daemon.schemas.connections import ConnectionVerifyForm, OllamaConfigForm
from webui_daemon.schemas.system import StatusResponse
from webui_daemon.services import errors

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


async def _body(request: Request) -> dict[str, Any]:
    """A JSON object body; none (or empty) reads as {} so that the route says what is missing."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise errors.WebUIError("The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise errors.WebUIError("The body must be a JSON object.")
    return body


@router.get("/api/tags")
async def tags(user: VerifiedUser, services: ServicesDep, refresh: bool = False) -> dict[str, Any]:
    _enabled(services)
    return {"models": await services.models.provider_list(user, "ollama", refresh=refresh)}


@router.get("/api/tags/{url_idx}")
async def tags_of(url_idx: int, _: AdminUser, services: ServicesDep) -> dict[str, Any]:
    _enabled(services)
    return {"models": await services.connections.models_of("ollama", url_idx)}


@router.get("/api/version")
@router.get("/api/version/{url_idx}")
async def version(
    _: VerifiedUser, services: ServicesDep, url_idx: int | None = None
) -> dict[str, Any]:
    """The lowest version across the nodes, or node `url_idx`'s."""
    return {"version": await services.connections.ollama_version(url_idx)}


def _upstream_path(request: Request, url_idx: int | None = None) -> str:
    """The Ollama path a relay route stands for (its own path without /ollama, and without
    the node index at its end)."""
    path = request.url.path.removeprefix(router.prefix)
    return path.rsplit("/", 1)[0] if url_idx is not None else path


@router.post("/api/chat")
@router.post("/api/chat/{url_idx}")
@router.post("/api/generate")
@router.post("/api/generate/{url_idx}")
@router.post("/api/show")
@router.post("/api/embed")
@router.post("/api/embed/{url_idx}")
@router.post("/api/embeddings")
@router.post("/api/embeddings/{url_idx}")
async def relay(
    request: Request,
    user: VerifiedUser,
    services: ServicesDep,
    body: dict[str, Any] = Body(...),
    url_idx: int | None = None,
) -> Response:
    """Ollama's own route, relayed to a node serving the body's model (or to node `url_idx`):
    /api/chat (presets applied; NDJSON unless `"stream": false`), /api/generate, /api/show,
    /api/embed, and the older one-prompt /api/embeddings."""
    _enabled(services)
    path = _upstream_path(request, url_idx)
    return await raw_response(
        request,
        services.proxies.ollama(user, path, body, url_idx, interactive=interactive(request)),
    )


# ---- Ollama's OpenAI-compatible API --------------------------------------------------------


@router.get("/v1/models")
async def openai_models(user: VerifiedUser, services: ServicesDep) -> dict[str, Any]:
    """The caller's Ollama models in OpenAI's list form."""
    _enabled(services)
    listed = await services.models.provider_list(user, "ollama")
    created = int(time.time())
    data = [
        {"id": m.get("model"), "object": "model", "created": created, "owned_by": "openai"}
        for m in listed
    ]
    return {"object": "list", "data": data}


@router.post("/v1/chat/completions")
@router.post("/v1/completions")
@router.post("/v1/embeddings")
async def openai_relay(request: Request, user: VerifiedUser, services: ServicesDep) -> Response:
    """Ollama's OpenAI-compatible routes, relayed as /api/... are (chats get presets)."""
    _enabled(services)
    body = await _body(request)
    path = _upstream_path(request)
    return await raw_response(
        request, services.proxies.ollama_openai(user, path, body, interactive=interactive(request))
    )


# ---- model administration (admin) ----------------------------------------------------------


@router.get("/api/ps")
async def loaded(_: AdminUser, services: ServicesDep) -> dict[str, Any]:
    """The models each node holds in memory now, merged (`urls`: the nodes)."""
    _enabled(services)
    return await services.ollama_admin.loaded()


@router.post("/api/pull")
@router.post("/api/pull/{url_idx}")
async def pull(request: Request, _: AdminUser, services: ServicesDep, url_idx: int = 0) -> Response:
    """Ollama's progress lines as they come (node `url_idx`, 0 unless given)."""
    _enabled(services)
    return await raw_response(request, services.ollama_admin.pull(await _body(request), url_idx))


@router.post("/api/create")
@router.post("/api/create/{url_idx}")
async def create(
    request: Request, _: AdminUser, services: ServicesDep, url_idx: int = 0
) -> Response:
    _enabled(services)
    return await raw_response(request, services.ollama_admin.create(await _body(request), url_idx))


@router.post("/api/copy")
@router.post("/api/copy/{url_idx}")
async def copy(
    request: Request, _: AdminUser, services: ServicesDep, url_idx: int | None = None
) -> bool:
    _enabled(services)
    return await services.ollama_admin.copy(await _body(request), url_idx)


@router.delete("/api/delete")
@router.delete("/api/delete/{url_idx}")
async def delete(
    request: Request, _: AdminUser, services: ServicesDep, url_idx: int | None = None
) -> bool:
    _enabled(services)
    return await services.ollama_admin.delete(await _body(request), url_idx)


@router.post("/api/unload")
async def unload(request: Request, _: AdminUser, services: ServicesDep) -> dict[str, Any]:
    _enabled(services)
    return await services.ollama_admin.unload(await _body(request))
