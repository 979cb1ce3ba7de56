"""/api/v1/chats/{id}...: one chat — read, update, delete, pin, archive, clone, share, tags,
message events."""

from typing import Annotated

from fastapi import APIRouter, Body

from webui_daemon.api.deps import ServicesDep, VerifiedUser
from webui_daemon.schemas.chats import (
    ChatFolderIdForm,
    ChatForm,
    ChatResponse,
    CloneForm,
    EventForm,
    MessageForm,
    ShareForm,
    TagForm,
    TagModel,
)
from webui_daemon.services import errors
from webui_daemon.storage.rows import UserRow

router = APIRouter()


async def require(services: ServicesDep, user: UserRow, section: str, key: str) -> None:
    """Open WebUI's permission gate (admins pass; others need the flag), answered with 401."""
    if user.role == "admin":
        return
    permissions = await services.auth.permissions(user)
    if not permissions.get(section, {}).get(key, False):
        raise errors.AccessProhibited(errors.ACCESS_PROHIBITED)


@router.get("/{chat_id}")
async def get_chat(chat_id: str, user: VerifiedUser, services: ServicesDep) -> ChatResponse:
    return await services.chats.read(user.id, chat_id)


@router.post("/{chat_id}")
async def update_chat(
    chat_id: str, form: ChatForm, user: VerifiedUser, services: ServicesDep
) -> ChatResponse:
    return await services.chats.update(user.id, chat_id, form)


@router.delete("/{chat_id}")
async def delete_chat(chat_id: str, user: VerifiedUser, services: ServicesDep) -> bool:
    await require(services, user, "chat", "delete")
    return await services.chats.delete(user.id, chat_id)


@router.get("/{chat_id}/pinned")
async def is_pinned(chat_id: str, user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.chats.is_pinned(user.id, chat_id)


@router.post("/{chat_id}/pin")
async def toggle_pin(chat_id: str, user: VerifiedUser, services: ServicesDep) -> ChatResponse:
    return await services.chats.toggle_pinned(user.id, chat_id)


@router.post("/{chat_id}/archive")
async def toggle_archive(chat_id: str, user: VerifiedUser, services: ServicesDep) -> ChatResponse:
    return await services.chats.toggle_archived(user.id, chat_id)


@router.post("/{chat_id}/clone")
async def clone_chat(
    chat_id: str,
    user: VerifiedUser,
    services: ServicesDep,
    form: Annotated[CloneForm | None, Body()] = None,
) -> ChatResponse:
    return await services.chats.clone(user.id, chat_id, form.title if form else None)


@router.post("/{chat_id}/share")
async def share_chat(
    chat_id: str,
    user: VerifiedUser,
    services: ServicesDep,
    form: Annotated[ShareForm | None, Body()] = None,
) -> ChatResponse:
    await require(services, user, "chat", "share")
    return await services.chat_shares.share(user.id, chat_id)


@router.delete("/{chat_id}/share")
async def unshare_chat(chat_id: str, user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.chat_shares.unshare(user.id, chat_id)


@router.post("/{chat_id}/folder")
async def move_chat(
    chat_id: str, form: ChatFolderIdForm, user: VerifiedUser, services: ServicesDep
) -> ChatResponse:
    return await services.chats.move_to_folder(user.id, chat_id, form.folder_id)


@router.get("/{chat_id}/tags")
async def chat_tags(chat_id: str, user: VerifiedUser, services: ServicesDep) -> list[TagModel]:
    return await services.chat_tags.of_chat(user.id, chat_id)


@router.post("/{chat_id}/tags")
async def add_tag(
    chat_id: str, form: TagForm, user: VerifiedUser, services: ServicesDep
) -> list[TagModel]:
    return await services.chat_tags.add(user.id, chat_id, form.name)


@router.delete("/{chat_id}/tags")
async def remove_tag(
    chat_id: str, form: TagForm, user: VerifiedUser, services: ServicesDep
) -> list[TagModel]:
    return await services.chat_tags.remove(user.id, chat_id, form.name)


@router.delete("/{chat_id}/tags/all")
async def remove_all_tags(chat_id: str, user: VerifiedUser, services: ServicesDep) -> bool:
    await services.chat_tags.remove(user.id, chat_id, None)
    return True


@router.post("/{chat_id}/messages/{message_id}/event")
async def message_event(
    chat_id: str, message_id: str, form: EventForm, user: VerifiedUser, services: ServicesDep
) -> bool:
    return await services.message_events.apply(user.id, chat_id, message_id, form.type, form.data)


@router.post("/{chat_id}/messages/{message_id}")
async def update_message(
    chat_id: str, message_id: str, form: MessageForm, user: VerifiedUser, services: ServicesDep
) -> ChatResponse:
    return await services.chats.update_message_content(user.id, chat_id, message_id, form.content)
