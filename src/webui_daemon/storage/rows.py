"""Storage rows: plain dataclasses mirroring tables (never used on the wire)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    email: str
    name: str
    role: str
    profile_image_url: str
    last_active_at: int
    created_at: int
    updated_at: int
    username: str | None = None
    bio: str | None = None
    gender: str | None = None
    date_of_birth: str | None = None
    timezone: str | None = None
    info: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    oauth: dict[str, Any] | None = None
    os_uid: int | None = None


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: str
    user_id: str
    name: str
    description: str
    created_at: int
    updated_at: int
    permissions: dict[str, dict[str, bool]] | None = None
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    user_ids: list[str] = field(default_factory=list)
