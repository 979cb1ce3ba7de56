"""RagEngine: the embedder, the batcher, the index and the bounded thread pools, made on first
use so that a daemon nobody asks about documents never loads lancedb or a model."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from webui_daemon.rag.batcher import EmbedBatcher
from webui_daemon.rag.embedders import Embedder, EmbeddingConfig, make_embedder
from webui_daemon.rag.index import LanceIndex
from webui_daemon.rag.memory_index import MemoryIndex

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
    ) -> None:
        self.index_dir = index_dir
        self.idle_unload_s = idle_unload_s
        self._idle_watch: asyncio.Task[None] | None = None
        self.embedding = embedding
        self.ann_min_rows = ann_min_rows
        # Parsing and chunking (pure Python, holds the GIL): a small pool, so a big ingest
        # leaves the event loop its share of the CPU.
        self.parse_pool = ThreadPoolExecutor(max(1, parse_workers), "webui-parse")
        # One thread embeds documents batch by batch; queries get their own thread so they
        # never wait behind an ingest batch; LanceDB calls (mostly native, GIL released) a few.
        self._document_pool = ThreadPoolExecutor(1, "webui-embed")
        self._query_pool = ThreadPoolExecutor(1, "webui-query")
        self._index_pool = ThreadPoolExecutor(4, "webui-index")
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
            self._embedder = make_embedder(self.embedding, self._document_pool, self._query_pool)
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
                    self.index_dir, self.key, self._index_pool, ann_min_rows=self.ann_min_rows
                )
                await index.open()
                self._index = index
            return self._index

    @property
    def memory_index(self) -> MemoryIndex:
        """Users' memory vectors (under `index_dir/memories`, a folder per embedding model)."""
        if self._memory_index is None or self._memory_index.key != self.key:
            self._memory_index = MemoryIndex(
                self.index_dir / "memories", self.key, self._index_pool
            )
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
        """Unload a local embedding model nobody used for `idle_unload_s` (0: never), so a
        daemon that ingested once goes back towards its idle size."""
        if self.idle_unload_s > 0 and self._idle_watch is None:
            self._idle_watch = asyncio.create_task(self._watch_idle(), name="webui-embed-idle")

    async def _watch_idle(self) -> None:
        period = min(30.0, max(0.2, self.idle_unload_s / 4))
        while True:
            await asyncio.sleep(period)
            unload = getattr(self._embedder, "unload_if_idle", None)
            if unload is None:
                continue
            loop = asyncio.get_running_loop()
            # On the document thread, so it never races a batch being embedded.
            if await loop.run_in_executor(self._document_pool, unload, self.idle_unload_s):
                log.info("embedding model unloaded after %.0f s idle", self.idle_unload_s)

    async def _close_embedder(self) -> None:
        if self._batcher is not None:
            await self._batcher.aclose()
            self._batcher = None
        if self._embedder is not None:
            await self._embedder.aclose()
            self._embedder = None

    async def aclose(self) -> None:
        if self._idle_watch is not None:
            self._idle_watch.cancel()
            self._idle_watch = None
        await self._close_embedder()
        if self._index is not None:
            await self._index.aclose()
            self._index = None
        if self._memory_index is not None:
            await self._memory_index.aclose()
            self._memory_index = None
        for pool in (self.parse_pool, self._document_pool, self._query_pool, self._index_pool):
            pool.shutdown(wait=False, cancel_futures=True)
