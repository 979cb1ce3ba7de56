"""ProviderRuntime: the upstream machinery one daemon owns (HTTP client, node pool, catalog)."""

from dataclasses import dataclass

from webui_daemon.providers.base import Kind, Provider
from webui_daemon.providers.catalog import Catalog
from webui_daemon.providers.http import HttpClient, TransportName
from webui_daemon.providers.ollama import OllamaProvider
from webui_daemon.providers.openai import OpenAIProvider
from webui_daemon.providers.router import NodePool


@dataclass(slots=True)
class ProviderRuntime:
    http: HttpClient
    pool: NodePool
    catalog: Catalog
    ollama: OllamaProvider
    openai: OpenAIProvider

    @classmethod
    def build(
        cls,
        *,
        connect_timeout: float,
        list_timeout: float,
        cache_ttl: float,
        retry_after: float,
        batch_s: float = 0.0,
        transport: TransportName = "lean",
    ) -> "ProviderRuntime":
        http = HttpClient(connect_timeout=connect_timeout, transport=transport)
        pool = NodePool(retry_after=retry_after, probe_timeout=list_timeout)
        ollama = OllamaProvider(http, list_timeout=list_timeout, batch_s=batch_s)
        openai = OpenAIProvider(http, list_timeout=list_timeout, batch_s=batch_s)
        catalog = Catalog({"ollama": ollama, "openai": openai}, pool, ttl=cache_ttl)
        return cls(http, pool, catalog, ollama, openai)

    @property
    def providers(self) -> dict[Kind, Provider]:
        return {"ollama": self.ollama, "openai": self.openai}

    async def aclose(self) -> None:
        await self.catalog.aclose()
        await self.pool.aclose()
        await self.http.aclose()
