"""/api/v1/chats: lists, search, create, export/import, tags and shares (the collection routes).

Routes on one chat (`/{id}...`) live in api.chat_items, included last so fixed paths such as
`/pinned` or `/all` are matched first.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from webui_daemon.api import chat_items
from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.schemas.chats import (
    ChatForm,
    ChatImportForm,
    ChatResponse,
    ChatsImportForm,
    ChatTitleIdResponse,
    TagFilterForm,
    TagModel,
)

router = APIRouter(prefix="/api/v1/chats", tags=["chats"])

# Annotated aliases (not shared Query() objects, whose alias FastAPI would reuse).
Page = Annotated[int | None, Query(ge=-(2**31), le=2**31)]
Text = Annotated[str | None, Query(max_length=1000)]


# The sidebar list is the hottest read (every client start, every refresh) and can hold
# thousands of rows: SQLite writes the title lists' JSON and it is sent as it is, with no
# model per row (bench.chats, 1,000 chats: 5.2 -> 2.6 ms). response_model keeps the docs.
Titles = list[ChatTitleIdResponse]


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


@router.get("/", response_model=Titles)
@router.get("/list", response_model=Titles)
async def list_chats(
    user: VerifiedUser,
    services: ServicesDep,
    page: Page = None,
    include_pinned: bool = False,
    include_folders: bool = False,
) -> Response:
    titles = await services.chat_lists.sidebar(
        user.id, page, include_pinned=include_pinned, include_folders=include_folders
    )
    return _json(titles)


@router.delete("/")
async def delete_all_chats(user: VerifiedUser, services: ServicesDep) -> bool:
    await chat_items.require(services, user, "chat", "delete")
    return await services.chats.delete_all(user.id)


@router.post("/new")
async def create_chat(form: ChatForm, user: VerifiedUser, services: ServicesDep) -> ChatResponse:
    return await services.chats.create(user.id, form)


@router.get("/search")
async def search_chats(
    user: VerifiedUser,
    services: ServicesDep,
    text: str = Query(max_length=1000),
    page: Page = None,
) -> list[ChatTitleIdResponse]:
    return await services.chat_lists.search(user.id, text, page)


@router.get("/pinned", response_model=Titles)
async def pinned_chats(user: VerifiedUser, services: ServicesDep) -> Response:
    return _json(await services.chat_lists.pinned(user.id))


@router.get("/archived", response_model=Titles)
async def archived_chats(
    user: VerifiedUser,
    services: ServicesDep,
    page: Page = None,
    query: Text = None,
    order_by: Text = None,
    direction: Text = None,
) -> Response:
    titles = await services.chat_lists.filtered(
        user.id, archived=True, page=page, query=query, order_by=order_by, direction=direction
    )
    return _json(titles)


NDJSON = "application/x-ndjson"


@router.get(
    "/all",
    response_model=list[ChatResponse],
    responses={200: {"content": {NDJSON: {"schema": {"type": "string"}}}}},
)
async def export_chats(request: Request, user: VerifiedUser, services: ServicesDep) -> Response:
    """Every chat of the caller, archived too: 0.12's NDJSON (one chat a line); a client
    that accepts only JSON (`Accept: application/json`, as 0.6's) gets 0.6's JSON array."""
    chats = await services.chat_lists.export(user.id)
    accept = request.headers.get("accept", "")
    if "application/json" in accept and NDJSON not in accept:
        return _json(b"[" + b",".join(c.model_dump_json().encode() for c in chats) + b"]")
    return Response("".join(c.model_dump_json() + "\n" for c in chats), media_type=NDJSON)


@router.get("/all/archived")
async def all_archived_chats(user: VerifiedUser, services: ServicesDep) -> list[ChatResponse]:
    return await services.chat_lists.archived(user.id)


@router.get("/all/tags")
async def all_tags(user: VerifiedUser, services: ServicesDep) -> list[TagModel]:
    return await services.chat_tags.all(user.id)


@router.get("/all/db")
async def all_chats_in_db(_: AdminUser, services: ServicesDep) -> list[ChatResponse]:
    return await services.chat_lists.export(None)


@router.post("/archive/all")
async def archive_all(user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.chat_lists.set_archived_all(user.id, True)


@router.post("/unarchive/all")
async def unarchive_all(user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.chat_lists.set_archived_all(user.id, False)


@router.post("/import")
async def import_chats(
    form: ChatsImportForm | list[ChatImportForm], user: VerifiedUser, services: ServicesDep
) -> list[ChatResponse]:
    """`{chats: [...]}`, or Open WebUI's export file as it is (a JSON array)."""
    items = form.chats if isinstance(form, ChatsImportForm) else form
    return await services.chats.import_chats(user.id, items)


@router.post("/tags")
async def chats_by_tag(
    form: TagFilterForm, user: VerifiedUser, services: ServicesDep
) -> list[ChatTitleIdResponse]:
    return await services.chat_tags.chats_with(user.id, form.name, form.skip or 0, form.limit or 50)


@router.get("/folder/{folder_id}")
async def chats_in_folder(
    folder_id: str, user: VerifiedUser, services: ServicesDep
) -> list[ChatResponse]:
    return await services.chat_lists.in_folder(user.id, folder_id)


@router.get("/share/{share_id}")
async def shared_chat(share_id: str, user: VerifiedUser, services: ServicesDep) -> ChatResponse:
    """A shared snapshot: anyone signed in who has the share id may read it (as Open WebUI)."""
    return await services.chat_shares.shared(share_id, user.id)


@router.get("/list/user/{user_id}", response_model=Titles)
async def chats_of_user(
    user_id: str,
    _: AdminUser,
    services: ServicesDep,
    page: Page = None,
    query: Text = None,
    order_by: Text = None,
    direction: Text = None,
) -> Response:
    titles = await services.chat_lists.filtered(
        user_id, archived=None, page=page, query=query, order_by=order_by, direction=direction
    )
    return _json(titles)


router.include_router(chat_items.router)
