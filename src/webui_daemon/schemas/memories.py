"""Wire models of `/api/v1/memories` (Open WebUI 0.12.4's names and shapes)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MemoryType = Literal["user", "context"]


class MemoryModel(BaseModel):
    """One memory as Open WebUI answers it."""

    model_config = ConfigDict(extra="allow")

    id: str
    user_id: str
    type: MemoryType = "context"
    path: str | None = None
    content: str
    meta: dict[str, Any] | None = None
    updated_at: int
    created_at: int


class AddMemoryForm(BaseModel):
    content: str
    type: MemoryType = "context"
    path: str | None = None


class MemoryUpdateModel(BaseModel):
    content: str | None = None
    type: MemoryType | None = None
    path: str | None = None


class QueryMemoryForm(BaseModel):
    content: str
    k: int | None = Field(default=1, ge=1, le=1000)


def _one_empty_list() -> list[Any]:
    return [[]]


class MemorySearchResult(BaseModel):
    """Open WebUI's vector SearchResult: one list per query vector (always one here);
    `distances` are scores from 0 to 1, higher is closer."""

    ids: list[list[str]] = Field(default_factory=_one_empty_list)
    documents: list[list[str]] = Field(default_factory=_one_empty_list)
    metadatas: list[list[dict[str, Any]]] = Field(default_factory=_one_empty_list)
    distances: list[list[float]] = Field(default_factory=_one_empty_list)
