"""Wire models of the public system routes: health, version, config."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer


class StatusResponse(BaseModel):
    status: bool = True


class VersionResponse(BaseModel):
    version: str
    deployment_id: str = ""  # 0.12: names a deployment of several instances; webui has one
    # webui extension: our own release, beside the Open WebUI version we emulate.
    webui_version: str | None = None


class ConfigResponse(BaseModel):
    """`GET /api/config` (spec 8): extra keys are added for signed-in callers."""

    model_config = ConfigDict(extra="allow")

    status: bool = True
    name: str = "Open WebUI"
    version: str
    default_locale: str = ""
    i18n: dict[str, Any] = Field(default_factory=dict)
    oauth: dict[str, Any] = Field(default_factory=lambda: {"providers": {}, "auto_redirect": False})
    features: dict[str, Any]
    onboarding: bool | None = None  # sent only while nobody has signed up

    @model_serializer(mode="wrap")
    def _onboarding_only_when_true(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("onboarding") is None:
            data.pop("onboarding", None)
        return data


class DaemonInfo(BaseModel):
    """`GET /api/webui/info` (webui extension): where the daemon keeps its data and who called."""

    version: str
    data_dir: str
    socket: str | None
    tcp: str | None
    shared: bool
    local_users: str = "trusted"  # WEBUI_LOCAL_USERS
    pid: int
    transport: str
    peer_uid: int | None = None
    # Added for `webui status`: optional, so that a client still reads an older daemon's answer.
    started_at: int | None = None  # unix seconds
    uptime_s: float | None = None
    rss_bytes: int | None = None  # resident memory of the daemon process
