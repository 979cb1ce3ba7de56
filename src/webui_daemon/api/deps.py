"""Request dependencies: the services container and who is calling (any / verified / admin)."""

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from webui_daemon.services import errors
from webui_daemon.storage.rows import UserRow

if TYPE_CHECKING:
    from webui_daemon.container import Services

PEER_KEY = "webui.peer"


def get_services(request: Request) -> "Services":
    services: Services = request.app.state.services
    return services


async def services_dependency(request: Request) -> "Services":
    # async on purpose: FastAPI runs a plain `def` dependency in its thread pool, a thread
    # hand-off (and a wake-up of a sleeping worker) on every request.
    return get_services(request)


def request_token(request: Request) -> str | None:
    """Where Open WebUI looks, in its order: Bearer header, `token` cookie, the API-key header."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    cookie = request.cookies.get("token")
    if cookie:
        return cookie
    services = get_services(request)
    key = request.headers.get(services.settings.custom_api_key_header)
    return key.strip() if key else None


def interactive(request: Request) -> bool:
    """A person's request, not API-key (batch) traffic: the scheduler serves it first."""
    token = request_token(request)
    return not (token is not None and token.startswith("sk-"))


def peer_uid(request: Request) -> int | None:
    """The OS uid of a Unix-socket caller (set by our uvicorn protocol); None over TCP."""
    peer = request.scope.get("extensions", {}).get(PEER_KEY)
    return None if peer is None else int(peer.uid)


async def get_current_user(request: Request) -> UserRow:
    services = get_services(request)
    user = await services.auth.authenticate(request_token(request), peer_uid(request))
    await services.auth.touch(user)
    return user


async def get_verified_user(user: Annotated[UserRow, Depends(get_current_user)]) -> UserRow:
    if user.role not in ("user", "admin"):
        raise errors.AccessProhibited(errors.ACCESS_PROHIBITED)
    return user


async def get_admin_user(user: Annotated[UserRow, Depends(get_current_user)]) -> UserRow:
    if user.role != "admin":
        raise errors.AccessProhibited(errors.ACCESS_PROHIBITED)
    return user


AnyUser = Annotated[UserRow, Depends(get_current_user)]
VerifiedUser = Annotated[UserRow, Depends(get_verified_user)]
AdminUser = Annotated[UserRow, Depends(get_admin_user)]
ServicesDep = Annotated["Services", Depends(services_dependency)]
