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
