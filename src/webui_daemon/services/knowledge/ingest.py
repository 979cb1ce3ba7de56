"""Ingest: files to searchable chunks, in the background, several at once, cancellably.

A job reads the file (or its stored text), chunks it, embeds the chunks through the shared
batcher and writes all of the file's rows in one index add, then marks the file completed.
Waiting files queue per uploading user and users take turns (FairQueue), so one user's many
files never hold another's for more than a file's processing; and a file's text is bounded
(`max_text_bytes`): the loaders stop as soon as it passes the limit, and the file fails saying so.
Status is honest: pending (queued) -> processing -> completed | failed (+ error). Cancelling a
job before its final write leaves no rows behind (failed, "cancelled"); a job already writing
finishes. Unchanged bytes are never embedded twice: a file with the same hash, indexed the same
way, lends its rows; re-indexing an edited file embeds only the chunks that changed. Jobs cut
short by a shutdown resume at the next start; files indexed with another embedding model are
re-indexed.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webui_daemon.rag.chunking import Chunk, chunk_document
from webui_daemon.rag.embedders import EmbeddingError
from webui_daemon.rag.engine import RagEngine
from webui_daemon.rag.loaders import (
    DEFAULT_MAX_TEXT_BYTES,
    Document,
    LoaderError,
    Section,
    TextBudget,
    load_file,
)
from webui_daemon.services.knowledge.ingest_queue import FairQueue
from webui_daemon.services.knowledge.rag_config import RagConfigService, embedding_part, index_key
from webui_daemon.storage.files import FileRepo, FileRow

if TYPE_CHECKING:
    from webui_daemon.rag.embedders import Vectors
    from webui_daemon.rag.index import LanceIndex

log = logging.getLogger(__name__)

CANCELLED = "Processing was cancelled."
TERMINAL = frozenset({"completed", "failed"})
# Compact the index and fold new rows into its indexes after this many writes (and when idle).
MAINTAIN_EVERY = 64


class IngestService:
    def __init__(
        self,
        files: FileRepo,
        engine: RagEngine,
        config: RagConfigService,
        *,
        workers: int = 4,
        max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
    ) -> None:
        self._files = files
        self._engine = engine
        self._config = config
        self._worker_count = max(1, workers)
        self._max_text_bytes = max_text_bytes
        self._queue = FairQueue()
        self._jobs: dict[str, asyncio.Task[None]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._changed: dict[str, asyncio.Event] = {}
        self._maintenance: asyncio.Task[None] | None = None
        self._closing = False

    # ---- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._worker(), name=f"webui-ingest-{i}")
                for i in range(self._worker_count)
            ]

    async def resume(self) -> None:
        """Queue files left pending by the last run, and re-index files built with another
        embedding model (their old rows are in another table, dropped here)."""
        unfinished = await self._files.unfinished()
        if unfinished:
            # A crash between a file's index write and its status update leaves rows the
            # status does not know about: clear them before processing the file again.
            index = await self._engine.index()
            await index.delete_files([row.id for row in unfinished])
            for row in unfinished:
                await self._files.update(row.id, chunk_count=0)
                await self.submit(row.id, owner=row.user_id)
        if self._config.current.bypass_embedding:
            return
        stale = [
            row
            for row in await self._files.stale(index_key(self._config.current))
            if embedding_part(row.index_key) != self._engine.key and row.index_key != "bypass"
        ]
        if stale:
            log.info("re-indexing %d files for embedding model %s", len(stale), self._engine.key)
            index = await self._engine.index()
            await index.drop_other_tables()
            for row in stale:
                await self._files.update(row.id, chunk_count=0)
                await self.submit(row.id, owner=row.user_id)

    async def aclose(self) -> None:
        self._closing = True
        tasks = [*self._workers, *self._jobs.values()]
        if self._maintenance is not None:
            tasks.append(self._maintenance)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()

    # ---- queueing, status, cancelling ----------------------------------------------------

    async def submit(self, file_id: str, *, owner: str | None = None) -> None:
        """Queue the file in its owner's line (the file's user, looked up when not given)."""
        if file_id in self._queue:
            return
        if owner is None:
            row = await self._files.get(file_id)
            if row is None:
                return
            owner = row.user_id
        if file_id in self._jobs:
            await self.cancel(file_id, quiet=True)
        await self._files.update(file_id, status="pending", error=None, auto_process=True)
        self._queue.put(owner, file_id)
        self._notify(file_id)

    async def stop_all(self) -> list[str]:
        """Stop every queued and running job (before the embedder is swapped); their ids."""
        ids = [*self._queue.items(), *self._jobs]
        for file_id in ids:
            await self.cancel(file_id, quiet=True)
        return ids

    def is_active(self, file_id: str) -> bool:
        return file_id in self._queue or file_id in self._jobs

    async def cancel(self, file_id: str, *, quiet: bool = False) -> bool:
        """Stop a queued or running job; False when there was none."""
        if self._queue.remove(file_id):
            if not quiet:
                await self._fail(file_id, CANCELLED, had_rows=False)
            return True
        task = self._jobs.get(file_id)
        if task is None:
            return False
        task.cancel()
        await asyncio.wait({task})
        return True

    async def forget(self, file_ids: Sequence[str], *, had_rows: bool) -> None:
        """Stop jobs of files being deleted and remove their index rows."""
        for file_id in file_ids:
            await self.cancel(file_id, quiet=True)
        # A job may have written its rows while being cancelled: once the index is open, look.
        if had_rows or self._engine.current_index is not None:
            index = await self._engine.index()
            await index.delete_files(list(file_ids))

    async def wait_change(self, file_id: str, seconds: float) -> None:
        """Return when the file's status changes, or after `seconds`."""
        event = self._changed.setdefault(file_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    async def wait_done(self, file_id: str) -> FileRow | None:
        while True:
            row = await self._files.get(file_id)
            if row is None or (row.status in TERMINAL and not self.is_active(file_id)):
                return row
            await self.wait_change(file_id, 1.0)

    def _notify(self, file_id: str) -> None:
        event = self._changed.pop(file_id, None)
        if event is not None:
            event.set()

    async def _set(self, file_id: str, **fields: object) -> None:
        await self._files.update(file_id, **fields)
        self._notify(file_id)

    async def _fail(self, file_id: str, error: str, *, had_rows: bool) -> None:
        if had_rows:
            index = await self._engine.index()
            await index.delete_files([file_id])
        await self._set(file_id, status="failed", error=error, chunk_count=0)

    # ---- the work ------------------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            owner, file_id = await self._queue.get()
            job = asyncio.create_task(self._process(file_id), name=f"webui-ingest-{file_id}")
            self._jobs[file_id] = job
            try:
                # wait() does not raise when the job is cancelled, only when this worker is.
                await asyncio.wait({job})
            finally:
                self._jobs.pop(file_id, None)
                self._queue.done(owner)
                if not self._closing:
                    self._after_job()

    async def _process(self, file_id: str) -> None:
        row = await self._files.get(file_id, with_content=True)
        if row is None:
            return
        had_rows = row.chunk_count > 0
        await self._set(file_id, status="processing", error=None)
        try:
            await self._index(row)
        except asyncio.CancelledError:
            if not self._closing:  # at shutdown the job stays 'processing' and resumes
                await asyncio.shield(self._fail(file_id, CANCELLED, had_rows=had_rows))
            raise
        except (LoaderError, EmbeddingError) as exc:
            await self._fail(file_id, str(exc), had_rows=had_rows)
        except Exception as exc:
            log.exception("processing file %s failed", file_id)
            await self._fail(file_id, f"Processing failed: {exc}", had_rows=had_rows)

    async def _index(self, row: FileRow) -> None:
        config = self._config.current
        key = "bypass" if config.bypass_embedding else index_key(config)
        from_text = row.kind == "text" or bool(row.meta.get("content_edited"))
        if not from_text and not config.bypass_embedding:
            twin = await self._files.completed_with_hash(row.hash, key)
            if twin is not None and twin.id != row.id and await self._commit_copy(row, twin, key):
                return
        loop = asyncio.get_running_loop()
        if from_text:
            document = Document("text", [Section(row.content or "")])
            if not (row.content or "").strip():
                raise LoaderError("The content provided is empty.")
            TextBudget(self._max_text_bytes).take(row.content or "")
        else:
            document = await loop.run_in_executor(
                self._engine.parse_pool,
                partial(
                    load_file,
                    Path(row.path or ""),
                    row.filename,
                    row.meta.get("content_type"),
                    split_headers=config.markdown_header_split,
                    max_text_bytes=self._max_text_bytes,
                ),
            )
        chunks = await loop.run_in_executor(
            self._engine.parse_pool,
            chunk_document,
            document,
            config.chunk_size,
            config.chunk_overlap,
        )
        if config.bypass_embedding:
            await self._set(row.id, status="completed", content=document.content, index_key=key)
            return
        vectors = await self._embed(row, chunks)
        commit = asyncio.ensure_future(self._commit(row, chunks, vectors, document.content, key))
        try:
            await asyncio.shield(commit)
        except asyncio.CancelledError:
            # The final write had begun: let it finish, the file is indexed after all.
            await commit

    async def _embed(self, row: FileRow, chunks: list[Chunk]) -> "Vectors":
        import numpy as np

        reuse = {}
        if row.chunk_count > 0:
            index = await self._engine.index()
            reuse = await index.vectors_by_hash(row.id)
        todo = [c for c in chunks if c.hash not in reuse]
        fresh: Iterator[Any] = iter(
            await self._engine.batcher.embed([c.text for c in todo]) if todo else []
        )
        stacked: Vectors = np.stack(
            [reuse[c.hash] if c.hash in reuse else next(fresh) for c in chunks]
        ).astype(np.float32)
        return stacked

    async def _commit(
        self, row: FileRow, chunks: list[Chunk], vectors: "Vectors", content: str, key: str
    ) -> None:
        index = await self._engine.index()
        if row.chunk_count > 0:
            await index.delete_files([row.id])
        await index.add(row.id, chunks, vectors)
        await self._set(
            row.id,
            status="completed",
            error=None,
            content=content,
            chunk_count=len(chunks),
            index_key=key,
        )

    async def _commit_copy(self, row: FileRow, twin: FileRow, key: str) -> bool:
        """Index the file with its twin's rows; False when the twin vanished meanwhile."""
        index = await self._engine.index()

        async def copy() -> bool:
            if row.chunk_count > 0:
                await index.delete_files([row.id])
            count = await index.copy_file(twin.id, row.id)
            if count == 0:
                return False
            await self._set(
                row.id,
                status="completed",
                error=None,
                content=twin.content,
                chunk_count=count,
                index_key=key,
            )
            return True

        task = asyncio.ensure_future(copy())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            return await task

    # ---- index upkeep --------------------------------------------------------------------

    def _after_job(self) -> None:
        idle = not self._queue and not self._jobs
        index = self._engine.current_index
        if index is None or (self._maintenance is not None and not self._maintenance.done()):
            return
        if idle or index.writes_since_optimize >= MAINTAIN_EVERY:
            self._maintenance = asyncio.create_task(self._maintain(), name="webui-index-upkeep")

    async def _maintain(self) -> None:
        index = self._engine.current_index
        if index is None or index.writes_since_optimize == 0:
            return
        try:
            await index.maintain()
            await self._drop_orphans(index)
        except Exception:
            log.exception("index maintenance failed (it is retried after the next write)")

    async def _drop_orphans(self, index: "LanceIndex") -> None:
        """Rows of files that no longer exist (their owner's account was deleted, which
        removes the records but not the vectors) go at the next upkeep."""
        known = set(await self._files.all_ids())
        orphans = sorted((await index.file_ids()) - known - set(self._jobs))
        if orphans:
            log.info("removing index rows of %d deleted files", len(orphans))
            await index.delete_files(orphans)
