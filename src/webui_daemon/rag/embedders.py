"""Embedders: one protocol, a local fastembed model (default) and providers' embedding endpoints.

fastembed, onnxruntime and numpy are imported on first use, never at daemon start-up. Local
inference runs on a backend (`rag.backends`: the knowledge worker process in the daemon), one
lane for documents and one for queries; vectors come back L2-normalised as float32 rows.
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx
    import numpy as np
    from numpy.typing import NDArray

    from webui_daemon.rag.backends import Backend

    Vectors = NDArray[np.float32]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class EmbeddingError(Exception):
    """The embedding model could not be loaded or the endpoint failed; the message says why."""


class Embedder(Protocol):
    """Turns texts into unit vectors. `key` names the vector space: rows built with one key are
    never searched with another."""

    @property
    def key(self) -> str: ...

    async def embed_documents(self, texts: Sequence[str]) -> Vectors: ...

    async def embed_query(self, text: str) -> Vectors: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class EmbeddingConfig:
    engine: str = ""  # "" (local fastembed), "ollama" or "openai"
    model: str = DEFAULT_MODEL
    batch_size: int = 16
    model_path: Path | None = None  # a local model folder for fastembed (no download)
    cache_dir: Path | None = None  # where fastembed keeps models it downloads
    threads: int | None = None  # onnxruntime threads; None lets it use every core
    ollama_url: str = "http://localhost:11434"
    ollama_key: str = ""
    openai_url: str = "https://api.openai.com/v1"
    openai_key: str = ""
    query_prefix: str = ""
    content_prefix: str = ""

    @property
    def key(self) -> str:
        return f"{self.engine or 'fastembed'}:{self.model}"


def normalise(rows: Any) -> Vectors:
    import numpy as np

    array = np.asarray(rows, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vectors = array / norms
    return result


def release_freed_memory() -> None:
    """Ask glibc to give freed heap pages back to the system (no-op elsewhere): without it a
    dropped model's memory stays in the process's RSS."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass(frozen=True, slots=True)
class ModelStore:
    """The store (see `rag.backends`) of a local fastembed model: a `FastEmbedModel`."""

    config: EmbeddingConfig

    def build(self) -> FastEmbedModel:
        return FastEmbedModel(self.config)


class FastEmbedModel:
    """A fastembed model, loaded on its first embedding (synchronous: it runs on a backend's
    lanes, in the knowledge worker process)."""

    def __init__(self, config: EmbeddingConfig) -> None:
        self._config = config
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from fastembed import TextEmbedding

                    path = self._config.model_path
                    self._model = TextEmbedding(
                        self._config.model,
                        specific_model_path=str(path) if path else None,
                        cache_dir=str(self._config.cache_dir) if self._config.cache_dir else None,
                        threads=self._config.threads,
                        # Without onnxruntime's arena the memory of a big batch goes back
                        # after it (same speed here): an idle worker stays small.
                        enable_cpu_mem_arena=False,
                    )
                except Exception as exc:  # fastembed raises bare ValueErrors and OSErrors
                    raise EmbeddingError(
                        f"cannot load embedding model {self._config.model}: {exc}"
                    ) from exc
            return self._model

    def embed(self, texts: list[str]) -> Vectors:
        model = self._load()
        return normalise(list(model.embed(texts, batch_size=max(1, len(texts)))))


class LocalEmbedder:
    """The local fastembed model through a backend: documents on the backend's document lane,
    queries on their own lane, so a query never waits behind an ingest batch."""

    def __init__(self, config: EmbeddingConfig, backend: Backend) -> None:
        self._config = config
        self._backend = backend
        self._store = ModelStore(config)

    @property
    def key(self) -> str:
        return self._config.key

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        prefix = self._config.content_prefix
        batch = [prefix + t for t in texts]
        result: Vectors = await self._backend.call(self._store, "embed", batch, lane="documents")
        return result

    async def embed_query(self, text: str) -> Vectors:
        batch = [self._config.query_prefix + text]
        result: Vectors = await self._backend.call(self._store, "embed", batch, lane="queries")
        return result

    async def aclose(self) -> None:
        await self._backend.release(self._store)


class _HTTPEmbedder(ABC):
    """Shared plumbing of the provider embedders: one httpx client, errors as EmbeddingError."""

    def __init__(self, config: EmbeddingConfig) -> None:
        self._config = config
        self._client: httpx.AsyncClient | None = None

    @property
    def key(self) -> str:
        return self._config.key

    def _http(self) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(120, connect=10))
        return self._client

    async def _post(self, url: str, key: str, body: dict[str, Any]) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            response = await self._http().post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"embedding endpoint {url} unreachable: {exc}") from exc
        if response.status_code >= 400:
            raise EmbeddingError(
                f"embedding endpoint {url} answered {response.status_code}: {response.text[:200]}"
            )
        return response.json()

    @abstractmethod
    async def _embed(self, texts: list[str]) -> Vectors:
        """One request to the provider's embedding endpoint (Ollama's or OpenAI's shape)."""

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return await self._embed([self._config.content_prefix + t for t in texts])

    async def embed_query(self, text: str) -> Vectors:
        return await self._embed([self._config.query_prefix + text])

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class OllamaEmbedder(_HTTPEmbedder):
    async def _embed(self, texts: list[str]) -> Vectors:
        url = self._config.ollama_url.rstrip("/") + "/api/embed"
        data = await self._post(
            url, self._config.ollama_key, {"model": self._config.model, "input": texts}
        )
        try:
            rows = data["embeddings"]
        except (KeyError, TypeError) as exc:
            raise EmbeddingError(f"unexpected answer from {url}") from exc
        return normalise(rows)


class OpenAIEmbedder(_HTTPEmbedder):
    async def _embed(self, texts: list[str]) -> Vectors:
        url = self._config.openai_url.rstrip("/") + "/embeddings"
        data = await self._post(
            url, self._config.openai_key, {"model": self._config.model, "input": texts}
        )
        try:
            items = sorted(data["data"], key=lambda item: item.get("index", 0))
            rows = [item["embedding"] for item in items]
        except (KeyError, TypeError) as exc:
            raise EmbeddingError(f"unexpected answer from {url}") from exc
        return normalise(rows)


def make_embedder(config: EmbeddingConfig, backend: Backend) -> Embedder:
    if config.engine == "ollama":
        return OllamaEmbedder(config)
    if config.engine == "openai":
        return OpenAIEmbedder(config)
    if config.engine in ("", "fastembed", "sentence-transformers"):
        return LocalEmbedder(config, backend)
    raise EmbeddingError(f"unknown embedding engine {config.engine!r} (use '', ollama or openai)")
