"""Models (spec 4): the list a user may chat with, workspace presets, the default model.

The default model is Open WebUI's: the first entry of the user's `settings.ui.models`.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from webui_daemon.schemas.auths import SessionUserResponse
from webui_daemon.schemas.models import ModelAccessResponse, ModelForm, ModelIdForm, ModelModel
from webui_tui.client.base import LATER, BaseClient
from webui_tui.client.errors import NotFound, WebUIClientError


class ModelEntry(BaseModel):
    """One model of `GET /api/models` (the fields clients rely on; the rest is kept)."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str = ""
    owned_by: str = ""
    connection_type: str | None = None
    preset: bool = False
    # The workspace record that defines or overrides this model, if any.
    info: dict[str, Any] | None = None
    tags: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def base_model_id(self) -> str | None:
        base = (self.info or {}).get("base_model_id")
        return str(base) if base else None

    @property
    def display_name(self) -> str:
        return self.name or self.id


class ModelList(BaseModel):
    data: list[ModelEntry]


_RECORDS: TypeAdapter[list[ModelModel]] = TypeAdapter(list[ModelModel], config=LATER)


class ModelsMixin(BaseClient):
    async def list_models(self, *, refresh: bool = False) -> list[ModelEntry]:
        """The models you may use: provider models and workspace presets."""
        params = {"refresh": True} if refresh else {}
        return (await self._get("/api/models", ModelList, **params)).data

    async def get_model(self, model_id: str) -> ModelEntry:
        """One entry of the model list; NotFound when you may not use it (or it is not there)."""
        for entry in await self.list_models():
            if entry.id == model_id:
                return entry
        detail = f"no model {model_id!r} (see `webui models list`)"
        raise NotFound(404, detail, "GET", "/api/models")

    async def get_model_record(self, model_id: str) -> ModelAccessResponse:
        """The workspace record (preset) `model_id`, with its params and access."""
        return await self._get("/api/v1/models/model", ModelAccessResponse, id=model_id)

    async def create_preset(self, form: ModelForm) -> ModelModel:
        return await self._post("/api/v1/models/create", ModelModel, form)

    async def update_preset(self, form: ModelForm) -> ModelModel:
        return await self._post("/api/v1/models/model/update", ModelModel, form)

    async def delete_preset(self, model_id: str) -> bool:
        return await self._bool("POST", "/api/v1/models/model/delete", ModelIdForm(id=model_id))

    async def export_presets(self) -> list[ModelModel]:
        """Your model records (an admin: every record), as Open WebUI exports them."""
        return await self._list("/api/v1/models/export", _RECORDS)

    async def import_presets(self, records: list[dict[str, Any]]) -> bool:
        """Create the records that are new and update the others (all or none)."""
        return await self._bool("POST", "/api/v1/models/import", {"models": records})

    # --- user settings ---

    async def user_settings(self) -> dict[str, Any]:
        """Your settings document (`{"ui": {...}, ...}`; `{}` until something is saved)."""
        data = await self.request("GET", "/api/v1/users/user/settings")
        return data if isinstance(data, dict) else {}

    async def update_user_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Replace your settings document (read, change and write back the whole of it)."""
        data = await self.request("POST", "/api/v1/users/user/settings/update", body=settings)
        return data if isinstance(data, dict) else {}

    async def default_model(self) -> str | None:
        """Your default model setting (`settings.ui.models[0]`), if you have one."""
        return default_model_of(await self.user_settings())

    async def set_default_model(self, model_id: str | None) -> dict[str, Any]:
        """Make `model_id` your default model (None forgets the setting); keeps the rest."""
        settings = await self.user_settings()
        ui = dict(settings.get("ui") or {})
        # Open WebUI keeps the models selected for new chats here; the first one is the default.
        ui["models"] = [model_id] if model_id else []
        return await self.update_user_settings({**settings, "ui": ui})

    async def pick_model(self) -> str:
        """The model to use when none is named: your default, else the first listed."""
        chosen = await self.default_model()
        if chosen:
            return chosen
        models = await self.list_models()
        if not models:
            raise NotFound(404, await self._no_models_reason(), "GET", "/api/models")
        return models[0].id

    async def _no_models_reason(self) -> str:
        """Adding a connection is an admin's remedy; a plain user is told whom to ask, and what."""
        try:
            me = await self._get("/api/v1/auths/", SessionUserResponse)
        except WebUIClientError:
            me = None
        if me is None or me.role == "admin":
            return "no models are available (add a connection: `webui connections add URL`)"
        return (
            f"no models are available to {me.name}: an admin can add a connection "
            f"(`webui connections add URL`) or give you a model "
            f"(`webui models access MODEL --user {me.name}`)"
        )


def default_model_of(settings: dict[str, Any]) -> str | None:
    ui = settings.get("ui")
    models = ui.get("models") if isinstance(ui, dict) else None
    if isinstance(models, list) and models and isinstance(models[0], str) and models[0]:
        return models[0]
    return None
