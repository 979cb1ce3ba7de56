"""Wire models of /api/v1/prompts (Open WebUI 0.12.4's prompt library, with 0.6's names too)."""

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from webui_daemon.schemas.access import AccessGrant

# A template is text a person wrote: 256 KiB is far beyond any, and keeps a list cheap to send.
MAX_CONTENT_BYTES = 256 * 1024


def _command(value: str) -> str:
    """0.12 stores commands without the slash 0.6 put in front; either form names one prompt."""
    value = value.strip()
    return value[1:] if value.startswith("/") else value


class PromptForm(BaseModel):
    """Body of create and update. 0.6 clients send `title`, and `access_control` for sharing."""

    model_config = ConfigDict(extra="ignore")

    command: str = Field(min_length=1, max_length=256, pattern=r"^/?[^\s/][^\s]*$")
    name: str = Field(min_length=1, max_length=512, validation_alias=AliasChoices("name", "title"))
    content: str
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    tags: list[str] | None = Field(default=None, max_length=100)
    access_grants: list[AccessGrant] | None = Field(default=None, max_length=10_000)
    access_control: dict[str, Any] | None = None
    version_id: str | None = None
    commit_message: str | None = Field(default=None, max_length=2_000)
    is_production: bool | None = True

    _strip = field_validator("command")(_command)


class PromptMetadataForm(BaseModel):
    name: str = Field(min_length=1, max_length=512)
    command: str = Field(min_length=1, max_length=256, pattern=r"^/?[^\s/][^\s]*$")
    tags: list[str] | None = Field(default=None, max_length=100)

    _strip = field_validator("command")(_command)


class PromptVersionUpdateForm(BaseModel):
    version_id: str = Field(min_length=1, max_length=64)


class PromptAccessGrantsForm(BaseModel):
    access_grants: list[AccessGrant] = Field(max_length=10_000)


class GrantOut(BaseModel):
    """A grant as 0.12 answers it (services.access.grants_out)."""

    id: str
    resource_type: str
    resource_id: str
    principal_type: str
    principal_id: str
    permission: str
    created_at: int


class PromptUser(BaseModel):
    id: str
    name: str
    email: str
    role: str
    profile_image_url: str


class PromptModel(BaseModel):
    """0.12's PromptModel; `title` and `timestamp` repeat name and updated_at for 0.6 clients,
    `access_control` is 0.6's form of the grants."""

    id: str
    command: str
    user_id: str
    name: str
    content: str
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    tags: list[str] | None = None
    is_active: bool = True
    version_id: str | None = None
    created_at: int
    updated_at: int
    access_grants: list[GrantOut] = Field(default_factory=list)
    title: str
    timestamp: int
    access_control: dict[str, Any] | None = None


class PromptAccessResponse(PromptModel):
    user: PromptUser | None = None
    write_access: bool = False


class PromptAccessListResponse(BaseModel):
    items: list[PromptAccessResponse]
    total: int


class PromptHistoryResponse(BaseModel):
    id: str
    prompt_id: str
    parent_id: str | None = None
    snapshot: dict[str, Any]
    user_id: str
    commit_message: str | None = None
    created_at: int
    user: PromptUser | None = None


class PromptDiff(BaseModel):
    """Two versions of a prompt and the unified diff of their content (0.12)."""

    from_id: str
    to_id: str
    from_snapshot: dict[str, Any]
    to_snapshot: dict[str, Any]
    content_diff: list[str]
    line_endings_only: bool


class Prompt(BaseModel):
    """A prompt as a client reads it from a webui daemon or an Open WebUI server, 0.6 or 0.12:
    0.6 has no id and names the title `title`, its command with a slash and its time
    `timestamp`; unknown keys are ignored, `null` lists are empty."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str | None = None
    command: str
    name: str = Field(default="", validation_alias=AliasChoices("name", "title"))
    content: str = ""
    user_id: str = ""
    tags: list[str] = Field(default_factory=list)
    is_active: bool = True
    write_access: bool | None = None
    access_grants: list[dict[str, Any]] = Field(default_factory=list)
    updated_at: int = Field(default=0, validation_alias=AliasChoices("updated_at", "timestamp"))
    user: dict[str, Any] | None = None

    @field_validator("command", mode="after")
    @classmethod
    def _bare(cls, value: str) -> str:
        return _command(value)

    @field_validator("tags", "access_grants", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @property
    def owner(self) -> str:
        return str((self.user or {}).get("name") or self.user_id)
