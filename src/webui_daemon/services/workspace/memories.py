"""Memories (Open WebUI 0.12.4's `/api/v1/memories`): a user's own remembered facts, searched by
meaning, and the `<memory_context>` block they add to a chat's system prompt.

    rows = await memories.for_user(user)                     # 404 when memories are disabled,
    row = await memories.add(user, content, "user", None)  # 403 without features.memories
    result = await memories.query(user, "what do I like?", k=3)
    if memories.wanted(user, form.features):               # no I/O: the request or the setting
        messages = await memories.context(user, messages, preset_meta)

A write embeds first and then stores the row and its vector in one transaction: if embedding or
the vector write fails, no row remains. Each user's rows and vectors are kept in memory after
first use (dropped on their next write), so a chat with 1,000 memories pays one query embedding
and one matrix product, not a database read.
"""

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from webui_daemon.rag.embedders import EmbeddingError
from webui_daemon.rag.engine import RagEngine
from webui_daemon.rag.template import inject
from webui_daemon.schemas.completions import CompletionFeatures
from webui_daemon.security.permissions import Permissions
from webui_daemon.services import errors
from webui_daemon.services.knowledge.rag_config import RagConfigService
from webui_daemon.services.workspace import memory_text
from webui_daemon.storage.db import Database
from webui_daemon.storage.memories import MemoryRepo, MemoryRow
from webui_daemon.storage.rows import UserRow

if TYPE_CHECKING:
    from webui_daemon.rag.embedders import Vectors

log = logging.getLogger(__name__)

NOT_FOUND = "We could not find what you're looking for :/"
NO_MEMORIES = "No memories found for user"
NO_UPDATE = "No memory update provided"
MAX_PATH_CHARS = 1024
# Memories found by meaning for a chat (Open WebUI asks for 8).
CONTEXT_K = 8
# Users whose memories are kept in memory at once.
CACHED_USERS = 256


@dataclass(frozen=True, slots=True)
class MemorySettings:
    enabled: bool = True  # ENABLE_MEMORIES (Open WebUI: memories.enable)
    system_context: bool = True  # ENABLE_MEMORY_SYSTEM_CONTEXT: add them to chats
    user_char_limit: int = 2000  # MEMORIES_USER_CHAR_LIMIT
    context_char_limit: int = 2000  # MEMORIES_CONTEXT_CHAR_LIMIT
    max_chars: int = 10_000  # WEBUI_MEMORY_MAX_CHARS: the longest memory accepted


@dataclass(frozen=True, slots=True)
class _Loaded:
    """One user's memories and their vectors (matrix rows in `ids` order)."""

    key: str
    rows: list[MemoryRow]
    ids: list[str]
    matrix: "Vectors | None"


def memory_setting(user: UserRow, default: bool) -> bool:
    """The web UI's per-user switch (`settings.ui.memory`); unset, `default` (0.12's web UI
    then follows `enable_memories`)."""
    ui = (user.settings or {}).get("ui")
    value = ui.get("memory") if isinstance(ui, dict) else None
    return value if isinstance(value, bool) else default


class MemoryService:
    def __init__(
        self,
        db: Database,
        repo: MemoryRepo,
        engine: RagEngine,
        rag_config: RagConfigService,
        permissions: Callable[[UserRow], Awaitable[Permissions]],
        settings: MemorySettings,
    ) -> None:
        self._db = db
        self._repo = repo
        self._engine = engine
        self._rag_config = rag_config
        self._permissions = permissions
        self.settings = settings
        self._cache: OrderedDict[str, _Loaded] = OrderedDict()
        self._generation: dict[str, int] = {}
        self._lock = asyncio.Lock()  # vector writes (a row's and the self-healing ones)

    # ---- access ----------------------------------------------------------------------------

    async def _allowed(self, user: UserRow) -> bool:
        if user.role == "admin":
            return True
        return bool((await self._permissions(user)).get("features", {}).get("memories"))

    async def check(self, user: UserRow) -> None:
        """404 when memories are off (as Open WebUI), 403 without `features.memories`."""
        if not self.settings.enabled:
            raise errors.NotFound(NOT_FOUND)
        if not await self._allowed(user):
            raise errors.Forbidden(errors.ACCESS_PROHIBITED)

    # ---- CRUD ------------------------------------------------------------------------------

    async def for_user(self, user: UserRow) -> list[MemoryRow]:
        await self.check(user)
        return await self._repo.for_user(user.id)

    def _sized(self, content: str | None, path: str | None) -> None:
        limit = self.settings.max_chars
        if content is not None and len(content) > limit:
            raise errors.TooLarge(
                f"Memory content is too long: {len(content)} characters (limit {limit})."
            )
        if path is not None and len(path) > MAX_PATH_CHARS:
            raise errors.TooLarge(f"Memory path is too long (limit {MAX_PATH_CHARS} characters).")

    async def _embed(self, texts: Sequence[str]) -> "Vectors":
        try:
            return await self._engine.embedder.embed_documents(list(texts))
        except EmbeddingError as exc:
            raise errors.Unavailable(f"Embedding failed: {exc}") from exc

    async def add(
        self, user: UserRow, content: str, memory_type: str, path: str | None
    ) -> MemoryRow:
        await self.check(user)
        self._sized(content, path)
        text = memory_text.clean_content(content)
        clean = memory_text.clean_path(path)
        now = int(time.time())
        row = MemoryRow(
            id=str(uuid.uuid4()),
            user_id=user.id,
            type="user" if memory_type == "user" else "context",
            path=clean,
            content=text,
            meta={"created_by": "manual"},
            created_at=now,
            updated_at=now,
        )
        vector_text = memory_text.vector_text(row.content, row.path)
        vectors = await self._embed([vector_text])
        index = self._engine.memory_index
        async with self._writing(user.id), self._db.transaction() as conn:
            await self._repo.insert(conn, row)
            # Inside the transaction: if the vector cannot be written, the row is rolled back.
            await index.upsert(user.id, [row.id], [vector_text], vectors)
        return row

    async def update(
        self,
        user: UserRow,
        memory_id: str,
        content: str | None,
        memory_type: str | None,
        path: str | None,
    ) -> MemoryRow:
        await self.check(user)
        self._sized(content, path)
        text = memory_text.clean_content(content) if content is not None else None
        clean = memory_text.clean_path(path)
        if text is None and memory_type is None and path is None:
            raise errors.WebUIError(NO_UPDATE)
        current = await self._repo.get(memory_id, user.id)
        if current is None:
            raise errors.NotFound(NOT_FOUND)
        fields: dict[str, Any] = {
            "meta": {**(current.meta or {}), "created_by": "manual"},
            "updated_at": int(time.time()),
        }
        if text is not None:
            fields["content"] = text
        if memory_type is not None:
            fields["type"] = "user" if memory_type == "user" else "context"
        if path is not None:
            fields["path"] = clean
        new_content = text if text is not None else current.content
        new_path = clean if path is not None else current.path
        vector_text = memory_text.vector_text(new_content, new_path)
        reembed = text is not None or path is not None
        vectors = await self._embed([vector_text]) if reembed else None
        index = self._engine.memory_index
        async with self._writing(user.id), self._db.transaction() as conn:
            if await self._repo.get(memory_id, user.id, conn) is None:
                raise errors.NotFound(NOT_FOUND)  # deleted meanwhile
            await self._repo.update(conn, memory_id, **fields)
            if vectors is not None:
                await index.upsert(user.id, [memory_id], [vector_text], vectors)
            updated = await self._repo.get(memory_id, user.id, conn)
        if updated is None:  # pragma: no cover - read back inside the same transaction
            raise errors.NotFound(NOT_FOUND)
        return updated

    async def delete(self, user: UserRow, memory_id: str) -> bool:
        """False (as Open WebUI) for a memory that is not the caller's or does not exist."""
        await self.check(user)
        index = self._engine.memory_index
        async with self._writing(user.id), self._db.transaction() as conn:
            if not await self._repo.delete(conn, memory_id, user.id):
                return False
            await index.delete(user.id, [memory_id])
        return True

    async def delete_all(self, user: UserRow) -> bool:
        await self.check(user)
        index = self._engine.memory_index
        async with self._writing(user.id), self._db.transaction() as conn:
            await self._repo.delete_for_user(conn, user.id)
            await index.drop(user.id)
        return True

    async def reset(self, user: UserRow) -> bool:
        """Re-embed every memory of the user into a fresh table (Open WebUI's reset)."""
        await self.check(user)
        rows = await self._repo.for_user(user.id)
        texts = [memory_text.vector_text(r.content, r.path) for r in rows]
        vectors = await self._embed(texts) if rows else None
        async with self._writing(user.id):
            await self._engine.memory_index.replace(user.id, [r.id for r in rows], texts, vectors)
        return True

    # ---- search ----------------------------------------------------------------------------

    async def query(self, user: UserRow, content: str, k: int | None) -> dict[str, Any]:
        """Open WebUI's SearchResult of the `k` closest memories (over the relevance
        threshold); 404 "No memories found for user" when there are none."""
        await self.check(user)
        loaded = await self._loaded(user.id, strict=True)
        if not loaded.rows:
            raise errors.NotFound(NO_MEMORIES)
        try:
            hits = await self._closest(loaded, content, k or 1)
        except EmbeddingError as exc:
            raise errors.Unavailable(f"Embedding failed: {exc}") from exc
        return {
            "ids": [[row.id for row, _ in hits]],
            "documents": [[memory_text.vector_text(row.content, row.path) for row, _ in hits]],
            "metadatas": [
                [
                    {
                        "created_at": row.created_at,
                        "updated_at": row.updated_at,
                        "type": row.type,
                        "path": row.path,
                    }
                    for row, _ in hits
                ]
            ],
            "distances": [[score for _, score in hits]],
        }

    async def _closest(self, loaded: _Loaded, text: str, k: int) -> list[tuple[MemoryRow, float]]:
        if loaded.matrix is None or not loaded.ids:
            return []
        import numpy as np

        query = await self._engine.embedder.embed_query(text)
        # Unit vectors: the dot product is the cosine; Open WebUI reports (1 + cos) / 2.
        scores = (loaded.matrix @ query.reshape(-1) + 1.0) / 2.0
        count = min(k, len(loaded.ids))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        threshold = self._rag_config.current.relevance_threshold
        by_id = {row.id: row for row in loaded.rows}
        hits = []
        for position in top:
            score = float(scores[position])
            row = by_id.get(loaded.ids[position])
            if row is not None and (threshold <= 0.0 or score >= threshold):
                hits.append((row, score))
        return hits

    # ---- chat ------------------------------------------------------------------------------

    def wanted(self, user: UserRow, features: CompletionFeatures | None) -> bool:
        """Whether a chat request asks for memories: its `features.memory`, else the user's
        setting; and memories are on, for chats too. No I/O (the permission comes later)."""
        settings = self.settings
        if not (settings.enabled and settings.system_context):
            return False
        asked = features.memory if features is not None else None
        return asked if asked is not None else memory_setting(user, settings.enabled)

    async def context(
        self,
        user: UserRow,
        messages: list[dict[str, Any]],
        model_meta: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]] | None:
        """The messages with the `<memory_context>` block added to the first system message
        (a new one when there is none), or None when nothing is added: no permission, a model
        whose `meta.capabilities.memory` is off, no query text, no memories."""
        capabilities = (model_meta or {}).get("capabilities")
        if isinstance(capabilities, dict) and capabilities.get("memory") is False:
            return None
        query = memory_text.query_text(messages)
        if not query or not await self._allowed(user):
            return None
        try:
            loaded = await self._loaded(user.id, strict=False)
        except Exception:  # memories never cost a chat its answer
            log.warning("reading a user's memories for a chat failed", exc_info=True)
            return None
        if not loaded.rows:
            return None  # nothing to find: no embedding either
        try:
            relevant = [row for row, _ in await self._closest(loaded, query, CONTEXT_K)]
        except Exception:  # as Open WebUI: a failed search leaves the other sections
            log.warning("memory search failed for a chat", exc_info=True)
            relevant = []
        block = memory_text.render_context(
            loaded.rows,
            query,
            relevant,
            user_limit=self.settings.user_char_limit,
            context_limit=self.settings.context_char_limit,
        )
        if block is None:
            return None
        return inject(memory_text.without_old_context(messages), block, system_context=True)

    # ---- the per-user cache ----------------------------------------------------------------

    def _writing(self, user_id: str) -> "_Writing":
        return _Writing(self, user_id)

    def _forget(self, user_id: str) -> None:
        self._generation[user_id] = self._generation.get(user_id, 0) + 1
        self._cache.pop(user_id, None)

    async def _loaded(self, user_id: str, *, strict: bool) -> _Loaded:
        """The user's rows and vectors; vectors missing for some rows (a new embedding model,
        a crash between writes) are made now, vectors of deleted rows dropped. `strict`:
        an embedding failure is raised (else the rows come without those vectors)."""
        key = self._engine.key
        cached = self._cache.get(user_id)
        if cached is not None and cached.key == key:
            self._cache.move_to_end(user_id)
            return cached
        generation = self._generation.get(user_id, 0)
        rows = await self._repo.for_user(user_id)
        index = self._engine.memory_index
        ids, matrix = await index.vectors(user_id) if rows else ([], None)
        if {r.id for r in rows} != set(ids):
            try:
                rows, ids, matrix = await self._heal(user_id)
            except errors.Unavailable:
                if strict:
                    raise
                log.warning("memory vectors of a user could not be completed", exc_info=True)
        loaded = _Loaded(key, rows, ids, matrix)
        if self._generation.get(user_id, 0) == generation:
            self._cache[user_id] = loaded
            while len(self._cache) > CACHED_USERS:
                self._cache.popitem(last=False)
        return loaded

    async def _heal(self, user_id: str) -> tuple[list[MemoryRow], list[str], "Vectors | None"]:
        """Under the writers' lock (rows and vectors then agree unless something broke):
        embed the rows without a vector, drop vectors without a row."""
        index = self._engine.memory_index
        async with self._lock:
            rows = await self._repo.for_user(user_id)
            ids, _ = await index.vectors(user_id)
            known = set(ids)
            missing = [r for r in rows if r.id not in known]
            extra = known - {r.id for r in rows}
            if extra:
                await index.delete(user_id, sorted(extra))
            if missing:
                texts = [memory_text.vector_text(r.content, r.path) for r in missing]
                vectors = await self._embed(texts)
                await index.upsert(user_id, [r.id for r in missing], texts, vectors)
            ids, matrix = await index.vectors(user_id)
            return rows, ids, matrix


class _Writing:
    """Around a write: one vector writer at a time, and the user's cache dropped after it
    (also when it failed: the store is re-read rather than trusted)."""

    def __init__(self, service: MemoryService, user_id: str) -> None:
        self._service = service
        self._user_id = user_id

    async def __aenter__(self) -> None:
        await self._service._lock.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self._service._forget(self._user_id)
        self._service._lock.release()
