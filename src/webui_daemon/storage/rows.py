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
    status_emoji: str | None = None
    status_message: str | None = None
    status_expires_at: int | None = None


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


@dataclass(frozen=True, slots=True)
class ChatRow:
    """A chat without its messages: `document` is the chat document minus `history.messages`,
    `history.currentId` (kept in `current_id`) and the derived `messages` list."""

    id: str
    user_id: str
    title: str
    document: dict[str, Any]
    current_id: str | None
    share_id: str | None
    archived: bool
    pinned: bool
    folder_id: str | None
    meta: dict[str, Any]
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class ChatMessageRow:
    """One message of a chat tree. `content` is the text (searchable); `data` holds every
    other key of the message (and the original content when it was not a string)."""

    chat_id: str
    id: str
    parent_id: str | None
    children: list[str]
    role: str | None
    content: str | None
    data: dict[str, Any]
    position: int


@dataclass(frozen=True, slots=True)
class TagRow:
    id: str
    name: str
    user_id: str
    meta: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ChatShareRow:
    """A shared snapshot: the full document as it was when shared."""

    id: str
    chat_id: str
    user_id: str
    title: str
    document: dict[str, Any]
    meta: dict[str, Any]
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class FolderRow:
    id: str
    user_id: str
    name: str
    created_at: int
    updated_at: int
    parent_id: str | None = None
    items: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    is_expanded: bool = False
