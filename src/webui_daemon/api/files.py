"""/api/v1/files: upload, list (0.12's pages of `{items, total}`), search (also the caller's own
files as a bare list: /user/search), count, get, content, extracted text, processing status
(plain and SSE), cancel (webui extension), delete.

Extension: POST /api/v1/files/{id}/process/cancel stops the file's processing (status becomes
failed, error "Processing was cancelled.", no index rows left); POST /api/v1/files/process/cancel
with {"file_ids": [...]} stops many at once (a client cancelling a batch upload).
"""

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, StreamingResponse

from webui_daemon.api import text_guard
from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.api.openapi import error_answers
from webui_daemon.schemas.files import (
    CancelForm,
    CancelResponse,
    ContentForm,
    ContentResponse,
    FileListResponse,
    FileModelResponse,
    FileUploadResponse,
    MessageResponse,
    ProcessStatus,
)
from webui_daemon.services import errors

router = APIRouter(prefix="/api/v1/files", tags=["files"])


@router.post("/")
@router.post("", include_in_schema=False)
async def upload_file(
    user: VerifiedUser,
    services: ServicesDep,
    file: Annotated[UploadFile, File()],
    metadata: Annotated[str | None, Form()] = None,
    process: bool = True,
    process_in_background: bool = True,
) -> FileUploadResponse:
    meta: dict[str, Any] | None = None
    if metadata:
        try:
            parsed = json.loads(metadata)
        except ValueError:
            raise errors.WebUIError("metadata must be a JSON object") from None
        if not isinstance(parsed, dict):
            raise errors.WebUIError("metadata must be a JSON object")
        # JSON in a form field: the guard (api.text_guard) does not read multipart bodies.
        problem = text_guard.problem_in(parsed, "metadata")
        if problem:
            raise errors.WebUIError(text_guard.refusal(problem))
        meta = parsed
    return await services.rag.files.upload(
        user,
        file.file,
        filename=file.filename,
        content_type=file.content_type,
        metadata=meta,
        process=process,
        background=process_in_background,
    )


@router.get("/")
@router.get("", include_in_schema=False)
async def list_files(
    user: VerifiedUser,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    content: bool = True,
) -> FileListResponse:
    return await services.rag.files.list_files(user, page=page, content=content)


@router.get("/user/search")
async def search_user_files(
    user: VerifiedUser,
    services: ServicesDep,
    filename: Annotated[str, Query(max_length=500)] = "*",
    content: bool = False,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[FileModelResponse]:
    return await services.rag.files.user_files(
        user, filename, content=content, skip=skip, limit=limit
    )


@router.get("/count")
async def count_files(user: VerifiedUser, services: ServicesDep) -> int:
    return await services.rag.files.count(user, own=False)


@router.get("/user/count")
async def count_user_files(user: VerifiedUser, services: ServicesDep) -> int:
    return await services.rag.files.count(user, own=True)


@router.get("/search", responses=error_answers(404))  # no match: 404, as Open WebUI
async def search_files(
    user: VerifiedUser,
    services: ServicesDep,
    filename: Annotated[str, Query(min_length=1, max_length=500)],
    content: bool = True,
) -> list[FileModelResponse]:
    return await services.rag.files.search(user, filename, content=content)


@router.delete("/all")
async def delete_all_files(_: AdminUser, services: ServicesDep) -> MessageResponse:
    await services.rag.files.delete_all()
    return MessageResponse(message="All files deleted successfully")


@router.post("/process/cancel")
async def cancel_many(
    form: CancelForm, user: VerifiedUser, services: ServicesDep
) -> CancelResponse:
    return await services.rag.files.cancel(user, form.file_ids)


@router.get("/{file_id}")
async def get_file(file_id: str, user: VerifiedUser, services: ServicesDep) -> FileModelResponse:
    return await services.rag.files.get(user, file_id)


@router.get("/{file_id}/process/status", response_model=None)
async def process_status(
    file_id: str, user: VerifiedUser, services: ServicesDep, stream: bool = False
) -> ProcessStatus | StreamingResponse:
    current = await services.rag.files.status(user, file_id)  # 404 before any stream starts
    if not stream:
        return current

    async def events() -> AsyncIterator[str]:
        async for event in services.rag.files.status_events(user, file_id):
            yield f"data: {json.dumps(event)}\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


@router.post("/{file_id}/process/cancel")
async def cancel_processing(
    file_id: str, user: VerifiedUser, services: ServicesDep
) -> CancelResponse:
    await services.rag.files.status(user, file_id)  # 404 for a file the caller cannot see
    return await services.rag.files.cancel(user, [file_id])


@router.get("/{file_id}/content")
async def file_content(
    file_id: str, user: VerifiedUser, services: ServicesDep, attachment: bool = False
) -> FileResponse:
    path, filename, content_type = await services.rag.files.raw(user, file_id)
    return FileResponse(
        path,
        media_type=content_type or None,
        filename=filename,
        content_disposition_type="attachment" if attachment else "inline",
    )


@router.get("/{file_id}/data/content")
async def data_content(file_id: str, user: VerifiedUser, services: ServicesDep) -> ContentResponse:
    return ContentResponse(content=await services.rag.files.data_content(user, file_id))


@router.post("/{file_id}/data/content/update")
async def update_data_content(
    file_id: str, form: ContentForm, user: VerifiedUser, services: ServicesDep
) -> ContentResponse:
    return ContentResponse(
        content=await services.rag.files.update_content(user, file_id, form.content)
    )


@router.delete("/{file_id}")
async def delete_file(file_id: str, user: VerifiedUser, services: ServicesDep) -> MessageResponse:
    await services.rag.files.delete(user, file_id)
    return MessageResponse(message="File deleted successfully")
