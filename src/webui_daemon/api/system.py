"""Public system routes (health, version, config) and webui's own daemon routes: info and
shutdown.

The server (server.py) leaves two things on `app.state` for these: `started` (its
`time.monotonic()` when it began serving) and `request_shutdown` (a callable that stops it as
SIGTERM does). An app built without that server (in-process) has neither: no uptime, and a
shutdown request is answered 503.
"""

import os
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from webui_daemon import OPEN_WEBUI_COMPAT_VERSION, __version__
from webui_daemon.api.deps import (
    AdminUser,
    AnyUser,
    ServicesDep,
    VerifiedUser,
    peer_uid,
    request_token,
)
from webui_daemon.api.openapi import error_answers
from webui_daemon.schemas.connections import ConnectionsState
from webui_daemon.schemas.system import ConfigResponse, DaemonInfo, StatusResponse, VersionResponse
from webui_daemon.services import errors
from webui_daemon.services.config import public_config
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


@router.get("/api/config")
async def config(request: Request, services: ServicesDep) -> ConfigResponse:
    settings = services.settings
    current = services.auth.config.current
    onboarding = await services.users_repo.count() == 0
    features: dict[str, Any] = {
        "slim": False,
        "auth": settings.webui_auth,
        "auth_trusted_header": False,
        "enable_signup_password_confirmation": False,
        "enable_ldap": False,
        "enable_api_key": current.enable_api_keys,  # 0.6's name
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
        tasks = await services.task_generation.settings()
        switches = public_config.Switches(
            enable_api_keys=current.enable_api_keys,
            enable_notes=settings.enable_notes,
            enable_memories=settings.enable_memories,
            enable_title_generation=bool(tasks["ENABLE_TITLE_GENERATION"]),
            enable_follow_up_generation=bool(tasks["ENABLE_FOLLOW_UP_GENERATION"]),
            enable_tags_generation=bool(tasks["ENABLE_TAGS_GENERATION"]),
        )
        features |= public_config.signed_in_features(switches)
        extra = public_config.signed_in_settings(
            await services.admin_config.export(), await services.auth.permissions(user)
        )
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
    started: float | None = getattr(request.app.state, "started", None)
    uptime = None if started is None else time.monotonic() - started
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
        started_at=None if uptime is None else int(time.time() - uptime),
        uptime_s=None if uptime is None else round(uptime, 3),
        rss_bytes=_rss_bytes(),
    )


@router.get("/api/webui/connections", responses=error_answers(401))
async def connections_state(_: AdminUser, services: ServicesDep) -> ConnectionsState:
    """webui extension: every provider URL with its origin (env, default, stored), health
    and model count (`webui status`, `webui connections list`)."""
    return await services.connections.states()


def _rss_bytes() -> int | None:
    """This process's resident memory (Linux: /proc/self/statm, a few microseconds to read)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None  # not Linux
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


@router.post("/api/webui/shutdown", responses=error_answers(503))
async def shutdown(request: Request, user: AnyUser, background: BackgroundTasks) -> StatusResponse:
    """webui extension: stop the daemon as SIGTERM does (live answers are saved, marked
    interrupted). For admins, and on the socket for the OS account the daemon runs as
    (`webui daemon stop`)."""
    if user.role != "admin" and peer_uid(request) != os.getuid():
        raise errors.AccessProhibited(errors.ACCESS_PROHIBITED)
    stop: Callable[[], None] | None = getattr(request.app.state, "request_shutdown", None)
    if stop is None:
        raise errors.Unavailable("this daemon cannot be stopped over its API")
    background.add_task(stop)  # after the answer is sent: the caller learns it was accepted
    return StatusResponse(status=True)
