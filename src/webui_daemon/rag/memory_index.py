"""MemoryIndex: users' memory vectors as the daemon sees them (async). One small LanceDB table
per user (Open WebUI's collection `user-memory-{user_id}`) in a folder per embedding model, so
that vectors of two models never meet; the tables live in the knowledge worker process
(`memory_table.MemoryTables`) and each call goes to the backend.

A user's table holds a few hundred rows: it is read whole (`vectors`) and searched by the caller
with one matrix product, which is exact and far faster than a query through LanceDB.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webui_daemon.rag.backends import Backend, MemoryStore
from webui_daemon.rag.memory_table import collection_name

if TYPE_CHECKING:
    from webui_daemon.rag.embedders import Vectors

__all__ = ["MemoryIndex", "collection_name"]


class MemoryIndex:
    def __init__(self, root: Path, embedding_key: str, backend: Backend) -> None:
        folder = hashlib.sha1(embedding_key.encode()).hexdigest()[:16]  # noqa: S324
        self.path = root / folder
        self.key = embedding_key
        self._store = MemoryStore(self.path)
        self._backend = backend

    async def _call(self, method: str, *args: Any) -> Any:
        return await self._backend.call(self._store, method, *args)

    async def vectors(self, user_id: str) -> tuple[list[str], Vectors | None]:
        """Every memory id of the user with its vector (rows of the matrix, same order)."""
        found: tuple[list[str], Vectors | None] = await self._call("vectors", user_id)
        return found

    async def upsert(
        self, user_id: str, ids: Sequence[str], texts: Sequence[str], vectors: Vectors
    ) -> None:
        """Add or replace these memories' vectors."""
        if ids:
            await self._call("upsert", user_id, list(ids), list(texts), vectors)

    async def replace(
        self, user_id: str, ids: Sequence[str], texts: Sequence[str], vectors: Vectors | None
    ) -> None:
        """The user's table holds exactly these vectors (Open WebUI's reset: a re-index)."""
        await self._call("replace", user_id, list(ids), list(texts), vectors)

    async def delete(self, user_id: str, ids: Sequence[str]) -> None:
        if ids:
            await self._call("delete", user_id, list(ids))

    async def drop(self, user_id: str) -> None:
        """Delete the user's table (all their memory vectors)."""
        await self._call("drop", user_id)

    async def aclose(self) -> None:
        await self._backend.release(self._store)
