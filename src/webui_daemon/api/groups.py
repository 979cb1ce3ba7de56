"""/api/v1/groups: create, list, get, update, delete, add and remove members."""

from fastapi import APIRouter

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.schemas.groups import GroupForm, GroupResponse, GroupUpdateForm, UserIdsForm

router = APIRouter(prefix="/api/v1/groups", tags=["groups"])


@router.get("/")
async def list_groups(user: VerifiedUser, services: ServicesDep) -> list[GroupResponse]:
    # Admins see every group; others see the groups they belong to (as Open WebUI does).
    if user.role == "admin":
        return await services.groups.all()
    return await services.groups.for_user(user.id)


@router.post("/create")
async def create_group(form: GroupForm, actor: AdminUser, services: ServicesDep) -> GroupResponse:
    return await services.groups.create(actor, form)


@router.get("/id/{group_id}")
async def get_group(group_id: str, _: AdminUser, services: ServicesDep) -> GroupResponse:
    return await services.groups.get(group_id)


@router.post("/id/{group_id}/update")
async def update_group(
    group_id: str, form: GroupUpdateForm, _: AdminUser, services: ServicesDep
) -> GroupResponse:
    return await services.groups.update(group_id, form)


@router.post("/id/{group_id}/users/add")
async def add_members(
    group_id: str, form: UserIdsForm, _: AdminUser, services: ServicesDep
) -> GroupResponse:
    return await services.groups.add_members(group_id, form.user_ids)


@router.post("/id/{group_id}/users/remove")
async def remove_members(
    group_id: str, form: UserIdsForm, _: AdminUser, services: ServicesDep
) -> GroupResponse:
    return await services.groups.remove_members(group_id, form.user_ids)


@router.delete("/id/{group_id}/delete")
async def delete_group(group_id: str, _: AdminUser, services: ServicesDep) -> bool:
    return await services.groups.delete(group_id)
