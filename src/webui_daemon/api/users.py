"""/api/v1/users: admin listing and updates, permissions, settings, profile images."""

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.schemas.groups import GroupResponse
from webui_daemon.schemas.users import (
    UserDetail,
    UserListResponse,
    UserModel,
    UserSettings,
    UserStatusForm,
    UserUpdateForm,
)
from webui_daemon.services.accounts.mapping import user_model

router = APIRouter(prefix="/api/v1/users", tags=["users"])

# Pages past the end are simply empty; the bound keeps the row offset inside SQLite's 64-bit
# integers (a larger page number used to overflow there and answer 500).
MAX_PAGE = 1_000_000_000


@router.get("/")
async def list_users(
    _: AdminUser,
    services: ServicesDep,
    query: str | None = Query(default=None, max_length=200),
    order_by: str | None = None,
    direction: str | None = None,
    page: int | None = Query(default=1, ge=1, le=MAX_PAGE),
) -> UserListResponse:
    return await services.users.page(query, order_by, direction, page)


@router.get("/all")
async def all_users(_: AdminUser, services: ServicesDep) -> UserListResponse:
    return await services.users.page(None, None, None, None)


@router.get("/search")
async def search_users(
    _: VerifiedUser,
    services: ServicesDep,
    query: str | None = Query(default=None, max_length=200),
    page: int | None = Query(default=1, ge=1, le=MAX_PAGE),
) -> UserListResponse:
    return await services.users.page(query, "name", "asc", page)


@router.get("/permissions")
async def my_permissions(user: VerifiedUser, services: ServicesDep) -> dict[str, dict[str, bool]]:
    return await services.auth.permissions(user)


@router.get("/default/permissions")
async def default_permissions(_: AdminUser, services: ServicesDep) -> dict[str, dict[str, bool]]:
    return services.auth.config.current.default_permissions


@router.post("/default/permissions")
async def set_default_permissions(
    tree: dict[str, dict[str, bool]], _: AdminUser, services: ServicesDep
) -> dict[str, dict[str, bool]]:
    return await services.auth.set_default_permissions(tree)


@router.get("/user/settings")
async def user_settings(user: VerifiedUser, services: ServicesDep) -> dict[str, Any]:
    return await services.users.settings(user)


@router.post("/user/settings/update")
async def update_user_settings(
    form: UserSettings, user: VerifiedUser, services: ServicesDep
) -> dict[str, Any]:
    return await services.users.update_settings(user, form.model_dump())


@router.get("/user/status")
async def my_status(user: VerifiedUser) -> UserModel:
    """Open WebUI 0.12: the caller's own record (what API-key scripts read to learn who they
    are, since 0.12 refuses keys on `GET /api/v1/auths/`)."""
    return user_model(user)


@router.post("/user/status/update")
async def update_my_status(
    form: UserStatusForm, user: VerifiedUser, services: ServicesDep
) -> UserModel:
    """Open WebUI 0.12: set the caller's status emoji, message and expiry (the keys sent with
    a value; the others stay)."""
    return await services.users.update_status(user, form)


@router.get("/groups")
async def my_groups(user: VerifiedUser, services: ServicesDep) -> list[GroupResponse]:
    return await services.groups.for_user(user.id)


@router.get("/{user_id}")
async def get_user(user_id: str, _: AdminUser, services: ServicesDep) -> UserDetail:
    return await services.users.get(user_id)


@router.get("/{user_id}/groups")
async def user_groups(user_id: str, _: AdminUser, services: ServicesDep) -> list[GroupResponse]:
    await services.users.get(user_id)
    return await services.groups.for_user(user_id)


@router.post("/{user_id}/update")
async def update_user(
    user_id: str, form: UserUpdateForm, actor: AdminUser, services: ServicesDep
) -> UserModel:
    return await services.users.update(actor, user_id, form)


@router.delete("/{user_id}")
async def delete_user(user_id: str, actor: AdminUser, services: ServicesDep) -> bool:
    return await services.users.delete(actor, user_id)


@router.get("/{user_id}/profile/image")
async def profile_image(user_id: str, _: VerifiedUser, services: ServicesDep) -> Response:
    user = await services.users.get(user_id)
    initial = (user.name[:1] or "?").upper()
    # A plain generated avatar: terminals rarely show it, but web clients expect an image.
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
        '<rect width="64" height="64" fill="#4b5563"/>'
        '<text x="32" y="42" font-size="30" text-anchor="middle" fill="#fff" '
        f'font-family="sans-serif">{_escape(initial)}</text></svg>'
    )
    return Response(svg, media_type="image/svg+xml")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
