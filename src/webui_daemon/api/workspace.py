"""0.12 route families webui answers with documented shapes, never 404: the Python tools and
functions lists answer empty (api.tools serves the tool servers and refuses Python code);
/api/v1/configs answers banners, suggestions, the models page and export/import of the stored
config (services.config.admin_config); every route of a family webui does not have (channels,
images, audio, ...) answers 403 naming the feature (`UNSERVED`), registered last.
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
)
from webui_daemon.services.config.admin_config import not_available

router = APIRouter(prefix="/api/v1")

# --- workspace lists: nothing stored here yet -----------------------------------------------


@router.get("/tools/list", tags=["tools"])
@router.get("/functions/", tags=["functions"])
async def empty_list(_: VerifiedUser) -> list[Any]:
    return []


@router.get("/functions/list", tags=["functions"])
async def empty_admin_list(_: AdminUser) -> list[Any]:
    return []


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


@router.get("/configs/export", tags=["configs"])
async def export_config(_: AdminUser, services: ServicesDep) -> dict[str, Any]:
    return await services.admin_config.export()


@router.post("/configs/import", tags=["configs"])
async def import_config(
    form: ImportConfigForm, _: AdminUser, services: ServicesDep
) -> dict[str, Any]:
    return await services.admin_config.import_(form.config)


# --- 0.12 families not served: one clear answer for every route of them -------------------------

# Open WebUI 0.12.4's router prefixes (main.py) of features webui does not have, and their names.
UNSERVED = {
    "pipelines": "Pipelines",
    "images": "Image generation",
    "audio": "Audio (speech to text, text to speech)",
    "auths/mfa": "Multi-factor authentication",
    "apps": "Apps",
    "channels": "Channels",
    "search": "Search",
    "notifications": "Notifications",
    "skills": "Skills",
    "evaluations": "Evaluations (arena, feedback)",
    "analytics": "Analytics",
    "utils": "Utilities (code execution, formatting, PDF export)",
    "terminals": "Terminals",
    "automations": "Automations",
    "calendars": "Calendars",
    "scim/v2": "SCIM provisioning",
}
unserved = APIRouter(prefix="/api/v1")
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _unserved(feature: str) -> Any:
    async def refuse(_: VerifiedUser) -> None:
        raise not_available(feature)

    return refuse


for _prefix, _name in UNSERVED.items():
    _tag = _prefix.split("/")[-2] if _prefix.endswith("/v2") else _prefix.split("/")[-1]
    for _path in (f"/{_prefix}", f"/{_prefix}/{{rest:path}}"):
        unserved.add_api_route(
            _path, _unserved(_name), methods=_METHODS, include_in_schema=False, tags=[_tag]
        )
