"""/api/v1/retrieval: query a collection or several, index a text or a file on request, and the
admin routes for the retrieval and embedding configuration."""

from fastapi import APIRouter

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.schemas.retrieval import (
    EmbeddingConfigForm,
    ProcessFileForm,
    ProcessResponse,
    ProcessTextForm,
    QueryCollectionsForm,
    QueryDocForm,
    QueryResult,
    RetrievalConfig,
)

router = APIRouter(prefix="/api/v1/retrieval", tags=["retrieval"])


@router.post("/query/doc")
async def query_doc(form: QueryDocForm, user: VerifiedUser, services: ServicesDep) -> QueryResult:
    return await services.rag.retrieval.query_doc(user, form)


@router.post("/query/collection")
async def query_collection(
    form: QueryCollectionsForm, user: VerifiedUser, services: ServicesDep
) -> QueryResult:
    return await services.rag.retrieval.query_collections(user, form)


@router.post("/process/text")
async def process_text(
    form: ProcessTextForm, user: VerifiedUser, services: ServicesDep
) -> ProcessResponse:
    return await services.rag.retrieval.process_text(user, form)


@router.post("/process/file")
async def process_file(
    form: ProcessFileForm, user: VerifiedUser, services: ServicesDep
) -> ProcessResponse:
    return await services.rag.retrieval.process_file(user, form)


@router.get("/config", response_model_exclude_none=True)
async def get_config(_: AdminUser, services: ServicesDep) -> RetrievalConfig:
    return services.rag.admin.config()


@router.post("/config/update", response_model_exclude_none=True)
async def update_config(
    form: RetrievalConfig, _: AdminUser, services: ServicesDep
) -> RetrievalConfig:
    return await services.rag.admin.update_config(form)


@router.get("/embedding")
async def get_embedding(_: AdminUser, services: ServicesDep) -> EmbeddingConfigForm:
    return services.rag.admin.embedding()


@router.post("/embedding/update")
async def update_embedding(
    form: EmbeddingConfigForm, _: AdminUser, services: ServicesDep
) -> EmbeddingConfigForm:
    return await services.rag.admin.update_embedding(form)
