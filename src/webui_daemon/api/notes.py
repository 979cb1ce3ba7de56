"""/api/v1/notes (Open WebUI 0.12): list, pinned, search, create, get, update, access update,
pin, delete."""

from typing import Annotated

from fastapi import APIRouter, Query

from webui_daemon.api.deps import ServicesDep, VerifiedUser
from webui_daemon.schemas.notes import (
    NoteAccessGrantsForm,
    NoteForm,
    NoteItemResponse,
    NoteListResponse,
    NoteModel,
    NoteResponse,
    NoteUpdateForm,
)

router = APIRouter(prefix="/api/v1/notes", tags=["notes"])

Page = Annotated[int | None, Query(ge=1, le=1_000_000)]
Short = Annotated[str | None, Query(max_length=20)]


@router.get("/")
@router.get("", include_in_schema=False)
async def list_notes(
    user: VerifiedUser, services: ServicesDep, page: Page = None
) -> list[NoteItemResponse]:
    return await services.notes.list_notes(user, page=page)


@router.get("/pinned")
async def pinned_notes(user: VerifiedUser, services: ServicesDep) -> list[NoteItemResponse]:
    return await services.notes.pinned(user)


@router.get("/search")
async def search_notes(
    user: VerifiedUser,
    services: ServicesDep,
    query: Annotated[str | None, Query(max_length=500)] = None,
    view_option: Short = None,
    permission: Short = None,
    order_by: Short = None,
    direction: Short = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> NoteListResponse:
    return await services.notes.search(
        user,
        query=query,
        view_option=view_option,
        permission=permission,
        order_by=order_by,
        direction=direction,
        page=page,
    )


@router.post("/create")
async def create_note(form: NoteForm, user: VerifiedUser, services: ServicesDep) -> NoteModel:
    return await services.notes.create(user, form)


@router.get("/{note_id}")
async def get_note(note_id: str, user: VerifiedUser, services: ServicesDep) -> NoteResponse:
    return await services.notes.get(user, note_id)


@router.post("/{note_id}/update")
async def update_note(
    note_id: str, form: NoteUpdateForm, user: VerifiedUser, services: ServicesDep
) -> NoteModel:
    return await services.notes.update(user, note_id, form)


@router.post("/{note_id}/access/update")
async def update_note_access(
    note_id: str, form: NoteAccessGrantsForm, user: VerifiedUser, services: ServicesDep
) -> NoteModel:
    return await services.notes.update_access(user, note_id, form)


@router.post("/{note_id}/pin")
async def pin_note(note_id: str, user: VerifiedUser, services: ServicesDep) -> NoteModel:
    return await services.notes.toggle_pin(user, note_id)


@router.delete("/{note_id}/delete")
async def delete_note(note_id: str, user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.notes.delete(user, note_id)
