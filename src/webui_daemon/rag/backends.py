"""Backends: where the knowledge index and the local embedding model run. The async facades
(`LanceIndex`, `MemoryIndex`, `LocalEmbedder`) name a store (a small picklable spec) and a
method; a backend makes the store's object on first use and runs the method on a lane.

Lanes keep the old thread layout: one thread embeds documents batch by batch, queries get
their own thread (a query never waits behind an ingest batch), LanceDB calls (mostly native,
GIL released) a few. `LocalBackend` runs them in this process; `worker_client.WorkerBackend`
runs them in the knowledge worker process (`rag.worker`), which uses `Registry` and `lanes`.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, Protocol

from webui_daemon.rag.embedders import EmbeddingError

Lane = Literal["documents", "queries", "index"]


class WorkerError(EmbeddingError):
    """The knowledge worker failed a request it could not answer (it stopped, or raised an
    error this process cannot rebuild); the message says why."""


class Store(Protocol):
    """A picklable, hashable name of an object a backend makes on first use."""

    def build(self) -> Any: ...

    def __hash__(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ChunkStore:
    """The knowledge chunks of one embedding model (`chunk_table.ChunkTable`)."""

    path: Path
    embedding_key: str
    ann_min_rows: int = 50_000

    def build(self) -> Any:
        from webui_daemon.rag.chunk_table import ChunkTable

        return ChunkTable(self.path, self.embedding_key, ann_min_rows=self.ann_min_rows)


@dataclass(frozen=True, slots=True)
class MemoryStore:
    """Users' memory tables of one embedding model (`memory_table.MemoryTables`)."""

    path: Path

    def build(self) -> Any:
        from webui_daemon.rag.memory_table import MemoryTables

        return MemoryTables(self.path)


class Registry:
    """The objects behind stores, made on first call; safe to use from several threads."""

    def __init__(self) -> None:
        self._objects: dict[Store, Any] = {}
        self._lock = threading.Lock()

    def call(self, store: Store, method: str, args: tuple[Any, ...]) -> Any:
        if method.startswith("_"):
            raise ValueError(f"not a public method: {method}")
        with self._lock:
            target = self._objects.get(store)
            if target is None:
                target = self._objects[store] = store.build()
        return getattr(target, method)(*args)

    def release(self, store: Store) -> None:
        """Forget the store's object (a model or connection nobody will ask for again)."""
        with self._lock:
            self._objects.pop(store, None)


def make_lanes(index_threads: int = 4) -> dict[str, ThreadPoolExecutor]:
    return {
        "documents": ThreadPoolExecutor(1, "webui-embed"),
        "queries": ThreadPoolExecutor(1, "webui-query"),
        "index": ThreadPoolExecutor(max(1, index_threads), "webui-index"),
    }


class Backend(Protocol):
    async def call(self, store: Store, method: str, *args: Any, lane: Lane = "index") -> Any:
        """Run `method(*args)` of the store's object on the lane; its result or its error."""
        ...

    async def release(self, store: Store) -> None: ...

    async def aclose(self) -> None: ...


class LocalBackend:
    """Everything in this process, on the lanes' thread pools (benchmarks and tools)."""

    def __init__(self, index_threads: int = 4) -> None:
        self._registry = Registry()
        self._lanes = make_lanes(index_threads)

    async def call(self, store: Store, method: str, *args: Any, lane: Lane = "index") -> Any:
        loop = asyncio.get_running_loop()
        run = partial(self._registry.call, store, method, args)
        return await loop.run_in_executor(self._lanes[lane], run)

    async def release(self, store: Store) -> None:
        self._registry.release(store)

    async def aclose(self) -> None:
        for pool in self._lanes.values():
            pool.shutdown(wait=False, cancel_futures=True)
