"""Models: the aggregated list (/api/models, /api/v1/models) and workspace records (spec 4)."""

from fastapi import APIRouter, Query

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.schemas.models import (
    ModelAccessGrantsForm,
    ModelAccessResponse,
    ModelExport,
    ModelForm,
    ModelIdForm,
    ModelListResponse,
    ModelModel,
    ModelsImportForm,
    ModelsResponse,
)

router = APIRouter(tags=["models"])
MAX_PAGE = 1_000_000_000


@router.get("/api/models")
@router.get("/api/v1/models")
async def models(
    user: VerifiedUser, services: ServicesDep, refresh: bool = False
) -> ModelsResponse:
    return ModelsResponse(data=await services.models.available(user, refresh=refresh))


@router.get("/api/models/base")
async def base_models(_: AdminUser, services: ServicesDep, refresh: bool = False) -> ModelsResponse:
    return ModelsResponse(data=await services.models.base_models(refresh=refresh))


@router.get("/api/v1/models/list")
async def list_records(
    user: VerifiedUser,
    services: ServicesDep,
    query: str | None = Query(default=None, max_length=200),
    view_option: str | None = None,
    tag: str | None = None,
    order_by: str | None = None,
    direction: str | None = None,
    page: int | None = Query(default=1, ge=1, le=MAX_PAGE),
) -> ModelListResponse:
    return await services.presets.page(
        user,
        query=query,
        view_option=view_option,
        tag=tag,
        order_by=order_by,
        direction=direction,
        page=page,
    )


@router.get("/api/v1/models/base")
async def base_records(_: AdminUser, services: ServicesDep) -> list[ModelModel]:
    return services.presets.records(base_only=True)


@router.get("/api/v1/models/all")
async def all_records(_: AdminUser, services: ServicesDep) -> list[ModelModel]:
    return services.presets.records(base_only=False)


@router.get("/api/v1/models/model")
async def get_record(user: VerifiedUser, services: ServicesDep, id: str) -> ModelAccessResponse:
    return await services.presets.get(user, id)


@router.post("/api/v1/models/create")
async def create_record(form: ModelForm, user: VerifiedUser, services: ServicesDep) -> ModelModel:
    return await services.presets.create(user, form)


@router.post("/api/v1/models/model/update")
async def update_record(
    form: ModelForm, user: VerifiedUser, services: ServicesDep, id: str | None = None
) -> ModelModel:
    # 0.12 takes the id from the body; 0.6 clients name the record with ?id=.
    return await services.presets.update(user, form, id)


@router.post("/api/v1/models/model/access/update")
async def update_record_access(
    form: ModelAccessGrantsForm, user: VerifiedUser, services: ServicesDep
) -> ModelModel:
    """Replace a record's grants (owner, writer or admin); an admin naming a provider model
    without a record creates one with these grants, as 0.12 does."""
    return await services.models.update_access(user, form.id, form.access_grants, form.name)


@router.post("/api/v1/models/model/toggle")
async def toggle_record(id: str, user: VerifiedUser, services: ServicesDep) -> ModelModel:
    return await services.presets.toggle(user, id)


@router.post("/api/v1/models/model/delete")
async def delete_record(form: ModelIdForm, user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.presets.delete(user, form.id)


@router.delete("/api/v1/models/model/delete")
async def delete_record_query(id: str, user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.presets.delete(user, id)


@router.delete("/api/v1/models/delete/all")
async def delete_all_records(_: AdminUser, services: ServicesDep) -> bool:
    return await services.presets.delete_all()


@router.get("/api/v1/models/export")
async def export_records(user: VerifiedUser, services: ServicesDep) -> list[ModelExport]:
    """Admins: every record; others with `workspace.models_export`: their own."""
    return await services.preset_transfer.export(user)


@router.post("/api/v1/models/import")
async def import_records(form: ModelsImportForm, user: VerifiedUser, services: ServicesDep) -> bool:
    """New records are created, existing ones updated (admins, or `workspace.models_import`)."""
    return await services.preset_transfer.import_(user, form.models)


@router.post("/api/v1/models/sync")
async def sync_records(
    form: ModelsImportForm, user: AdminUser, services: ServicesDep
) -> list[ModelModel]:
    """The records become exactly these: others are deleted."""
    return await services.preset_transfer.sync(user, form.models)
