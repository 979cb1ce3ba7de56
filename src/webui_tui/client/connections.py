"""Provider connections (admins): Open WebUI's `/ollama/config` and `/openai/config` settings.

`Connection` is a flat view of one URL for people; `add_connection` and `remove_connection`
read the settings, change one URL (keeping keys and per-URL configs aligned) and save them.
"""

from dataclasses import dataclass
from typing import Any, Literal

from webui_daemon.schemas.connections import (
    ConnectionsState,
    ConnectionVerifyForm,
    OllamaConfigForm,
    OpenAIConfigForm,
)
from webui_tui.client.base import BaseClient
from webui_tui.client.errors import BadResponse, NotFound, RequestFailed

Kind = Literal["ollama", "openai"]


@dataclass(frozen=True, slots=True)
class Connection:
    """One provider URL as configured."""

    kind: Kind
    index: int
    url: str
    key: str  # "" when none
    enabled: bool  # the URL's own switch and its provider kind's
    prefix_id: str = ""

    @property
    def masked_key(self) -> str:
        if not self.key:
            return ""
        return f"{self.key[:3]}…{self.key[-4:]}" if len(self.key) > 10 else "…"


def clean_url(url: str) -> str:
    return url.strip().rstrip("/")


def guess_kind(url: str) -> Kind:
    """OpenAI-compatible servers are usually addressed with their `/v1` base."""
    return "openai" if clean_url(url).endswith("/v1") else "ollama"


class ConnectionsMixin(BaseClient):
    async def ollama_config(self) -> OllamaConfigForm:
        return await self._get("/ollama/config", OllamaConfigForm)

    async def update_ollama_config(self, form: OllamaConfigForm) -> OllamaConfigForm:
        return await self._post("/ollama/config/update", OllamaConfigForm, form)

    async def openai_config(self) -> OpenAIConfigForm:
        return await self._get("/openai/config", OpenAIConfigForm)

    async def update_openai_config(self, form: OpenAIConfigForm) -> OpenAIConfigForm:
        return await self._post("/openai/config/update", OpenAIConfigForm, form)

    async def verify_connection(self, kind: Kind, url: str, key: str = "") -> Any:
        """Ask a provider URL directly (through the daemon): Ollama's version or OpenAI's
        model list. Raises RequestFailed with the reason when it does not answer well."""
        form = ConnectionVerifyForm(url=clean_url(url), key=key)
        return await self.request("POST", f"/{kind}/verify", body=form)

    async def connection_states(self) -> ConnectionsState | None:
        """webui's `/api/webui/connections` (admins): each URL's origin, health and model
        count; None from a server without it (Open WebUI, which is not asked)."""
        if not await self.is_webui_daemon():
            return None
        try:
            return await self._get("/api/webui/connections", ConnectionsState)
        except (NotFound, BadResponse):
            return None

    async def list_connections(self) -> list[Connection]:
        ollama, openai = await self.ollama_config(), await self.openai_config()
        return connections_of(ollama, openai)

    async def find_connection(self, url: str) -> Connection | None:
        wanted = clean_url(url)
        for conn in await self.list_connections():
            if conn.url == wanted:
                return conn
        return None

    async def add_connection(self, kind: Kind, url: str, key: str = "") -> Connection:
        """Add a URL (and switch its provider kind on). RequestFailed if it is there already."""
        url = clean_url(url)
        if await self.find_connection(url) is not None:
            raise RequestFailed(400, f"{url} is already a connection", "POST", f"/{kind}/config")
        if kind == "ollama":
            ollama = await self.ollama_config()
            configs = dict(ollama.OLLAMA_API_CONFIGS)
            if key:
                configs[str(len(ollama.OLLAMA_BASE_URLS))] = {"key": key}
            saved = await self.update_ollama_config(
                OllamaConfigForm(
                    ENABLE_OLLAMA_API=True,
                    OLLAMA_BASE_URLS=[*ollama.OLLAMA_BASE_URLS, url],
                    OLLAMA_API_CONFIGS=configs,
                )
            )
            return connections_of(saved, OpenAIConfigForm())[-1]
        openai = await self.openai_config()
        keys = _pad(openai.OPENAI_API_KEYS, len(openai.OPENAI_API_BASE_URLS))
        saved_openai = await self.update_openai_config(
            OpenAIConfigForm(
                ENABLE_OPENAI_API=True,
                OPENAI_API_BASE_URLS=[*openai.OPENAI_API_BASE_URLS, url],
                OPENAI_API_KEYS=[*keys, key],
                OPENAI_API_CONFIGS=openai.OPENAI_API_CONFIGS,
            )
        )
        return connections_of(OllamaConfigForm(), saved_openai)[-1]

    async def remove_connection(self, url: str) -> Connection:
        """Remove a URL; NotFound when it is not a connection."""
        found = await self.find_connection(url)
        if found is None:
            raise NotFound(404, f"{clean_url(url)} is not a connection", "GET", "/ollama/config")
        if found.kind == "ollama":
            ollama = await self.ollama_config()
            await self.update_ollama_config(
                OllamaConfigForm(
                    ENABLE_OLLAMA_API=ollama.ENABLE_OLLAMA_API,
                    OLLAMA_BASE_URLS=_without(ollama.OLLAMA_BASE_URLS, found.index),
                    OLLAMA_API_CONFIGS=_reindex(ollama.OLLAMA_API_CONFIGS, found.index),
                )
            )
            return found
        openai = await self.openai_config()
        keys = _pad(openai.OPENAI_API_KEYS, len(openai.OPENAI_API_BASE_URLS))
        await self.update_openai_config(
            OpenAIConfigForm(
                ENABLE_OPENAI_API=openai.ENABLE_OPENAI_API,
                OPENAI_API_BASE_URLS=_without(openai.OPENAI_API_BASE_URLS, found.index),
                OPENAI_API_KEYS=_without(keys, found.index),
                OPENAI_API_CONFIGS=_reindex(openai.OPENAI_API_CONFIGS, found.index),
            )
        )
        return found


def connections_of(ollama: OllamaConfigForm, openai: OpenAIConfigForm) -> list[Connection]:
    """Every configured URL, Ollama's first, in index order."""
    out: list[Connection] = []
    for index, url in enumerate(ollama.OLLAMA_BASE_URLS):
        options = _options(ollama.OLLAMA_API_CONFIGS, index)
        out.append(
            Connection(
                kind="ollama",
                index=index,
                url=url,
                key=str(options.get("key") or ""),
                enabled=bool(ollama.ENABLE_OLLAMA_API) and bool(options.get("enable", True)),
                prefix_id=str(options.get("prefix_id") or ""),
            )
        )
    keys = _pad(openai.OPENAI_API_KEYS, len(openai.OPENAI_API_BASE_URLS))
    for index, url in enumerate(openai.OPENAI_API_BASE_URLS):
        options = _options(openai.OPENAI_API_CONFIGS, index)
        out.append(
            Connection(
                kind="openai",
                index=index,
                url=url,
                key=keys[index],
                enabled=bool(openai.ENABLE_OPENAI_API) and bool(options.get("enable", True)),
                prefix_id=str(options.get("prefix_id") or ""),
            )
        )
    return out


def _options(configs: dict[str, Any], index: int) -> dict[str, Any]:
    value = configs.get(str(index))
    return value if isinstance(value, dict) else {}


def _pad(keys: list[str], count: int) -> list[str]:
    return (list(keys) + [""] * count)[:count]


def _without(items: list[str], index: int) -> list[str]:
    return [item for i, item in enumerate(items) if i != index]


def _reindex(configs: dict[str, Any], removed: int) -> dict[str, Any]:
    """Per-URL configs are keyed by URL index: the ones after the removed URL move down."""
    out: dict[str, Any] = {}
    for key, value in configs.items():
        if not key.isdigit():
            out[key] = value  # keyed by URL (older Open WebUI): unaffected
        elif int(key) < removed:
            out[key] = value
        elif int(key) > removed:
            out[str(int(key) - 1)] = value
    return out
