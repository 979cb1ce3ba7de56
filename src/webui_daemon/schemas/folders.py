"""Wire models of /api/v1/folders."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FolderForm(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=255)
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    parent_id: str | None = None


class FolderUpdateForm(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = Field(default=None, min_length=1, max_length=255)
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


class FolderParentIdForm(BaseModel):
    parent_id: str | None = None


class FolderIsExpandedForm(BaseModel):
    is_expanded: bool


class FolderModel(BaseModel):
    id: str
    parent_id: str | None = None
    # [0.12] not sent (the folders are the caller's own).
    user_id: str = ""
    name: str
    items: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    is_expanded: bool = False
    created_at: int
    updated_at: int


class FolderListItem(FolderModel):
    """`GET /folders/` (0.12 adds the unread chats; webui tracks no reads: 0)."""

    unread_count: int = 0


class FolderResponse(FolderModel):
    """`GET /folders/{id}` (0.12): webui's folders are not shared, so no grants, and the one
    who may read a folder (its owner) may change it."""

    access_grants: list[dict[str, Any]] = Field(default_factory=list)
    write_access: bool = True
