"""Provider connections: environment defaults, admin changes saved in the database, verify.

As with the other admin settings (and Open WebUI 0.12's persistent config), only what an admin
saved is stored: until then the environment decides, and once saved, the database wins over
the environment for that provider kind. The daemon logs one line at start for each kind whose
environment settings are overridden that way, and `states()` shows every connection's origin.
With `persistent=False` (ENABLE_PERSISTENT_CONFIG=false) nothing stored is read or written:
the environment always wins and admin changes last until the daemon stops.
"""

import asyncio
import logging
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
from webui_daemon.schemas.connections import (
    ConnectionsState,
    ConnectionState,
    OllamaConfigForm,
    OpenAIConfigForm,
)
from webui_daemon.services import errors
from webui_daemon.storage.connections import ConnectionConfigRow, ConnectionRepo

log = logging.getLogger(__name__)

# The variables that name each kind's URLs, as the start-up line and `webui status` say them.
URL_VARIABLES: dict[Kind, str] = {
    "ollama": "OLLAMA_BASE_URL(S)",
    "openai": "OPENAI_API_BASE_URL(S)",
}


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
        persistent: bool = True,
    ) -> None:
        self._repo = repo
        self._persistent = persistent
        self._defaults = dict(defaults)
        self.env_overridden: dict[str, str] = {}
        self._catalog = catalog
        self._ollama = ollama
        self._openai = openai
        self._probe_timeout = probe_timeout
        self._capacity = capacity
        self.current: dict[Kind, ProviderConfig] = dict(defaults)

    async def load(self) -> None:
        for kind in ("ollama", "openai") if self._persistent else ():
            row = await self._repo.get(kind)
            if row is not None:
                self.current[kind] = ProviderConfig(
                    kind=kind,
                    enabled=row.enabled,
                    urls=row.urls,
                    keys=pad_keys(row.urls, row.api_keys) if kind == "openai" else [],
                    configs=row.configs,
                    origin="stored",
                )
                self._note_overridden(self._defaults[kind], self.current[kind])
        self._apply()

    def _note_overridden(self, env: ProviderConfig, stored: ProviderConfig) -> None:
        """One log line when environment settings are not used because saved ones win."""
        if env.origin != "env":
            return
        missing = [u for u in env.urls if u not in stored.urls]
        off = env.enabled and not stored.enabled
        if not missing and not off:
            return
        name = URL_VARIABLES[env.kind]
        self.env_overridden[name] = ";".join(missing or env.urls)
        in_use = ", ".join(stored.urls) if stored.enabled and stored.urls else "none"
        what = f"{', '.join(missing)} is not used" if missing else "its connections are off"
        log.warning(
            "%s from the environment: %s, because %s connections saved by an admin win "
            "(in use: %s); `webui connections add URL` adds one, ENABLE_PERSISTENT_CONFIG=false "
            "makes the environment win",
            name,
            what,
            env.kind,
            in_use,
        )

    def _apply(self) -> None:
        every = self.enabled_connections("ollama") + self.enabled_connections("openai")
        self._catalog.configure(every, self._probe_timeout)

    def enabled(self, kind: Kind) -> bool:
        return self.current[kind].enabled

    async def _save(self, config: ProviderConfig) -> None:
        if self._persistent:
            await self._repo.save(
                ConnectionConfigRow(
                    provider=config.kind,
                    enabled=config.enabled,
                    urls=config.urls,
                    api_keys=config.keys,
                    configs=config.configs,
                )
            )
        config.origin = "stored"
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

    # ---- state ------------------------------------------------------------------------------

    async def states(self) -> ConnectionsState:
        """Every configured URL with its origin, health and model count. Lists the models
        first unless a listing is cached (a dead node costs at most the list timeout once)."""
        await self._catalog.snapshot(allow_stale=True)
        enabled = {c.node for k in ("ollama", "openai") for c in self.enabled_connections(k)}
        out: list[ConnectionState] = []
        for kind in ("ollama", "openai"):
            config = self.current[kind]
            for idx, url in enumerate(config.urls):
                node = Connection(kind=kind, idx=idx, url=url).node
                on = node in enabled
                reason = self._catalog.down_reason(node) if on else None
                out.append(
                    ConnectionState(
                        type=kind,
                        idx=idx,
                        url=url,
                        enabled=on,
                        origin=config.origin,
                        health="off" if not on else "down" if reason else "up",
                        reason=reason,
                        models=self._catalog.listed_count(node) if on else None,
                    )
                )
        return ConnectionsState(
            connections=out,
            persistent_config=self._persistent,
            env_overridden=self.env_overridden,
        )

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
