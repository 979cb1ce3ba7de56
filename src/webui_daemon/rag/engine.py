"""RagEngine: the embedder, the batcher, the index and the parsing pool, made on first use so
that a daemon nobody asks about documents never starts the knowledge worker. The local model
and LanceDB live in that worker process (`rag.worker_client`), which stops when idle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from webui_daemon.rag.backends import Backend
from webui_daemon.rag.batcher import EmbedBatcher
from webui_daemon.rag.embedders import Embedder, EmbeddingConfig, make_embedder
from webui_daemon.rag.index import LanceIndex
from webui_daemon.rag.memory_index import MemoryIndex
from webui_daemon.rag.worker_client import WorkerBackend

log = logging.getLogger(__name__)


class RagEngine:
    def __init__(
        self,
        index_dir: Path,
        embedding: EmbeddingConfig,
        *,
        parse_workers: int = 2,
        ann_min_rows: int = 50_000,
        idle_unload_s: float = 0,
        backend: Backend | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.idle_unload_s = idle_unload_s
        self.embedding = embedding
        self.ann_min_rows = ann_min_rows
        # Parsing and chunking (pure Python, holds the GIL): a small pool, so a big ingest
        # leaves the event loop its share of the CPU.
        self.parse_pool = ThreadPoolExecutor(max(1, parse_workers), "webui-parse")
        # Embedding and LanceDB: in the knowledge worker (no idle stop until the loop runs).
        self.backend: Backend = backend or WorkerBackend()
        self._embedder: Embedder | None = None
        self._batcher: EmbedBatcher | None = None
        self._index: LanceIndex | None = None
        self._index_lock = asyncio.Lock()
        self._memory_index: MemoryIndex | None = None

    @property
    def key(self) -> str:
        return self.embedding.key

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.embedding, self.backend)
        return self._embedder

    @property
    def batcher(self) -> EmbedBatcher:
        if self._batcher is None:
            self._batcher = EmbedBatcher(self.embedder, self.embedding.batch_size)
        return self._batcher

    @property
    def current_index(self) -> LanceIndex | None:
        """The index if something already opened it (never opens it)."""
        return self._index

    async def index(self) -> LanceIndex:
        async with self._index_lock:
            if self._index is None:
                index = LanceIndex(
                    self.index_dir, self.key, self.backend, ann_min_rows=self.ann_min_rows
                )
                await index.open()
                self._index = index
            return self._index

    @property
    def memory_index(self) -> MemoryIndex:
        """Users' memory vectors (under `index_dir/memories`, a folder per embedding model)."""
        if self._memory_index is None or self._memory_index.key != self.key:
            self._memory_index = MemoryIndex(self.index_dir / "memories", self.key, self.backend)
        return self._memory_index

    async def reconfigure(self, embedding: EmbeddingConfig) -> bool:
        """Switch embedding settings; True when the vector space changed (re-index needed)."""
        changed = embedding.key != self.key
        await self._close_embedder()
        self.embedding = embedding
        if changed:
            async with self._index_lock:
                if self._index is not None:
                    await self._index.aclose()
                self._index = None
        return changed

    async def warm(self) -> None:
        """Import and load everything now (optional, after start-up) instead of on first use."""
        await self.index()
        embedder = self.embedder
        with contextlib.suppress(Exception):
            await embedder.embed_query("warm up")

    def start_idle_watch(self) -> None:
        """Stop the knowledge worker (the local model, LanceDB) once nobody used it for
        `idle_unload_s` (0: never), so a daemon that ingested once goes back to its idle
        size; the next use starts it again."""
        if isinstance(self.backend, WorkerBackend):
            self.backend.idle_exit_s = self.idle_unload_s

    async def _close_embedder(self) -> None:
        if self._batcher is not None:
            await self._batcher.aclose()
            self._batcher = None
        if self._embedder is not None:
            await self._embedder.aclose()
            self._embedder = None

    async def aclose(self) -> None:
        await self._close_embedder()
        if self._index is not None:
            await self._index.aclose()
            self._index = None
        if self._memory_index is not None:
            await self._memory_index.aclose()
            self._memory_index = None
        await self.backend.aclose()
        self.parse_pool.shutdown(wait=False, cancel_futures=True)
