"""Connection settings in Open WebUI's shapes (URLs, keys, per-URL configs) -> Connections."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from webui_daemon.providers.base import Connection, Kind

# Where a provider kind's connection settings come from: an environment variable naming its
# URLs (or OpenAI key), the built-in default, or what an admin saved (which wins, unless
# ENABLE_PERSISTENT_CONFIG=false).
Origin = Literal["env", "default", "stored"]

DEFAULT_OLLAMA_URL = "http://localhost:11434"
OPENAI_URL = "https://api.openai.com/v1"


@dataclass(slots=True)
class ProviderConfig:
    """One provider kind as Open WebUI's /ollama/config and /openai/config show it."""

    kind: Kind
    enabled: bool
    urls: list[str]
    keys: list[str] = field(default_factory=list)  # OpenAI only; Ollama keys live in configs
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    origin: Origin = "default"


def clean_url(url: str) -> str:
    return url.strip().rstrip("/")


def env_origin(*values: str) -> Origin:
    """ "env" when any of the connection variables is set, else "default"."""
    return "env" if any(v.strip() for v in values) else "default"


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";")] if value.strip() else []


def ollama_urls(base_urls: str, base_url: str, legacy_api_base_url: str = "") -> list[str]:
    """OLLAMA_BASE_URLS, else OLLAMA_BASE_URL, else the legacy .../api form, else localhost."""
    if base_urls.strip():
        return [clean_url(u) for u in split_list(base_urls) if u]
    if base_url.strip():
        return [clean_url(base_url)]
    if legacy_api_base_url.strip():
        url = clean_url(legacy_api_base_url)
        return [url[: -len("/api")] if url.endswith("/api") else url]
    return [DEFAULT_OLLAMA_URL]


def openai_urls_keys(
    base_urls: str, base_url: str, keys: str, key: str
) -> tuple[list[str], list[str]]:
    """OPENAI_API_BASE_URL(S) and OPENAI_API_KEY(S). With no URL set, api.openai.com is used only
    when a key is given, so a default install never calls the internet."""
    key_list = split_list(keys) if keys.strip() else ([key.strip()] if key.strip() else [])
    if base_urls.strip():
        urls = [clean_url(u) for u in split_list(base_urls) if u]
    elif base_url.strip():
        urls = [clean_url(base_url)]
    elif any(key_list):
        urls = [OPENAI_URL]
    else:
        urls = []
    return urls, pad_keys(urls, key_list)


def pad_keys(urls: list[str], keys: list[str]) -> list[str]:
    """As Open WebUI: one key per URL, padded with "" or cut to the number of URLs."""
    return (keys + [""] * len(urls))[: len(urls)]


def clean_configs(configs: dict[str, Any], urls: list[str]) -> dict[str, dict[str, Any]]:
    """Keep configs for existing URLs, keyed by index; legacy URL keys are re-keyed."""
    out: dict[str, dict[str, Any]] = {}
    for idx, url in enumerate(urls):
        value = configs.get(str(idx), configs.get(url))
        if isinstance(value, dict):
            out[str(idx)] = value
    return out


def _tags(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list):
        return ()
    tags = []
    for tag in value:
        if isinstance(tag, dict) and tag.get("name"):
            tags.append({"name": str(tag["name"])})
        elif isinstance(tag, str) and tag:
            tags.append({"name": tag})
    return tuple(tags)


# Ollama serves OLLAMA_NUM_PARALLEL generations at once (4 on most machines) and queues the
# rest unfairly; an OpenAI-compatible server (vLLM, llama.cpp, a cloud API) batches on its own.
DEFAULT_CAPACITY: Mapping[Kind, int] = {"ollama": 4, "openai": 0}


def _capacity(value: Any, default: int) -> int:
    """A connection's `capacity` option: generations at once, 0 for no limit."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return default
    try:
        return max(0, int(value))
    except ValueError:
        return default


def connections(
    config: ProviderConfig, capacity: Mapping[Kind, int] = DEFAULT_CAPACITY
) -> list[Connection]:
    """The enabled connections of one provider kind (indices are kept: they are wire ids)."""
    if not config.enabled:
        return []
    out = []
    for idx, url in enumerate(config.urls):
        options = config.configs.get(str(idx)) or {}
        if not url or not options.get("enable", True):
            continue
        if config.kind == "openai":
            key = config.keys[idx] if idx < len(config.keys) else ""
        else:
            key = str(options.get("key") or "")
        model_ids = options.get("model_ids") or []
        out.append(
            Connection(
                kind=config.kind,
                idx=idx,
                url=url,
                key=key,
                prefix_id=str(options.get("prefix_id") or ""),
                model_ids=tuple(str(m) for m in model_ids if m)
                if isinstance(model_ids, list)
                else (),
                tags=_tags(options.get("tags")),
                connection_type=str(
                    options.get("connection_type")
                    or ("local" if config.kind == "ollama" else "external")
                ),
                capacity=_capacity(options.get("capacity"), capacity[config.kind]),
                provider=str(options.get("provider") or ""),
            )
        )
    return out
