"""Wire models of /api/v1/knowledge (both sharing forms: 0.6 access_control, 0.12 grants)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AccessGrant(BaseModel):
    model_config = ConfigDict(extra="allow")

    principal_type: Literal["user", "group"]
    principal_id: str = Field(min_length=1)
    permission: Literal["read", "write"] = "read"


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


class KnowledgeResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    user_id: str
    name: str
    description: str
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    access_control: dict[str, Any] | None = None
    access_grants: list[dict[str, str]] = Field(default_factory=list)
    write_access: bool = False
    user: dict[str, Any] | None = None
    file_count: int = 0
    created_at: int
    updated_at: int


class KnowledgeFilesResponse(KnowledgeResponse):
    files: list[KnowledgeFileItem] = Field(default_factory=list)
    warnings: dict[str, Any] | None = None


class KnowledgeListResponse(BaseModel):
    items: list[KnowledgeResponse]
    total: int


class KnowledgeFileListResponse(BaseModel):
    items: list[dict[str, Any]]
    total: int
