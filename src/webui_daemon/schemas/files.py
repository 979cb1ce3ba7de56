"""Wire models of /api/v1/files."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FileListItem(BaseModel):
    """Open WebUI's FileModelResponse: `data` holds the processing status (and, once done,
    the extracted text unless a list asked for `content=false`); `meta` the upload's facts.
    0.12's list page carries no `path`."""

    model_config = ConfigDict(extra="allow")

    id: str
    user_id: str
    hash: str | None = None
    filename: str
    data: dict[str, Any] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: int
    updated_at: int


class FileModelResponse(FileListItem):
    """One file as GET /files/{id} and upload answer it: with where its bytes are."""

    path: str | None = None


class FileUploadResponse(FileModelResponse):
    status: bool = True


class FileListResponse(BaseModel):
    items: list[FileListItem]
    total: int


class ProcessStatus(BaseModel):
    status: str
    error: str | None = None
    # webui extension: chunks indexed, once completed (for progress figures such as chunks/s).
    chunk_count: int | None = None


class ContentResponse(BaseModel):
    content: str


class ContentForm(BaseModel):
    content: str


class CancelForm(BaseModel):
    file_ids: list[str] = Field(default_factory=list, max_length=100_000)


class CancelResponse(BaseModel):
    """webui extension: which of the asked files had a queued or running job to stop."""

    cancelled: list[str]


class MessageResponse(BaseModel):
    message: str
