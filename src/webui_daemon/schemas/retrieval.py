"""Wire models of /api/v1/retrieval: queries, processing, admin configuration."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class QueryDocForm(BaseModel):
    collection_name: str
    query: str = Field(max_length=20_000)
    k: int | None = Field(default=None, gt=0, le=1000)
    k_reranker: int | None = Field(default=None, gt=0, le=1000)
    r: float | None = None
    hybrid: bool | None = None
    hybrid_bm25_weight: float | None = Field(default=None, ge=0.0, le=1.0)


class QueryCollectionsForm(BaseModel):
    collection_names: list[str] = Field(max_length=10_000)
    query: str = Field(max_length=20_000)
    k: int | None = Field(default=None, gt=0, le=1000)
    k_reranker: int | None = Field(default=None, gt=0, le=1000)
    r: float | None = None
    hybrid: bool | None = None
    hybrid_bm25_weight: float | None = Field(default=None, ge=0.0, le=1.0)
    enable_enriched_texts: bool | None = None


class QueryResult(BaseModel):
    """Chroma's shape: one inner list per query (we run one). [0.12] sends no `ids`."""

    ids: list[list[str]] = Field(default_factory=list)
    documents: list[list[str]]
    metadatas: list[list[dict[str, Any]]]
    distances: list[list[float]]


class ProcessTextForm(BaseModel):
    name: str = Field(default="", max_length=1000)
    content: str
    collection_name: str | None = Field(default=None, max_length=1000)


class ProcessFileForm(BaseModel):
    file_id: str
    content: str | None = None
    collection_name: str | None = None


class ProcessResponse(BaseModel):
    status: bool = True
    collection_name: str
    filename: str | None = None
    content: str | None = None


class RetrievalConfig(BaseModel):
    """Open WebUI 0.12's flat, upper-case keys. On update, absent keys stay as they are."""

    model_config = ConfigDict(extra="allow")

    status: bool | None = None
    RAG_TEMPLATE: str | None = None
    # Bounded: they reach LanceDB and the chunker, which take 64-bit numbers at most.
    TOP_K: int | None = Field(default=None, gt=0, le=1000)
    TOP_K_RERANKER: int | None = Field(default=None, gt=0, le=1000)
    RELEVANCE_THRESHOLD: float | None = None
    ENABLE_RAG_HYBRID_SEARCH: bool | None = None
    HYBRID_BM25_WEIGHT: float | None = Field(default=None, ge=0.0, le=1.0)
    RAG_FULL_CONTEXT: bool | None = None
    BYPASS_EMBEDDING_AND_RETRIEVAL: bool | None = None
    RAG_SYSTEM_CONTEXT: bool | None = None
    CHUNK_SIZE: int | None = Field(default=None, gt=0, le=1_000_000)
    CHUNK_OVERLAP: int | None = Field(default=None, ge=0, le=1_000_000)
    TEXT_SPLITTER: str | None = None
    ENABLE_MARKDOWN_HEADER_TEXT_SPLITTER: bool | None = None
    CONTENT_EXTRACTION_ENGINE: str | None = None
    FILE_MAX_SIZE: int | None = Field(default=None, ge=0, le=1_000_000)  # MB
    FILE_MAX_COUNT: int | None = Field(default=None, ge=0, le=1_000_000)
    RAG_EMBEDDING_ENGINE: str | None = None
    RAG_EMBEDDING_MODEL: str | None = None


class EndpointConfig(BaseModel):
    url: str = ""
    key: str = ""


class EmbeddingConfigForm(BaseModel):
    """GET /embedding answers with this shape; POST /embedding/update takes it."""

    model_config = ConfigDict(extra="allow")

    status: bool | None = None
    RAG_EMBEDDING_ENGINE: str | None = None
    RAG_EMBEDDING_MODEL: str | None = None
    RAG_EMBEDDING_BATCH_SIZE: int | None = Field(default=None, gt=0)
    openai_config: EndpointConfig | None = None
    ollama_config: EndpointConfig | None = None
