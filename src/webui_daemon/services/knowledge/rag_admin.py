"""Admin routes of /api/v1/retrieval: the retrieval config and the embedding config, in Open
WebUI 0.12's upper-case keys. Changing the embedding model re-indexes every file."""

import logging
from typing import Any

from webui_daemon.rag.engine import RagEngine
from webui_daemon.rag.template import DEFAULT_RAG_TEMPLATE
from webui_daemon.schemas.retrieval import EmbeddingConfigForm, EndpointConfig, RetrievalConfig
from webui_daemon.services import errors
from webui_daemon.services.knowledge.ingest import IngestService
from webui_daemon.services.knowledge.rag_config import (
    LocalModel,
    RagConfigService,
    embedding_config,
)

log = logging.getLogger(__name__)

# Wire key -> RagConfig field.
_CONFIG_KEYS = {
    "RAG_TEMPLATE": "template",
    "TOP_K": "top_k",
    "TOP_K_RERANKER": "top_k_reranker",
    "RELEVANCE_THRESHOLD": "relevance_threshold",
    "ENABLE_RAG_HYBRID_SEARCH": "hybrid",
    "HYBRID_BM25_WEIGHT": "hybrid_bm25_weight",
    "RAG_FULL_CONTEXT": "full_context",
    "BYPASS_EMBEDDING_AND_RETRIEVAL": "bypass_embedding",
    "RAG_SYSTEM_CONTEXT": "system_context",
    "CHUNK_SIZE": "chunk_size",
    "CHUNK_OVERLAP": "chunk_overlap",
    "ENABLE_MARKDOWN_HEADER_TEXT_SPLITTER": "markdown_header_split",
    "FILE_MAX_SIZE": "file_max_size_mb",
    "FILE_MAX_COUNT": "file_max_count",
}


class RagAdminService:
    def __init__(
        self,
        config: RagConfigService,
        engine: RagEngine,
        ingest: IngestService,
        local: LocalModel,
    ) -> None:
        self._config = config
        self._engine = engine
        self._ingest = ingest
        self._local = local

    def config(self) -> RetrievalConfig:
        c = self._config.current
        values: dict[str, Any] = {wire: getattr(c, name) for wire, name in _CONFIG_KEYS.items()}
        values["RAG_TEMPLATE"] = c.template or DEFAULT_RAG_TEMPLATE
        return RetrievalConfig(
            status=True,
            TEXT_SPLITTER="",
            CONTENT_EXTRACTION_ENGINE="",
            RAG_EMBEDDING_ENGINE=c.embedding_engine,
            RAG_EMBEDDING_MODEL=c.embedding_model,
            **values,
        )

    async def update_config(self, form: RetrievalConfig) -> RetrievalConfig:
        given = form.model_dump(exclude_unset=True)
        values = {name: given[wire] for wire, name in _CONFIG_KEYS.items() if wire in given}
        if values.get("template") == DEFAULT_RAG_TEMPLATE:
            values["template"] = ""
        # Sizes and counts may be cleared with null; other keys sent as null stay as they are.
        values = {
            k: v
            for k, v in values.items()
            if v is not None or k in ("file_max_size_mb", "file_max_count")
        }
        try:
            await self._config.update(**values)
        except ValueError as exc:
            raise errors.WebUIError(str(exc)) from exc
        return self.config()

    def embedding(self) -> EmbeddingConfigForm:
        c = self._config.current
        return EmbeddingConfigForm(
            status=True,
            RAG_EMBEDDING_ENGINE=c.embedding_engine,
            RAG_EMBEDDING_MODEL=c.embedding_model,
            RAG_EMBEDDING_BATCH_SIZE=c.embedding_batch_size,
            openai_config=EndpointConfig(url=c.openai_url, key=c.openai_key),
            ollama_config=EndpointConfig(url=c.ollama_url, key=c.ollama_key),
        )

    async def update_embedding(self, form: EmbeddingConfigForm) -> EmbeddingConfigForm:
        values: dict[str, Any] = {}
        if form.RAG_EMBEDDING_ENGINE is not None:
            engine = "" if form.RAG_EMBEDDING_ENGINE == "fastembed" else form.RAG_EMBEDDING_ENGINE
            if engine not in ("", "ollama", "openai"):
                raise errors.WebUIError(f"Unsupported embedding engine: {engine}")
            values["embedding_engine"] = engine
        if form.RAG_EMBEDDING_MODEL:
            values["embedding_model"] = form.RAG_EMBEDDING_MODEL
        if form.RAG_EMBEDDING_BATCH_SIZE is not None:
            values["embedding_batch_size"] = form.RAG_EMBEDDING_BATCH_SIZE
        if form.openai_config is not None:
            values["openai_url"] = form.openai_config.url
            values["openai_key"] = form.openai_config.key
        if form.ollama_config is not None:
            values["ollama_url"] = form.ollama_config.url
            values["ollama_key"] = form.ollama_config.key
        await self._config.update(**values)
        interrupted = await self._ingest.stop_all()
        changed = await self._engine.reconfigure(
            embedding_config(self._config.current, self._local)
        )
        for file_id in interrupted:
            await self._ingest.submit(file_id)
        if changed:
            log.info("embedding model changed to %s: re-indexing", self._engine.key)
            await self._ingest.resume()
        return self.embedding()
