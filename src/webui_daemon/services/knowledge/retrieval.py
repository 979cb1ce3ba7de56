"""Retrieval: collections to the files behind them (with access checks), vector or hybrid
search over those files' rows, and /retrieval/process/* (index a text, or a file on request).

A collection name is `file-<id>` (one file), a knowledge base id (its files), or the name of a
text collection the caller made with /process/text. A collection the caller may not read is
reported exactly like one that does not exist.
"""

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from webui_daemon.rag.embedders import EmbeddingError
from webui_daemon.rag.engine import RagEngine
from webui_daemon.rag.records import Hit
from webui_daemon.rag.search import fuse, merge_by_hash
from webui_daemon.schemas.retrieval import (
    ProcessFileForm,
    ProcessResponse,
    ProcessTextForm,
    QueryCollectionsForm,
    QueryDocForm,
    QueryResult,
)
from webui_daemon.services import errors
from webui_daemon.services.knowledge.ingest import IngestService
from webui_daemon.services.knowledge.knowledge_access import AccessResolver
from webui_daemon.services.knowledge.rag_config import RagConfigService, embedding_part, index_key
from webui_daemon.storage.files import FileRepo, FileRow
from webui_daemon.storage.knowledge import KnowledgeRepo
from webui_daemon.storage.rows import UserRow

COLLECTION_NOT_FOUND = "Collection not found (or you do not have access to it)."
DUPLICATE_CONTENT = "Duplicate content detected. Please provide unique content to proceed."
# Up to this many candidate chunks a search is exact (brute force); above, the ANN index.
EXACT_MAX_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class SearchParams:
    k: int
    hybrid: bool
    bm25_weight: float
    threshold: float
    k_reranker: int


def hit_metadata(hit: Hit, file: FileRow, embedding_key: str) -> dict[str, Any]:
    """Open WebUI's chunk metadata (file_id, name, source, start_index, hash = the file's hash,
    embedding_config, score) plus page, page_label and header path when known."""
    engine, _, model = embedding_key.partition(":")
    name = file.filename
    meta: dict[str, Any] = {
        "file_id": file.id,
        "name": name,
        "source": name,
        "start_index": hit.start_index,
        "hash": file.hash,
        "chunk_index": hit.chunk_index,
        "embedding_config": json.dumps({"engine": engine, "model": model}),
        "score": hit.score,
    }
    if hit.page is not None:
        meta["page"] = hit.page
        meta["page_label"] = hit.page_label or str(hit.page + 1)
    if hit.headers:
        meta["headers"] = list(hit.headers)
    return meta


class RetrievalService:
    def __init__(
        self,
        files: FileRepo,
        knowledge: KnowledgeRepo,
        access: AccessResolver,
        engine: RagEngine,
        config: RagConfigService,
        ingest: IngestService,
    ) -> None:
        self._files = files
        self._knowledge = knowledge
        self._access = access
        self._engine = engine
        self._config = config
        self._ingest = ingest

    @property
    def embedding_key(self) -> str:
        return self._engine.key

    # ---- collections ---------------------------------------------------------------------

    async def collection_files(self, user: UserRow, name: str) -> list[FileRow]:
        """The files a collection name stands for, after access checks."""
        if name.startswith("file-"):
            try:
                return [await self._access.file(user, name[len("file-") :])]
            except errors.NotFound:
                raise errors.WebUIError(COLLECTION_NOT_FOUND) from None
        knowledge = await self._knowledge.get(name)
        if knowledge is not None:
            try:
                await self._access.knowledge(user, name, "read")
            except errors.WebUIError:
                raise errors.WebUIError(COLLECTION_NOT_FOUND) from None
            return await self._knowledge.searchable_files([name])
        texts = await self._files.text_collection(user.id, name)
        if not texts:
            raise errors.WebUIError(COLLECTION_NOT_FOUND)
        return texts

    # ---- search --------------------------------------------------------------------------

    def params(
        self,
        *,
        k: int | None = None,
        hybrid: bool | None = None,
        bm25_weight: float | None = None,
        threshold: float | None = None,
        k_reranker: int | None = None,
    ) -> SearchParams:
        c = self._config.current
        return SearchParams(
            k=k or c.top_k,
            # As Open WebUI: the request can switch hybrid off, not on when the admin has not.
            hybrid=c.hybrid and hybrid is not False,
            bm25_weight=c.hybrid_bm25_weight if bm25_weight is None else bm25_weight,
            threshold=c.relevance_threshold if threshold is None else threshold,
            k_reranker=k_reranker or c.top_k_reranker,
        )

    def searchable(self, files: Sequence[FileRow]) -> list[FileRow]:
        key = self._engine.key
        return [
            f
            for f in files
            if f.status == "completed" and f.chunk_count > 0 and embedding_part(f.index_key) == key
        ]

    async def search(
        self, files: Sequence[FileRow], query: str, params: SearchParams
    ) -> list[tuple[Hit, FileRow]]:
        usable = {f.id: f for f in self.searchable(files)}
        if not usable or not query.strip():
            return []
        try:
            return await self._search(usable, query, params)
        except EmbeddingError as exc:  # the model, an endpoint or the knowledge worker failed
            raise errors.Unavailable(f"Search failed: {exc}") from exc

    async def _search(
        self, usable: dict[str, FileRow], query: str, params: SearchParams
    ) -> list[tuple[Hit, FileRow]]:
        index = await self._engine.index()
        vector = await self._engine.embedder.embed_query(query)
        ids = list(usable)
        rows = sum(f.chunk_count for f in usable.values())
        exact = rows <= EXACT_MAX_ROWS
        if params.hybrid:
            depth = max(4 * max(params.k, params.k_reranker), 20)
            vector_hits, text_hits = await asyncio.gather(
                index.vector_search(vector, ids, depth, exact=exact, allowed_rows=rows),
                index.text_search(query, ids, depth, allowed_rows=rows),
            )
            hits = fuse(vector, vector_hits, text_hits, params.bm25_weight)
            if params.threshold > 0:
                hits = [h for h in hits if h.score >= params.threshold]
            hits = merge_by_hash(hits, min(params.k, params.k_reranker))
        else:
            # A few spare rows, so chunks with identical text can be merged and still fill k.
            found = await index.vector_search(
                vector, ids, params.k * 2, exact=exact, allowed_rows=rows
            )
            hits = merge_by_hash(found, params.k)
        return [(h, usable[h.file_id]) for h in hits if h.file_id in usable]

    def result(self, pairs: list[tuple[Hit, FileRow]]) -> QueryResult:
        key = self._engine.key
        return QueryResult(
            ids=[[h.chunk_id for h, _ in pairs]],
            documents=[[h.text for h, _ in pairs]],
            metadatas=[[hit_metadata(h, f, key) for h, f in pairs]],
            distances=[[h.score for h, _ in pairs]],
        )

    async def query_doc(self, user: UserRow, form: QueryDocForm) -> QueryResult:
        files = await self.collection_files(user, form.collection_name)
        params = self.params(
            k=form.k,
            hybrid=form.hybrid,
            bm25_weight=form.hybrid_bm25_weight,
            threshold=form.r,
            k_reranker=form.k_reranker,
        )
        return self.result(await self.search(files, form.query, params))

    async def query_collections(self, user: UserRow, form: QueryCollectionsForm) -> QueryResult:
        """One search over the union of the collections' files: the same top k as Open
        WebUI's per-collection search merged by content hash, in one index call."""
        files: dict[str, FileRow] = {}
        for name in dict.fromkeys(form.collection_names):
            for row in await self.collection_files(user, name):
                files[row.id] = row
        params = self.params(
            k=form.k,
            hybrid=form.hybrid,
            bm25_weight=form.hybrid_bm25_weight,
            threshold=form.r,
            k_reranker=form.k_reranker,
        )
        return self.result(await self.search(list(files.values()), form.query, params))

    # ---- processing on request -----------------------------------------------------------

    async def process_text(self, user: UserRow, form: ProcessTextForm) -> ProcessResponse:
        if not form.content.strip():
            raise errors.WebUIError("The content provided is empty.")
        digest = hashlib.sha256(form.content.encode()).hexdigest()
        collection = form.collection_name or digest
        if await self._knowledge.get(collection) is not None or collection.startswith("file-"):
            raise errors.WebUIError("Use /process/file to add to a knowledge base or a file.")
        if any(r.hash == digest for r in await self._files.text_collection(user.id, collection)):
            raise errors.WebUIError(DUPLICATE_CONTENT)
        now = int(time.time())
        row = FileRow(
            id=str(uuid.uuid4()),
            user_id=user.id,
            kind="text",
            hash=digest,
            filename=form.name or collection,
            meta={"name": form.name or collection, "content_type": "text/plain"},
            text_collection=collection,
            content=form.content,
            created_at=now,
            updated_at=now,
        )
        await self._files.insert(row)
        await self._ingest.submit(row.id)
        done = await self._ingest.wait_done(row.id)
        if done is None or done.status != "completed":
            await self._files.delete([row.id])
            raise errors.WebUIError(done.error if done and done.error else "Processing failed.")
        return ProcessResponse(collection_name=collection, content=form.content)

    async def process_file(self, user: UserRow, form: ProcessFileForm) -> ProcessResponse:
        """Process (or re-process with new text) a file, waiting for the result; with a
        knowledge base id as collection_name, also add the file to it."""
        permission = "write" if form.content is not None else "read"
        row = await self._access.file(user, form.file_id, permission, content=True)
        knowledge_id = None
        if form.collection_name and form.collection_name != f"file-{row.id}":
            if await self._knowledge.get(form.collection_name) is None:
                raise errors.WebUIError(COLLECTION_NOT_FOUND)
            await self._access.knowledge(user, form.collection_name, "write")
            knowledge_id = form.collection_name
        if form.content is not None:
            meta = dict(row.meta)
            meta["content_edited"] = True
            await self._files.update(row.id, content=form.content, meta=meta)
        up_to_date = (
            form.content is None
            and row.status == "completed"
            and row.index_key == index_key(self._config.current)
        )
        if not up_to_date:
            if not self._ingest.is_active(row.id):
                await self._ingest.submit(row.id)
            done = await self._ingest.wait_done(row.id)
            if done is None or done.status != "completed":
                raise errors.WebUIError(done.error if done and done.error else "Processing failed.")
        if knowledge_id is not None:
            await self._knowledge.add_files(knowledge_id, [row.id], user.id)
        final = await self._files.get(row.id, with_content=True) or row
        return ProcessResponse(
            collection_name=knowledge_id or f"file-{row.id}",
            filename=final.filename,
            content=final.content,
        )
