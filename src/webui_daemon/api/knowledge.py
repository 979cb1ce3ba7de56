"""/api/v1/knowledge: create, list, search, get (with files), update, access update, delete,
add / update / remove files, batch add, reset."""

from typing import Annotated

from fastapi import APIRouter, Query

from webui_daemon.api.deps import ServicesDep, VerifiedUser
from webui_daemon.schemas.knowledge import (
    KnowledgeAccessGrantsForm,
    KnowledgeFileIdForm,
    KnowledgeFileListResponse,
    KnowledgeFilesResponse,
    KnowledgeForm,
    KnowledgeListResponse,
    KnowledgeResponse,
    KnowledgeUpdateForm,
)

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])

Page = Annotated[int | None, Query(ge=1, le=1_000_000)]


@router.get("/")
@router.get("", include_in_schema=False)
async def list_knowledge(
    user: VerifiedUser, services: ServicesDep, page: Page = None
) -> KnowledgeListResponse:
    return await services.rag.knowledge.list_bases(user, page=page, query=None, view_option=None)


@router.get("/search")
async def search_knowledge(
    user: VerifiedUser,
    services: ServicesDep,
    query: Annotated[str | None, Query(max_length=500)] = None,
    view_option: Annotated[str | None, Query(max_length=20)] = None,
    page: Page = None,
) -> KnowledgeListResponse:
    return await services.rag.knowledge.list_bases(
        user, page=page, query=query, view_option=view_option
    )


@router.get("/list")
async def list_writable(user: VerifiedUser, services: ServicesDep) -> list[KnowledgeResponse]:
    return await services.rag.knowledge.writable(user)


@router.post("/create")
async def create_knowledge(
    form: KnowledgeForm, user: VerifiedUser, services: ServicesDep
) -> KnowledgeFilesResponse:
    return await services.rag.knowledge.create(user, form)


@router.get("/{knowledge_id}")
async def get_knowledge(
    knowledge_id: str, user: VerifiedUser, services: ServicesDep
) -> KnowledgeFilesResponse:
    return await services.rag.knowledge.get(user, knowledge_id)


@router.get("/{knowledge_id}/files")
async def knowledge_files(
    knowledge_id: str,
    user: VerifiedUser,
    services: ServicesDep,
    page: Page = None,
    query: Annotated[str | None, Query(max_length=500)] = None,
) -> KnowledgeFileListResponse:
    return await services.rag.knowledge.files(user, knowledge_id, page=page, query=query)


@router.post("/{knowledge_id}/update")
async def update_knowledge(
    knowledge_id: str, form: KnowledgeUpdateForm, user: VerifiedUser, services: ServicesDep
) -> KnowledgeFilesResponse:
    return await services.rag.knowledge.update(user, knowledge_id, form)


@router.post("/{knowledge_id}/access/update")
async def update_knowledge_access(
    knowledge_id: str, form: KnowledgeAccessGrantsForm, user: VerifiedUser, services: ServicesDep
) -> KnowledgeFilesResponse:
    """Replace the grants (owner, writer or admin; 0.12)."""
    return await services.rag.knowledge.update_access(user, knowledge_id, form.access_grants)


@router.post("/{knowledge_id}/file/add")
async def add_file(
    knowledge_id: str, form: KnowledgeFileIdForm, user: VerifiedUser, services: ServicesDep
) -> KnowledgeFilesResponse:
    return await services.rag.knowledge.add_file(user, knowledge_id, form.file_id)


@router.post("/{knowledge_id}/file/update")
async def update_file(
    knowledge_id: str, form: KnowledgeFileIdForm, user: VerifiedUser, services: ServicesDep
) -> KnowledgeFilesResponse:
    return await services.rag.knowledge.update_file(user, knowledge_id, form.file_id)


@router.post("/{knowledge_id}/file/remove")
async def remove_file(
    knowledge_id: str,
    form: KnowledgeFileIdForm,
    user: VerifiedUser,
    services: ServicesDep,
    delete_file: bool = True,
) -> KnowledgeFilesResponse:
    return await services.rag.knowledge.remove_file(
        user, knowledge_id, form.file_id, delete_file=delete_file
    )


@router.post("/{knowledge_id}/files/batch/add")
async def batch_add(
    knowledge_id: str,
    forms: list[KnowledgeFileIdForm],
    user: VerifiedUser,
    services: ServicesDep,
) -> KnowledgeFilesResponse:
    return await services.rag.knowledge.batch_add(user, knowledge_id, [f.file_id for f in forms])


@router.post("/{knowledge_id}/reset")
async def reset_knowledge(
    knowledge_id: str, user: VerifiedUser, services: ServicesDep
) -> KnowledgeResponse:
    return await services.rag.knowledge.reset(user, knowledge_id)


@router.delete("/{knowledge_id}/delete")
async def delete_knowledge(knowledge_id: str, user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.rag.knowledge.delete(user, knowledge_id)
