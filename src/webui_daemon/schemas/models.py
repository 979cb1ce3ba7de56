"""Wire models of models: workspace records (presets) and the aggregated model list (spec 4)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from webui_daemon.schemas.access import AccessGrant


class ModelForm(BaseModel):
    """Body of `/api/v1/models/create` and `/model/update` (extra keys are ignored)."""

    id: str = Field(min_length=1, max_length=256)
    base_model_id: str | None = None
    name: str = Field(min_length=1, max_length=512)
    meta: dict[str, Any] = Field(default_factory=dict)
    # params.system is the system prompt template; other keys fill unset request fields.
    params: dict[str, Any] = Field(default_factory=dict)
    # 0.6 form: None = public read, {} = private, {"read"|"write": {group_ids, user_ids}}.
    access_control: dict[str, Any] | None = None
    # 0.12 form; wins over access_control when both are sent.
    access_grants: list[AccessGrant] | None = None
    is_active: bool = True


class ModelAccessGrantsForm(BaseModel):
    """Body of `/api/v1/models/model/access/update` (0.12): the record's grants, replaced
    whole; `name` names the record made for a provider model that has none yet."""

    id: str = Field(min_length=1, max_length=256, pattern=r"^\S+$")
    name: str | None = Field(default=None, max_length=512)
    access_grants: list[AccessGrant] = Field(max_length=10_000)


class ModelModel(BaseModel):
    """A stored record, with access in both the 0.6 and the 0.12 form."""

    version_id: str | None = None  # 0.12's model history; webui keeps none
    id: str
    user_id: str
    base_model_id: str | None = None
    name: str
    params: dict[str, Any]
    meta: dict[str, Any]
    access_control: dict[str, Any] | None = None
    access_grants: list[dict[str, Any]] = Field(default_factory=list)
    is_active: bool
    updated_at: int
    created_at: int


class ModelOwner(BaseModel):
    id: str
    name: str
    email: str
    role: str
    profile_image_url: str


class ModelAccessResponse(ModelModel):
    user: ModelOwner | None = None  # 0.12 sends the key; `GET /model` leaves it null
    write_access: bool = False


class ModelUserResponse(ModelAccessResponse):
    pass


class ModelExport(ModelModel):
    """`/models/export` (0.12): a record with its background image inlined (webui has none)."""

    background_image_data: str | None = None


class ModelListResponse(BaseModel):
    items: list[ModelUserResponse]
    total: int


class ModelIdForm(BaseModel):
    id: str = Field(min_length=1, max_length=256)


class ModelsResponse(BaseModel):
    """`GET /api/models`: `{"data": [...]}` with no "object" key (spec 4.1)."""

    model_config = ConfigDict(extra="allow")

    data: list[dict[str, Any]]


class ModelsImportForm(BaseModel):
    """Body of `/api/v1/models/import` and `/sync`: records as `/export` gives them (each
    needs an `id`; what an item leaves out keeps its stored value)."""

    models: list[dict[str, Any]]
