"""/api/v1/folders: a user's chat folders."""

from fastapi import APIRouter

from webui_daemon.api.chat_items import require
from webui_daemon.api.deps import ServicesDep, VerifiedUser
from webui_daemon.schemas.folders import (
    FolderForm,
    FolderIsExpandedForm,
    FolderListItem,
    FolderModel,
    FolderParentIdForm,
    FolderResponse,
    FolderUpdateForm,
)

router = APIRouter(prefix="/api/v1/folders", tags=["folders"])


@router.get("/")
async def list_folders(user: VerifiedUser, services: ServicesDep) -> list[FolderListItem]:
    return await services.folders.list(user.id)


@router.post("/")
async def create_folder(form: FolderForm, user: VerifiedUser, services: ServicesDep) -> FolderModel:
    return await services.folders.create(user.id, form)


@router.get("/{folder_id}")
async def get_folder(folder_id: str, user: VerifiedUser, services: ServicesDep) -> FolderResponse:
    return await services.folders.get(user.id, folder_id)


@router.post("/{folder_id}/update")
async def update_folder(
    folder_id: str, form: FolderUpdateForm, user: VerifiedUser, services: ServicesDep
) -> FolderModel:
    return await services.folders.update(user.id, folder_id, form)


@router.post("/{folder_id}/update/parent")
async def move_folder(
    folder_id: str, form: FolderParentIdForm, user: VerifiedUser, services: ServicesDep
) -> FolderModel:
    return await services.folders.move(user.id, folder_id, form.parent_id)


@router.post("/{folder_id}/update/expanded")
async def expand_folder(
    folder_id: str, form: FolderIsExpandedForm, user: VerifiedUser, services: ServicesDep
) -> FolderModel:
    return await services.folders.set_expanded(user.id, folder_id, form.is_expanded)


@router.delete("/{folder_id}")
async def delete_folder(
    folder_id: str, user: VerifiedUser, services: ServicesDep, delete_contents: bool = True
) -> bool:
    """Open WebUI deletes the folder's chats too unless `delete_contents=false`."""
    if delete_contents:
        await require(services, user, "chat", "delete")
    return await services.folders.delete(user.id, folder_id, delete_contents)
