"""0.12 route families webui does not implement yet, answering documented shapes, never 404:
the workspace lists (tools, functions) answer empty, their create
routes 403 naming the feature; /api/v1/configs answers banners, suggestions, the models page,
tool servers (none) and export/import of the stored config (services.admin_config).
"""

from typing import Any

from fastapi import APIRouter

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.schemas.workspace import (
    BannerModel,
    ImportConfigForm,
    ModelsConfigForm,
    SetBannersForm,
    SetDefaultSuggestionsForm,
    ToolServersConfig,
)
from webui_daemon.services.admin_config import not_available

router = APIRouter(prefix="/api/v1")

# --- workspace lists: nothing stored here yet -----------------------------------------------


@router.get("/tools/", tags=["tools"])
@router.get("/tools/list", tags=["tools"])
@router.get("/functions/", tags=["functions"])
async def empty_list(_: VerifiedUser) -> list[Any]:
    return []


@router.get("/functions/list", tags=["functions"])
async def empty_admin_list(_: AdminUser) -> list[Any]:
    return []


_CREATE = {
    "/tools/create": ("Tools", "tools"),
    "/functions/create": ("Functions", "functions"),
    "/configs/tool_servers": ("Tool servers", "configs"),
}


def _refuse(feature: str) -> Any:
    async def refuse(_: VerifiedUser) -> None:
        raise not_available(feature)

    return refuse


for _path, (_feature, _tag) in _CREATE.items():
    router.add_api_route(
        _path, _refuse(_feature), methods=["POST"], tags=[_tag], responses={403: {}}
    )


# --- /api/v1/configs --------------------------------------------------------------------------


@router.get("/configs/banners", tags=["configs"])
async def banners(_: VerifiedUser, services: ServicesDep) -> list[BannerModel]:
    return [BannerModel.model_validate(b) for b in await services.admin_config.banners()]


@router.post("/configs/banners", tags=["configs"])
async def set_banners(
    form: SetBannersForm, _: AdminUser, services: ServicesDep
) -> list[BannerModel]:
    stored = await services.admin_config.set_banners([b.model_dump() for b in form.banners])
    return [BannerModel.model_validate(b) for b in stored]


@router.post("/configs/suggestions", tags=["configs"])
async def set_suggestions(
    form: SetDefaultSuggestionsForm, _: AdminUser, services: ServicesDep
) -> dict[str, Any]:
    suggestions = None if form.suggestions is None else [s.model_dump() for s in form.suggestions]
    return await services.admin_config.set_suggestions(suggestions, form.i18n)


@router.get("/configs/models", tags=["configs"])
async def models_config(_: AdminUser, services: ServicesDep) -> ModelsConfigForm:
    return ModelsConfigForm.model_validate(await services.admin_config.models())


@router.post("/configs/models", tags=["configs"])
async def set_models_config(
    form: ModelsConfigForm, _: AdminUser, services: ServicesDep
) -> ModelsConfigForm:
    stored = await services.admin_config.set_models(form.model_dump())
    return ModelsConfigForm.model_validate(stored)


@router.get("/configs/tool_servers", tags=["configs"])
async def tool_servers(_: AdminUser) -> ToolServersConfig:
    return ToolServersConfig()


@router.get("/configs/export", tags=["configs"])
async def export_config(_: AdminUser, services: ServicesDep) -> dict[str, Any]:
    return await services.admin_config.export()


@router.post("/configs/import", tags=["configs"])
async def import_config(
    form: ImportConfigForm, _: AdminUser, services: ServicesDep
) -> dict[str, Any]:
    return await services.admin_config.import_(form.config)
