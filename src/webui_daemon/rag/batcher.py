"""EmbedBatcher: packs the chunks of concurrent ingest jobs into full batches, one at a time.

Many small files would otherwise each send a batch of one or two chunks; packing keeps the model
busy with full batches. Requests are served first come, first served, so files finish (and
become searchable) in the order they started. A cancelled request is dropped from the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from webui_daemon.rag.embedders import Embedder

if TYPE_CHECKING:
    from webui_daemon.rag.embedders import Vectors


@dataclass(eq=False)
class _Request:
    texts: Sequence[str]
    future: asyncio.Future[Vectors]
    taken: int = 0
    parts: list[tuple[int, Vectors]] = field(default_factory=list)
    filled: int = 0


class EmbedBatcher:
    def __init__(self, embedder: Embedder, batch_size: int) -> None:
        self.embedder = embedder
        self.batch_size = max(1, batch_size)
        self._queue: deque[_Request] = deque()
        self._worker: asyncio.Task[None] | None = None

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            raise ValueError("nothing to embed")
        request = _Request(texts, asyncio.get_running_loop().create_future())
        self._queue.append(request)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="webui-embed-batcher")
        return await request.future

    def _next_batch(self) -> tuple[list[str], list[tuple[_Request, int, int]]]:
        texts: list[str] = []
        spans: list[tuple[_Request, int, int]] = []
        while self._queue and len(texts) < self.batch_size:
            request = self._queue[0]
            if request.future.done():  # cancelled by its job
                self._queue.popleft()
                continue
            take = min(self.batch_size - len(texts), len(request.texts) - request.taken)
            start = request.taken
            spans.append((request, start, start + take))
            texts.extend(request.texts[start : start + take])
            request.taken += take
            if request.taken == len(request.texts):
                self._queue.popleft()
        return texts, spans

    async def _run(self) -> None:
        import numpy as np

        while True:
            texts, spans = self._next_batch()
            if not texts:
                return
            try:
                vectors = await self.embedder.embed_documents(texts)
            except Exception as exc:
                for request, _, _ in spans:
                    if not request.future.done():
                        request.future.set_exception(exc)
                    with contextlib.suppress(ValueError):
                        self._queue.remove(request)
                continue
            offset = 0
            for request, start, end in spans:
                count = end - start
                request.parts.append((start, vectors[offset : offset + count]))
                offset += count
                request.filled += count
                if request.filled == len(request.texts) and not request.future.done():
                    request.parts.sort(key=lambda part: part[0])
                    request.future.set_result(np.concatenate([p for _, p in request.parts]))

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
        for request in self._queue:
            if not request.future.done():
                request.future.cancel()
        self._queue.clear()
