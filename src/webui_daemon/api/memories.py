"""/api/v1/memories (Open WebUI 0.12.4): list, add, query, reset, update, delete one, delete all."""

from fastapi import APIRouter

from webui_daemon.api.deps import ServicesDep, VerifiedUser
from webui_daemon.api.openapi import error_answers
from webui_daemon.schemas.memories import (
    AddMemoryForm,
    MemoryModel,
    MemorySearchResult,
    MemoryUpdateModel,
    QueryMemoryForm,
)
from webui_daemon.storage.memories import MemoryRow

# 404 everywhere: memories switched off (ENABLE_MEMORIES=false), as 0.12; a query with no
# memories too. 503: the embedder failed (nothing stored).
router = APIRouter(prefix="/api/v1/memories", tags=["memories"], responses=error_answers(404, 503))


def memory_model(row: MemoryRow) -> MemoryModel:
    return MemoryModel(
        id=row.id,
        user_id=row.user_id,
        type="user" if row.type == "user" else "context",
        path=row.path,
        content=row.content,
        meta=row.meta,
        updated_at=row.updated_at,
        created_at=row.created_at,
    )


@router.get("/")
async def list_memories(user: VerifiedUser, services: ServicesDep) -> list[MemoryModel]:
    return [memory_model(row) for row in await services.memories.for_user(user)]


@router.post("/add")
async def add_memory(form: AddMemoryForm, user: VerifiedUser, services: ServicesDep) -> MemoryModel:
    row = await services.memories.add(user, form.content, form.type, form.path)
    return memory_model(row)


@router.post("/query")
async def query_memory(
    form: QueryMemoryForm, user: VerifiedUser, services: ServicesDep
) -> MemorySearchResult:
    result = await services.memories.query(user, form.content, form.k)
    return MemorySearchResult.model_validate(result)


@router.post("/reset")
async def reset_memories(user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.memories.reset(user)


@router.delete("/delete/user")
async def delete_my_memories(user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.memories.delete_all(user)


@router.post("/{memory_id}/update")
async def update_memory(
    memory_id: str, form: MemoryUpdateModel, user: VerifiedUser, services: ServicesDep
) -> MemoryModel:
    row = await services.memories.update(user, memory_id, form.content, form.type, form.path)
    return memory_model(row)


@router.delete("/{memory_id}")
async def delete_memory(memory_id: str, user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.memories.delete(user, memory_id)
