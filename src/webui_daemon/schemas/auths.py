"""Wire models of /api/v1/auths: forms, the session object, API keys, admin config."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "user", "pending"]

# Open WebUI accepts any string here and validates it itself; we do the same so that a bad
# address gets its 400 with Open WebUI's message rather than a 422.
_EMAIL = Field(min_length=1, max_length=320)
_NAME = Field(min_length=1, max_length=200)
_PASSWORD = Field(min_length=1, max_length=1024)


class SigninForm(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class SignupForm(BaseModel):
    name: str = _NAME
    email: str = _EMAIL
    password: str = _PASSWORD
    profile_image_url: str | None = "/user.png"


class AddUserForm(SignupForm):
    role: Role | None = "pending"


class UpdateProfileForm(BaseModel):
    """Only the keys sent are changed. `profile_image_url` may be left out but not null: a user
    always has an image (Open WebUI requires a string, so null is a 422 there too)."""

    name: str = _NAME
    profile_image_url: str = ""
    bio: str | None = None
    gender: str | None = None
    date_of_birth: str | None = None


class UpdatePasswordForm(BaseModel):
    password: str = Field(max_length=1024)
    new_password: str = _PASSWORD


class SessionUserResponse(BaseModel):
    """What signin, signup and `GET /auths/` return (spec 2.2)."""

    model_config = ConfigDict(extra="allow")

    token: str
    token_type: str = "Bearer"
    expires_at: int | None = None
    id: str
    email: str
    name: str
    role: Role
    profile_image_url: str
    permissions: dict[str, dict[str, bool]] = Field(default_factory=dict)
    bio: str | None = None
    gender: str | None = None
    date_of_birth: str | None = None


class SessionUserInfoResponse(SessionUserResponse):
    """`GET /auths/` (0.12): the session with the user's status."""

    status_emoji: str | None = None
    status_message: str | None = None
    status_expires_at: int | None = None


class AddUserResponse(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    profile_image_url: str
    token: str
    token_type: str = "Bearer"


class ApiKey(BaseModel):
    api_key: str


class SignoutResponse(BaseModel):
    status: bool = True


class AdminConfig(BaseModel):
    """The admin-editable auth settings, persisted in the database."""

    model_config = ConfigDict(extra="allow")

    ENABLE_SIGNUP: bool
    DEFAULT_USER_ROLE: Role
    ENABLE_API_KEYS: bool
    JWT_EXPIRES_IN: str
    SHOW_ADMIN_DETAILS: bool = True
    ENABLE_COMMUNITY_SHARING: bool = False
    ENABLE_MESSAGE_RATING: bool = True
    ENABLE_CHANNELS: bool = False
    ENABLE_NOTES: bool = False
    ENABLE_USER_WEBHOOKS: bool = False
    WEBUI_URL: str = ""
    PENDING_USER_OVERLAY_TITLE: str = ""
    PENDING_USER_OVERLAY_CONTENT: str = ""
    RESPONSE_WATERMARK: str = ""


def extra_fields(model: BaseModel) -> dict[str, Any]:
    """Fields a client sent beyond the declared ones (kept for forward compatibility)."""
    return dict(model.model_extra or {})
