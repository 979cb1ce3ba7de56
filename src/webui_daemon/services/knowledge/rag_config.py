"""Retrieval settings an admin can change at run time: environment defaults overlaid by the values
saved through /api/v1/retrieval/config/update and /embedding/update (persistent config)."""

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from webui_daemon.rag.embedders import DEFAULT_MODEL, EmbeddingConfig
from webui_daemon.storage.config import ConfigRepo

_PREFIX = "rag."
DEFAULT_OLLAMA_URL = "http://localhost:11434"
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"


@dataclass(slots=True)
class RagConfig:
    template: str = ""
    top_k: int = 3
    top_k_reranker: int = 3
    relevance_threshold: float = 0.0
    hybrid: bool = False
    hybrid_bm25_weight: float = 0.5
    full_context: bool = False
    bypass_embedding: bool = False
    system_context: bool = False
    chunk_size: int = 1000
    chunk_overlap: int = 100
    markdown_header_split: bool = True
    file_max_size_mb: int | None = None
    file_max_count: int | None = None
    embedding_engine: str = ""
    embedding_model: str = DEFAULT_MODEL
    embedding_batch_size: int = 16
    ollama_url: str = DEFAULT_OLLAMA_URL
    ollama_key: str = ""
    openai_url: str = DEFAULT_OPENAI_URL
    openai_key: str = ""
    query_prefix: str = ""
    content_prefix: str = ""

    @property
    def chunking_key(self) -> str:
        return f"{self.chunk_size}/{self.chunk_overlap}/{int(self.markdown_header_split)}"


@dataclass(frozen=True, slots=True)
class LocalModel:
    """Settings of the local embedder that only the environment sets."""

    model_path: Path | None = None
    cache_dir: Path | None = None
    threads: int | None = None


def index_key(config: RagConfig) -> str:
    """What a file's index rows depend on: the vector space, then how the text was chunked.
    Only the first part going stale forces a re-index; both must match to share rows."""
    return f"{embedding_config(config, LocalModel()).key}|{config.chunking_key}"


def embedding_part(key: str | None) -> str:
    return (key or "").split("|", 1)[0]


def embedding_config(config: RagConfig, local: LocalModel) -> EmbeddingConfig:
    return EmbeddingConfig(
        engine=config.embedding_engine,
        model=config.embedding_model or DEFAULT_MODEL,
        batch_size=max(1, config.embedding_batch_size),
        model_path=local.model_path,
        cache_dir=local.cache_dir,
        threads=local.threads,
        ollama_url=config.ollama_url or DEFAULT_OLLAMA_URL,
        ollama_key=config.ollama_key,
        openai_url=config.openai_url or DEFAULT_OPENAI_URL,
        openai_key=config.openai_key,
        query_prefix=config.query_prefix,
        content_prefix=config.content_prefix,
    )


class RagConfigService:
    def __init__(self, repo: ConfigRepo, defaults: RagConfig) -> None:
        self._repo = repo
        self.current = defaults

    async def load(self) -> None:
        stored = await self._repo.all()
        for f in fields(RagConfig):
            key = _PREFIX + f.name
            if key in stored:
                setattr(self.current, f.name, stored[key])

    async def update(self, **values: Any) -> RagConfig:
        known = {f.name for f in fields(RagConfig)}
        values = {k: v for k, v in values.items() if k in known}
        candidate = replace(self.current, **values)
        if candidate.chunk_size <= 0 or not 0 <= candidate.chunk_overlap < candidate.chunk_size:
            raise ValueError("CHUNK_OVERLAP must be between 0 and CHUNK_SIZE - 1")
        if not 0.0 <= candidate.hybrid_bm25_weight <= 1.0:
            raise ValueError("the BM25 weight must lie between 0 and 1")
        if candidate.top_k <= 0 or candidate.top_k_reranker <= 0:
            raise ValueError("TOP_K must be positive")
        if values:
            await self._repo.set_many({_PREFIX + k: v for k, v in values.items()})
        self.current = candidate
        return self.current
