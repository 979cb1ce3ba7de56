"""Provider connections: environment defaults, admin changes saved in the database, verify.

As with the other admin settings, only what an admin saved is stored: until then the
environment decides, and once saved, the database wins over the environment.
"""

import asyncio
from collections.abc import Mapping
from typing import Any

from webui_daemon.providers.base import Connection, Kind, ProviderError, UpstreamStatus
from webui_daemon.providers.catalog import Catalog
from webui_daemon.providers.config import (
    DEFAULT_CAPACITY,
    ProviderConfig,
    clean_configs,
    clean_url,
    connections,
    pad_keys,
)
from webui_daemon.providers.ollama import OllamaProvider
from webui_daemon.providers.openai import OpenAIProvider
from webui_daemon.schemas.connections import OllamaConfigForm, OpenAIConfigForm
from webui_daemon.services import errors
from webui_daemon.storage.connections import ConnectionConfigRow, ConnectionRepo


def _urls(urls: list[str]) -> list[str]:
    cleaned = [clean_url(u) for u in urls]
    for url in cleaned:
        if not url.startswith(("http://", "https://")):
            raise errors.WebUIError(f"Not an http(s) URL: {url!r}")
    return cleaned


class ConnectionService:
    def __init__(
        self,
        repo: ConnectionRepo,
        catalog: Catalog,
        ollama: OllamaProvider,
        openai: OpenAIProvider,
        defaults: dict[Kind, ProviderConfig],
        *,
        probe_timeout: float,
        capacity: Mapping[Kind, int] = DEFAULT_CAPACITY,
    ) -> None:
        self._repo = repo
        self._catalog = catalog
        self._ollama = ollama
        self._openai = openai
        self._probe_timeout = probe_timeout
        self._capacity = capacity
        self.current: dict[Kind, ProviderConfig] = dict(defaults)

    async def load(self) -> None:
        for kind in ("ollama", "openai"):
            row = await self._repo.get(kind)
            if row is not None:
                self.current[kind] = ProviderConfig(
                    kind=kind,
                    enabled=row.enabled,
                    urls=row.urls,
                    keys=pad_keys(row.urls, row.api_keys) if kind == "openai" else [],
                    configs=row.configs,
                )
        self._apply()

    def _apply(self) -> None:
        every = self.enabled_connections("ollama") + self.enabled_connections("openai")
        self._catalog.configure(every, self._probe_timeout)

    def enabled(self, kind: Kind) -> bool:
        return self.current[kind].enabled

    async def _save(self, config: ProviderConfig) -> None:
        await self._repo.save(
            ConnectionConfigRow(
                provider=config.kind,
                enabled=config.enabled,
                urls=config.urls,
                api_keys=config.keys,
                configs=config.configs,
            )
        )
        self.current[config.kind] = config
        self._apply()

    # ---- Ollama -----------------------------------------------------------------------------

    def ollama_form(self) -> OllamaConfigForm:
        c = self.current["ollama"]
        return OllamaConfigForm(
            ENABLE_OLLAMA_API=c.enabled, OLLAMA_BASE_URLS=c.urls, OLLAMA_API_CONFIGS=c.configs
        )

    async def update_ollama(self, form: OllamaConfigForm) -> OllamaConfigForm:
        urls = _urls(form.OLLAMA_BASE_URLS)
        enabled = self.current["ollama"].enabled
        await self._save(
            ProviderConfig(
                kind="ollama",
                enabled=enabled if form.ENABLE_OLLAMA_API is None else form.ENABLE_OLLAMA_API,
                urls=urls,
                configs=clean_configs(form.OLLAMA_API_CONFIGS, urls),
            )
        )
        return self.ollama_form()

    # ---- OpenAI -----------------------------------------------------------------------------

    def openai_form(self) -> OpenAIConfigForm:
        c = self.current["openai"]
        return OpenAIConfigForm(
            ENABLE_OPENAI_API=c.enabled,
            OPENAI_API_BASE_URLS=c.urls,
            OPENAI_API_KEYS=c.keys,
            OPENAI_API_CONFIGS=c.configs,
        )

    async def update_openai(self, form: OpenAIConfigForm) -> OpenAIConfigForm:
        urls = _urls(form.OPENAI_API_BASE_URLS)
        enabled = self.current["openai"].enabled
        await self._save(
            ProviderConfig(
                kind="openai",
                enabled=enabled if form.ENABLE_OPENAI_API is None else form.ENABLE_OPENAI_API,
                urls=urls,
                keys=pad_keys(urls, form.OPENAI_API_KEYS),
                configs=clean_configs(form.OPENAI_API_CONFIGS, urls),
            )
        )
        return self.openai_form()

    def enabled_connections(self, kind: Kind) -> list[Connection]:
        return connections(self.current[kind], self._capacity)

    def connection(self, kind: Kind, idx: int) -> Connection:
        for conn in connections(self.current[kind], self._capacity):
            if conn.idx == idx:
                return conn
        raise errors.NotFound(f"No enabled {kind} connection has index {idx}.")

    async def models_of(self, kind: Kind, idx: int) -> list[dict[str, Any]]:
        """One connection's own model list, asked now (the admin `/{url_idx}` routes)."""
        conn = self.connection(kind, idx)
        provider = self._ollama if kind == "ollama" else self._openai
        try:
            return await provider.list_models(conn)
        except ProviderError as exc:
            raise _verify_error(exc) from exc

    async def ollama_version(self, idx: int | None = None) -> str | bool:
        """The lowest version across the enabled Ollama nodes; False when Ollama is off or no
        node answers (Open WebUI answers 500 for the latter). With `idx`, that node's own
        version (404 for no such node, 500 with the reason when it does not answer)."""
        if idx is not None:
            conn = self.connection("ollama", idx)
            try:
                return await self._ollama.version(conn, self._probe_timeout)
            except ProviderError as exc:
                raise _verify_error(exc) from exc
        every = self.enabled_connections("ollama")
        results = await asyncio.gather(
            *(self._ollama.version(c, self._probe_timeout) for c in every),
            return_exceptions=True,
        )
        versions = [r for r in results if isinstance(r, str) and r]
        return min(versions, key=_version_key) if versions else False

    # ---- verify -----------------------------------------------------------------------------

    async def verify(self, kind: Kind, url: str, key: str) -> Any:
        """Ask a connection before it is saved: Ollama's version, or the OpenAI model list."""
        url = _urls([url])[0]
        provider = self._ollama if kind == "ollama" else self._openai
        try:
            return await provider.verify(url, key, self._probe_timeout)
        except ProviderError as exc:
            raise _verify_error(exc) from exc


def _verify_error(exc: ProviderError) -> errors.UpstreamError:
    """Open WebUI answers 500 with what went wrong when it tests a connection."""
    if isinstance(exc, UpstreamStatus):
        body = exc.json()
        message = body.get("error") if isinstance(body, dict) else None
        if isinstance(message, dict):
            message = message.get("message")
        detail = f"External Error: {message}" if message else f"HTTP Error: {exc.status}"
    else:
        detail = f"Server Connection Error: {exc}"
    return errors.UpstreamError(500, {"detail": detail})


def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)
