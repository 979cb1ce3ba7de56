"""Wire models of /api/v1/users: the user model, listings and the admin update form."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from webui_daemon.schemas.auths import Role


class UserModel(BaseModel):
    """Open WebUI's UserModel; `api_key` is never included."""

    model_config = ConfigDict(extra="allow")

    id: str
    email: str
    username: str | None = None
    role: Role
    name: str
    profile_image_url: str
    profile_banner_image_url: str | None = None
    bio: str | None = None
    gender: str | None = None
    date_of_birth: str | None = None
    timezone: str | None = None
    # 0.12's online status (`POST /users/user/status/update`); webui has no presence.
    presence_state: str | None = None
    status_emoji: str | None = None
    status_message: str | None = None
    status_expires_at: int | None = None
    info: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    oauth: dict[str, Any] | None = None
    scim: dict[str, Any] | None = None
    last_active_at: int
    updated_at: int
    created_at: int
    # webui extension: the OS account this user is linked to on the local socket, if any.
    os_uid: int | None = None


class UserWithGroups(UserModel):
    group_ids: list[str] = Field(default_factory=list)


class GroupRef(BaseModel):
    id: str
    name: str


class UserDetail(UserModel):
    groups: list[GroupRef] = Field(default_factory=list)
    is_active: bool = False


class UserListResponse(BaseModel):
    users: list[UserWithGroups]
    total: int


class UserUpdateForm(BaseModel):
    """`POST /users/{id}/update`: every field optional as in 0.12 (0.6 bodies still fit)."""

    role: Role | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, min_length=1, max_length=320)
    profile_image_url: str | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)


class UserStatusForm(BaseModel):
    """`POST /users/user/status/update` (0.12): only the keys sent with a value change."""

    status_emoji: str | None = Field(default=None, max_length=64)
    status_message: str | None = Field(default=None, max_length=1000)
    status_expires_at: int | None = Field(default=None, ge=0)


class UserSettings(BaseModel):
    model_config = ConfigDict(extra="allow")

    ui: dict[str, Any] = Field(default_factory=dict)
