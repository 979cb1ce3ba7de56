"""Wire models of /api/v1/notes (Open WebUI 0.12: NoteForm, NoteModel, the list shapes)."""

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from webui_daemon.schemas.access import AccessGrant


def sanitize_note_data(data: Any) -> dict[str, Any] | None:
    """0.12's rule: `data` is an object whose `content.md` is Markdown text. Anything else
    becomes one (a bare value is the Markdown; JSON in `md` becomes a json code block)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        return {"content": {"md": str(data)}}
    content = data.get("content")
    if not isinstance(content, dict) or "md" not in content or isinstance(content["md"], str):
        return data
    md = content["md"]
    if md is None:
        text = ""
    elif isinstance(md, dict | list):
        text = f"```json\n{json.dumps(md, indent=2, ensure_ascii=False)}\n```"
    else:
        text = str(md)
    return {**data, "content": {**content, "md": text}}


def note_markdown(data: dict[str, Any] | None) -> str:
    """The Markdown of a note's `data` ("" when it has none)."""
    content = (data or {}).get("content")
    md = content.get("md") if isinstance(content, dict) else None
    return md if isinstance(md, str) else ""


class _SanitizedData(BaseModel):
    @field_validator("data", mode="before", check_fields=False)
    @classmethod
    def _sanitize(cls, value: Any) -> Any:
        return sanitize_note_data(value)


class NoteForm(_SanitizedData):
    """`POST /notes/create`. No `access_grants` and no `access_control`: private. The 0.6
    form `access_control: null`, sent explicitly, is public read (as 0.6 means it)."""

    title: str = Field(max_length=1000)
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    access_control: dict[str, Any] | None = None
    access_grants: list[AccessGrant] | None = Field(default=None, max_length=10_000)


class NoteUpdateForm(_SanitizedData):
    """`POST /notes/{id}/update`: `data` and `meta` are merged into the stored ones, key by
    key (0.12); a title replaces the old one."""

    title: str | None = Field(default=None, max_length=1000)
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


class NoteAccessGrantsForm(BaseModel):
    """Body of `/notes/{id}/access/update` (0.12): the grants, replaced whole."""

    access_grants: list[AccessGrant] = Field(max_length=10_000)


class NoteUser(BaseModel):
    """0.12's UserResponse inside note lists: who owns the note."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str = ""
    role: str = "user"
    email: str = ""


class NoteModel(_SanitizedData):
    model_config = ConfigDict(extra="allow")

    id: str
    user_id: str
    title: str
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    is_pinned: bool | None = False
    # [0.12] each grant also has id, resource_type, resource_id and created_at.
    access_grants: list[dict[str, Any]] = Field(default_factory=list)
    # The 0.6 form of the same grants (None: public read), for 0.6 clients.
    access_control: dict[str, Any] | None = None
    created_at: int  # nanoseconds (Open WebUI 0.12 stores time.time_ns())
    updated_at: int


class NoteResponse(NoteModel):
    """`GET /notes/{id}`: the note and whether the caller may change it."""

    write_access: bool = False


class NoteUserResponse(NoteModel):
    user: NoteUser | None = None


class NoteItemResponse(BaseModel):
    """A note in `GET /notes/` and `/notes/pinned`: `data` holds the first 1000 characters
    of its Markdown only."""

    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    data: dict[str, Any] | None = None
    is_pinned: bool | None = False
    updated_at: int
    created_at: int
    user: NoteUser | None = None


class NoteListResponse(BaseModel):
    """`GET /notes/search`: a page of notes (Markdown cut to 1000 characters) and the total."""

    items: list[NoteUserResponse]
    total: int
