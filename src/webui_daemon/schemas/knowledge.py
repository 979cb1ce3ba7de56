"""Wire models of /api/v1/knowledge (both sharing forms: 0.6 access_control, 0.12 grants)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from webui_daemon.schemas.access import AccessGrant


class KnowledgeForm(BaseModel):
    """`access_control` absent and `access_grants` absent: private. `access_control: null`
    sent explicitly: public read, as 0.6 means it."""

    name: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=20_000)
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    access_control: dict[str, Any] | None = None
    access_grants: list[AccessGrant] | None = None


class KnowledgeUpdateForm(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20_000)
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    access_control: dict[str, Any] | None = None
    access_grants: list[AccessGrant] | None = None


class KnowledgeAccessGrantsForm(BaseModel):
    """Body of `/api/v1/knowledge/{id}/access/update` (0.12): the grants, replaced whole."""

    access_grants: list[AccessGrant] = Field(max_length=10_000)


class KnowledgeFileIdForm(BaseModel):
    model_config = ConfigDict(extra="allow")

    file_id: str
    directory_id: str | None = None


class KnowledgeFileItem(BaseModel):
    """A file of a knowledge base as `files` lists it (0.6: id, meta, created_at, updated_at),
    plus what a terminal client shows: name, hash, processing status."""

    id: str
    filename: str
    hash: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    status: str
    error: str | None = None
    created_at: int
    updated_at: int

    @model_validator(mode="before")
    @classmethod
    def _open_webui_item(cls, value: Any) -> Any:
        """Open WebUI's items are file records: the name in `meta.name`, the status in `data`
        or nowhere (0.12 adds a file to a base only once it is processed: completed)."""
        if not isinstance(value, dict) or ("filename" in value and "status" in value):
            return value
        meta = value["meta"] if isinstance(value.get("meta"), dict) else {}
        data = value["data"] if isinstance(value.get("data"), dict) else {}
        filled = {**value, "meta": meta}
        filled.setdefault("filename", meta.get("name") or value.get("id"))
        filled.setdefault("status", data.get("status") or "completed")
        filled.setdefault("error", data.get("error"))
        return filled


class KnowledgeResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    user_id: str
    name: str
    description: str
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    access_control: dict[str, Any] | None = None
    # [0.12] each grant also has id, resource_type, resource_id and created_at (an int).
    access_grants: list[dict[str, Any]] = Field(default_factory=list)
    write_access: bool = False
    user: dict[str, Any] | None = None
    file_count: int = 0
    created_at: int
    updated_at: int


class KnowledgeFilesResponse(KnowledgeResponse):
    files: list[KnowledgeFileItem] = Field(default_factory=list)
    warnings: dict[str, Any] | None = None

    @field_validator("files", mode="before")
    @classmethod
    def _null_is_none(cls, value: Any) -> Any:
        # [0.12] `null`: its files are listed at /knowledge/{id}/files.
        return [] if value is None else value


class KnowledgeListResponse(BaseModel):
    items: list[KnowledgeResponse]
    total: int


class KnowledgeFileListResponse(BaseModel):
    items: list[dict[str, Any]]
    # 0.12's directories of a base, and the path to the one listed: webui has none.
    directories: list[dict[str, Any]] = Field(default_factory=list)
    breadcrumbs: list[dict[str, Any]] = Field(default_factory=list)
    total: int
