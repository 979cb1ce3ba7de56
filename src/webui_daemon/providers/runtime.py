"""ProviderRuntime: the upstream machinery one daemon owns (HTTP client, node pool, catalog)."""

import asyncio
from dataclasses import dataclass, field

from webui_daemon.providers.base import Kind, Provider
from webui_daemon.providers.catalog import Catalog
from webui_daemon.providers.http import HttpClient
from webui_daemon.providers.ollama import OllamaProvider
from webui_daemon.providers.openai import OpenAIProvider
from webui_daemon.providers.router import NodePool

# Build the HTTP client this long after start-up: out of the way of the first /health.
WARM_DELAY_S = 0.5


@dataclass(slots=True)
class ProviderRuntime:
    http: HttpClient
    pool: NodePool
    catalog: Catalog
    ollama: OllamaProvider
    openai: OpenAIProvider
    _warm: "asyncio.Task[None] | None" = field(default=None)

    @classmethod
    def build(
        cls,
        *,
        connect_timeout: float,
        list_timeout: float,
        cache_ttl: float,
        retry_after: float,
    ) -> "ProviderRuntime":
        http = HttpClient(connect_timeout=connect_timeout)
        pool = NodePool(retry_after=retry_after, probe_timeout=list_timeout)
        ollama = OllamaProvider(http, list_timeout=list_timeout)
        openai = OpenAIProvider(http, list_timeout=list_timeout)
        catalog = Catalog({"ollama": ollama, "openai": openai}, pool, ttl=cache_ttl)
        return cls(http, pool, catalog, ollama, openai)

    @property
    def providers(self) -> dict[Kind, Provider]:
        return {"ollama": self.ollama, "openai": self.openai}

    def start(self) -> None:
        async def warm() -> None:
            await asyncio.sleep(WARM_DELAY_S)
            await self.http.warm()

        self._warm = asyncio.get_running_loop().create_task(warm())

    async def aclose(self) -> None:
        if self._warm is not None:
            self._warm.cancel()
            await asyncio.gather(self._warm, return_exceptions=True)
        await self.catalog.aclose()
        await self.pool.aclose()
        await self.http.aclose()
