"""Wire models of /api/v1/groups."""

from typing import Any

from pydantic import BaseModel, Field


class GroupForm(BaseModel):
    # 0.12 nests groups; webui does not (a parent other than none is refused, 400).
    parent_group_id: str | None = None
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    permissions: dict[str, dict[str, bool]] | None = None
    data: dict[str, Any] | None = None


class GroupUpdateForm(BaseModel):
    parent_group_id: str | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    permissions: dict[str, dict[str, bool]] | None = None
    data: dict[str, Any] | None = None


class UserIdsForm(BaseModel):
    user_ids: list[str] = Field(default_factory=list, max_length=10_000)


class GroupResponse(BaseModel):
    parent_group_id: str | None = None  # 0.12's nesting: always none here
    id: str
    user_id: str
    name: str
    description: str
    permissions: dict[str, dict[str, bool]] | None = None
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    user_ids: list[str] = Field(default_factory=list)
    member_count: int = 0
    created_at: int
    updated_at: int
