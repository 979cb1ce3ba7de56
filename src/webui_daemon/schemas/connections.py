"""Wire models of the provider connection settings (/ollama/config, /openai/config, verify)."""

from typing import Any

from pydantic import BaseModel, Field


class OllamaConfigForm(BaseModel):
    """`GET /ollama/config` and the body of `POST /ollama/config/update`."""

    ENABLE_OLLAMA_API: bool | None = None
    OLLAMA_BASE_URLS: list[str] = Field(default_factory=list)
    # Keyed by URL index as a string: {enable, key, prefix_id, model_ids, tags, connection_type}.
    OLLAMA_API_CONFIGS: dict[str, Any] = Field(default_factory=dict)


class OpenAIConfigForm(BaseModel):
    """`GET /openai/config` and the body of `POST /openai/config/update`."""

    ENABLE_OPENAI_API: bool | None = None
    OPENAI_API_BASE_URLS: list[str] = Field(default_factory=list)
    OPENAI_API_KEYS: list[str] = Field(default_factory=list)
    OPENAI_API_CONFIGS: dict[str, Any] = Field(default_factory=dict)


class ConnectionVerifyForm(BaseModel):
    """`POST /ollama/verify` and `POST /openai/verify`: test a connection before saving it."""

    url: str = Field(min_length=1, max_length=2000)
    key: str = ""


class ConnectionState(BaseModel):
    """One configured provider URL as `GET /api/webui/connections` shows it (webui extension):
    where its settings come from, whether it answers, how many models it lists."""

    type: str  # "ollama" or "openai"
    idx: int  # its index in OLLAMA_BASE_URLS / OPENAI_API_BASE_URLS (the wire id)
    url: str
    enabled: bool
    # "env": named by an environment variable; "default": built in (localhost:11434);
    # "stored": saved by an admin (wins over the environment unless ENABLE_PERSISTENT_CONFIG
    # is false).
    origin: str
    health: str  # "up", "down" (see `reason`) or "off" (disabled)
    reason: str | None = None
    models: int | None = None  # what it listed the last time it answered


class ConnectionsState(BaseModel):
    """`GET /api/webui/connections`."""

    connections: list[ConnectionState] = Field(default_factory=list)
    persistent_config: bool = True  # ENABLE_PERSISTENT_CONFIG
    # Environment settings the daemon does not use because an admin's saved ones win:
    # {"OLLAMA_BASE_URLS": "http://a:11434", ...}, as the daemon's start-up log said.
    env_overridden: dict[str, str] = Field(default_factory=dict)
