"""LanceIndex: the knowledge index as the daemon sees it (async). The rows live in one LanceDB
table per embedding model (`chunk_table.ChunkTable`, in the knowledge worker process); this
facade names that table's store and sends each call to the backend.

A file's chunks are written in one `add` (one Lance commit), so a file is either fully indexed
or absent. Writes are serialised here (one lock); searches run concurrently with them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webui_daemon.rag.backends import Backend, ChunkStore, Lane
from webui_daemon.rag.chunking import Chunk
from webui_daemon.rag.records import Hit, table_name

if TYPE_CHECKING:
    from webui_daemon.rag.embedders import Vectors

log = logging.getLogger(__name__)


class LanceIndex:
    def __init__(
        self, path: Path, embedding_key: str, backend: Backend, *, ann_min_rows: int = 50_000
    ) -> None:
        self.path = path
        self.name = table_name(embedding_key)
        self._store = ChunkStore(path, embedding_key, ann_min_rows)
        self._backend = backend
        self._write_lock = asyncio.Lock()
        self._building = False
        self.writes_since_optimize = 0

    async def _call(self, method: str, *args: Any, lane: Lane = "index") -> Any:
        return await self._backend.call(self._store, method, *args, lane=lane)

    async def open(self) -> None:
        await self._call("open")

    async def drop_other_tables(self) -> list[str]:
        """Drop the tables of other embedding models (their files are re-indexed)."""
        async with self._write_lock:
            dropped: list[str] = await self._call("drop_others")
            return dropped

    # ---- writing -------------------------------------------------------------------------

    async def add(self, file_id: str, chunks: Sequence[Chunk], vectors: Vectors) -> None:
        if not chunks:
            return
        async with self._write_lock:
            await self._call("add", file_id, list(chunks), vectors)
            self.writes_since_optimize += 1

    async def delete_files(self, file_ids: Sequence[str]) -> None:
        if not file_ids:
            return
        async with self._write_lock:
            await self._call("delete", list(file_ids))
            self.writes_since_optimize += 1

    async def copy_file(self, source: str, target: str) -> int:
        """Index `target` with the rows of `source` (same bytes): no parsing, no embedding."""
        async with self._write_lock:
            count: int = await self._call("copy", source, target)
            self.writes_since_optimize += 1
            return count

    async def vectors_by_hash(self, file_id: str) -> dict[str, Any]:
        """Vectors of a file's current chunks, by chunk hash: re-indexing an edited file embeds
        only the chunks that changed."""
        found: dict[str, Any] = await self._call("vectors_by_hash", file_id)
        return found

    # ---- maintenance ---------------------------------------------------------------------

    async def count(self) -> int:
        rows: int = await self._call("count")
        return rows

    async def maintain(self) -> None:
        """Compact small writes and fold new rows into the indexes; build the ANN index once
        the table is big enough to need one (a brute-force scan is exact and fast below)."""
        if self._building:
            return
        self._building = True
        try:
            async with self._write_lock:
                self.writes_since_optimize = 0
                needs_ann = await self._call("optimize")
            if needs_ann:
                log.info("building the ANN index of %s", self.name)
                await self._call("build_ann")
        finally:
            self._building = False

    async def file_ids(self) -> set[str]:
        """Every file id with rows in the table (a column scan: for upkeep, not for queries)."""
        ids: set[str] = await self._call("file_ids")
        return ids

    # ---- searching -----------------------------------------------------------------------

    async def vector_search(
        self,
        query: Vectors,
        file_ids: Sequence[str] | None,
        limit: int,
        *,
        exact: bool,
        allowed_rows: int = 0,
    ) -> list[Hit]:
        """Nearest chunks among `file_ids` (None: all). `allowed_rows`: how many chunks those
        files hold, to choose between filtering before or after the lookup."""
        if file_ids is not None and not file_ids:
            return []
        ids = None if file_ids is None else list(file_ids)
        hits: list[Hit] = await self._call("vector_search", query, ids, limit, exact, allowed_rows)
        return hits

    async def text_search(
        self, query: str, file_ids: Sequence[str] | None, limit: int, *, allowed_rows: int = 0
    ) -> list[Hit]:
        """BM25 over the full-text index (stemmed, stop words removed)."""
        if (file_ids is not None and not file_ids) or not query.strip():
            return []
        ids = None if file_ids is None else list(file_ids)
        hits: list[Hit] = await self._call("text_search", query, ids, limit, allowed_rows)
        return hits

    async def file_chunks(self, file_id: str) -> list[Hit]:
        hits: list[Hit] = await self._call("file_chunks", file_id)
        return hits

    async def aclose(self) -> None:
        await self._backend.release(self._store)
