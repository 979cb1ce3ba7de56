"""Public system routes (health, version, config) and webui's own daemon info route."""

import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from webui_daemon import OPEN_WEBUI_COMPAT_VERSION, __version__
from webui_daemon.api.deps import ServicesDep, VerifiedUser, peer_uid, request_token
from webui_daemon.api.openapi import error_answers
from webui_daemon.schemas.system import ConfigResponse, DaemonInfo, StatusResponse, VersionResponse
from webui_daemon.services.errors import WebUIError

router = APIRouter(tags=["system"])


@router.get("/health")
async def health() -> StatusResponse:
    return StatusResponse(status=True)


@router.get("/health/db", responses=error_answers(503))
async def health_db(services: ServicesDep) -> JSONResponse:
    ok = await services.db.ping()
    return JSONResponse({"status": ok}, status_code=200 if ok else 503)


@router.get("/ready")
async def ready() -> StatusResponse:
    # The socket only accepts connections once the lifespan has finished starting.
    return StatusResponse(status=True)


@router.get("/api/version")
async def version() -> VersionResponse:
    return VersionResponse(version=OPEN_WEBUI_COMPAT_VERSION, webui_version=__version__)


@router.get("/api/config", response_model_exclude_none=True)
async def config(request: Request, services: ServicesDep) -> ConfigResponse:
    settings = services.settings
    current = services.auth.config.current
    onboarding = await services.users_repo.count() == 0
    features: dict[str, Any] = {
        "auth": settings.webui_auth,
        "auth_trusted_header": False,
        "enable_ldap": False,
        "enable_api_key": current.enable_api_keys,
        "enable_signup": current.enable_signup or onboarding,
        "enable_login_form": True,
        "enable_websocket": False,
        "enable_version_update_check": False,
    }
    extra: dict[str, Any] = {}
    user = None
    if request_token(request) or peer_uid(request) is not None:
        try:
            user = await services.auth.authenticate(request_token(request), peer_uid(request))
        except WebUIError:
            user = None
    if user is not None:
        features |= {
            "enable_api_keys": current.enable_api_keys,
            "enable_web_search": False,
            "enable_image_generation": False,
            "enable_code_interpreter": False,
            "enable_folders": True,
            "enable_memories": False,
            "enable_title_generation": True,
            "enable_community_sharing": False,
            "enable_message_rating": True,
        }
        extra = {
            "default_models": "",
            "default_prompt_suggestions": [],
            "code": {"engine": ""},
            "audio": {"tts": {}, "stt": {}},
            "file": {"max_size": None, "max_count": None},
            "permissions": await services.auth.permissions(user),
            "ui": {},
        }
    return ConfigResponse(
        name=settings.webui_name,
        version=OPEN_WEBUI_COMPAT_VERSION,
        features=features,
        onboarding=True if onboarding else None,
        **extra,
    )


@router.get("/api/webui/info")
async def daemon_info(request: Request, _: VerifiedUser, services: ServicesDep) -> DaemonInfo:
    """webui extension: where this daemon listens and keeps its data (for `webui status`)."""
    listen = services.listen
    return DaemonInfo(
        version=__version__,
        data_dir=str(services.settings.data_dir),
        socket=listen.socket,
        tcp=listen.tcp,
        shared=services.settings.shared,
        local_users=services.settings.local_users,
        pid=os.getpid(),
        transport="unix" if peer_uid(request) is not None else "tcp",
        peer_uid=peer_uid(request),
    )
