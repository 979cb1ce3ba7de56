"""The work of `webui kb add`: expand paths, skip what is unchanged, upload in parallel, add
each file once the daemon has processed it, and stop cleanly on Ctrl-C.

A file is in the knowledge base only once it is fully indexed: it is uploaded, the daemon
processes it in the background, and only then is it added. Ctrl-C stops the workers; files not
yet added are cancelled and deleted (record, bytes and any rows), and the ones added stay.
A second Ctrl-C hangs up at once.
"""

import asyncio
import contextlib
import glob
import hashlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from webui_daemon.schemas.knowledge import KnowledgeFileItem, KnowledgeResponse
from webui_tui.cli.runtime import UsageProblem
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import RequestFailed, WebUIClientError
from webui_tui.client.tasks import uncancel_current

DUPLICATE = "duplicate content"
# How long the clean-up after Ctrl-C may wait for uploads already on the wire.
CLEANUP_WAIT_S = 10.0


@dataclass(slots=True)
class FileResult:
    """What happened to one path: added, updated (replaced an older version), unchanged,
    failed (with `error`) or cancelled."""

    path: Path
    status: str = "pending"
    file_id: str | None = None
    error: str | None = None
    chunks: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": str(self.path), "status": self.status}
        if self.file_id:
            out["file_id"] = self.file_id
        if self.chunks is not None:
            out["chunks"] = self.chunks
        if self.error:
            out["error"] = self.error
        return out


@dataclass(slots=True)
class AddReport:
    kb: KnowledgeResponse
    results: list[FileResult]
    seconds: float = 0.0
    interrupted: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def count(self) -> dict[str, int]:
        counts = dict.fromkeys(("added", "updated", "unchanged", "failed", "cancelled"), 0)
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    @property
    def chunks(self) -> int | None:
        known = [r.chunks for r in self.results if r.chunks is not None]
        return sum(known) if known else None

    def to_json(self) -> dict[str, Any]:
        return {
            "knowledge": {"id": self.kb.id, "name": self.kb.name},
            "files": [r.to_json() for r in self.results],
            "counts": self.count(),
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
            "interrupted": self.interrupted,
        }


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, result: FileResult) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, result: FileResult) -> None:
        pass

    def stop(self) -> None:
        pass


class BarProgress:
    """A progress bar on stderr: files done of total, files/s, chunks/s (when the daemon
    reports chunk counts), elapsed time."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            TextColumn("[bold]adding[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files"),
            TextColumn("{task.fields[rates]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: Any = None
        self._started = 0.0
        self._files = 0
        self._chunks = 0

    def start(self, total: int) -> None:
        self._started = time.monotonic()
        self._bar.start()
        self._task = self._bar.add_task("add", total=total, rates="")

    def advance(self, result: FileResult) -> None:
        self._files += 1
        self._chunks += result.chunks or 0
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rates = f"{self._files / elapsed:.1f} files/s"
        if self._chunks:
            rates += f"  {self._chunks / elapsed:.0f} chunks/s"
        self._bar.update(self._task, advance=1, rates=rates)

    def stop(self) -> None:
        self._bar.stop()


def progress_for(show: bool) -> Progress:
    if show and sys.stderr.isatty() and os.environ.get("TERM") != "dumb":
        return BarProgress()
    return NoProgress()


# --- paths ---


def expand(args: Iterable[str]) -> list[Path]:
    """Files named, files under folders (hidden ones skipped), and glob matches (`**`
    recursive), each once, in a stable order. Nothing to add is a usage problem."""
    found: dict[Path, None] = {}
    for arg in args:
        path = Path(arg).expanduser()
        if path.exists():
            matches = [path]
        elif any(char in arg for char in "*?["):
            matches = [Path(m) for m in sorted(glob.glob(os.path.expanduser(arg), recursive=True))]
            if not matches:
                raise UsageProblem(f"nothing matches {arg}")
        else:
            raise UsageProblem(f"no such file or folder: {arg}")
        for match in matches:
            for file in _files_of(match):
                found.setdefault(file.resolve(), None)
    if not found:
        raise UsageProblem("no files to add (folders hold only hidden files?)")
    return list(found)


def _files_of(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    out: list[Path] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(Path(root, name) for name in sorted(files) if not name.startswith("."))
    return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def source_path(item: KnowledgeFileItem) -> str | None:
    """The local path a file was added from (`webui kb add` sends it as upload metadata)."""
    data = item.meta.get("data")
    path = data.get("path") if isinstance(data, dict) else None
    return path if isinstance(path, str) else None


# --- the work ---


class Adder:
    """Adds files to one knowledge base with `jobs` workers; `run` returns the report."""

    def __init__(
        self,
        client: WebUIClient,
        kb_id: str,
        paths: list[Path],
        *,
        jobs: int,
        progress: Progress,
    ) -> None:
        self.client = client
        self.kb_id = kb_id
        self.paths = paths
        self.jobs = max(1, jobs)
        self.progress = progress
        self.results = {path: FileResult(path) for path in paths}
        # Uploaded and not yet in the knowledge base: what Ctrl-C must cancel and delete.
        self._unfinished: set[str] = set()
        self._uploads: set[asyncio.Future[Any]] = set()
        # Adds sent to the server, with their file id and result: Ctrl-C waits for them, since
        # the server may have put the file in the knowledge base already.
        self._adding: dict[asyncio.Future[Any], tuple[str, FileResult]] = {}
        self._hashes: set[str] = set()
        self._by_path: dict[str, KnowledgeFileItem] = {}

    async def run(self) -> tuple[KnowledgeResponse, bool]:
        """Add everything; True with the knowledge base when Ctrl-C stopped it."""
        kb = await self.client.get_knowledge(self.kb_id)
        self._hashes = {f.hash for f in kb.files if f.hash}
        for item in kb.files:
            origin = source_path(item)
            if origin:
                self._by_path[origin] = item
        queue: asyncio.Queue[Path] = asyncio.Queue()
        for path in self.paths:
            queue.put_nowait(path)
        self.progress.start(len(self.paths))
        interrupted = False
        try:
            async with _Interrupts() as interrupts:
                workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.jobs)]
                try:
                    await asyncio.gather(*workers)
                except asyncio.CancelledError:
                    if not interrupts.count:
                        raise
                    interrupted = True
                    for worker in workers:
                        worker.cancel()
                    await asyncio.gather(*workers, return_exceptions=True)
                    uncancel_current()
                    try:
                        await self._clean_up(interrupts)
                    except asyncio.CancelledError:  # a second Ctrl-C: leave at once
                        uncancel_current()
        finally:
            self.progress.stop()
        if interrupted:
            for result in self.results.values():
                if result.status == "pending":
                    result.status = "cancelled"
        return kb, interrupted

    async def _worker(self, queue: "asyncio.Queue[Path]") -> None:
        while not queue.empty():
            path = queue.get_nowait()
            result = self.results[path]
            try:
                await self._add(path, result)
            except WebUIClientError as exc:
                result.status, result.error = "failed", exc.message
            except OSError as exc:
                result.status, result.error = "failed", f"cannot read: {exc.strerror or exc}"
            self.progress.advance(result)

    async def _add(self, path: Path, result: FileResult) -> None:
        digest = await asyncio.to_thread(sha256_of, path)
        if digest in self._hashes:
            result.status = "unchanged"
            return
        self._hashes.add(digest)  # a second copy of the same bytes in this run is unchanged too
        upload = asyncio.ensure_future(self.client.upload_file(path, metadata={"path": str(path)}))
        self._uploads.add(upload)
        # Shielded: an upload on the wire when Ctrl-C comes is awaited by the clean-up, which
        # then knows its id and deletes it.
        record = await asyncio.shield(upload)
        self._uploads.discard(upload)
        result.file_id = record.id
        self._unfinished.add(record.id)
        status = await self.client.wait_processed(record.id)
        if status.get("status") != "completed":
            self._unfinished.discard(record.id)
            await self.client.delete_file(record.id)
            result.status = "failed"
            result.error = str(status.get("error") or "processing failed")
            return
        count = status.get("chunk_count")
        result.chunks = count if isinstance(count, int) else None
        adding = asyncio.ensure_future(self.client.add_to_knowledge(self.kb_id, record.id))
        self._adding[adding] = (record.id, result)
        try:
            await asyncio.shield(adding)
        except RequestFailed as exc:
            del self._adding[adding]
            self._unfinished.discard(record.id)
            await self.client.delete_file(record.id)
            if exc.status == 400 and DUPLICATE in exc.detail.lower():
                result.status = "unchanged"
                return
            raise
        del self._adding[adding]
        self._unfinished.discard(record.id)
        older = self._by_path.get(str(path))
        result.status = "added"
        if older is not None and older.id != record.id:
            # The file changed since it was added: the new version replaces the old one.
            await self.client.remove_from_knowledge(self.kb_id, older.id)
            result.status = "updated"

    async def _clean_up(self, interrupts: "_Interrupts") -> None:
        """After Ctrl-C: wait for uploads and adds on the wire, then cancel and delete every
        file that did not make it into the knowledge base."""
        interrupts.on_second = _hang_up_current()
        on_wire = self._uploads | self._adding.keys()
        done: set[asyncio.Future[Any]] = set()
        if on_wire:
            done, _ = await asyncio.wait(on_wire, timeout=CLEANUP_WAIT_S)
        for upload in self._uploads & done:
            if _succeeded(upload):
                self._unfinished.add(upload.result().id)
        for adding, (file_id, result) in self._adding.items():
            if adding in done and _succeeded(adding):
                # In the knowledge base already: it stays, and is reported as added.
                self._unfinished.discard(file_id)
                result.status = "added"
        ids = sorted(self._unfinished)
        if not ids:
            return
        # A server without the extension: deleting the files stops them too.
        with contextlib.suppress(WebUIClientError):
            await self.client.cancel_processing(ids)
        for file_id in ids:
            try:
                await self.client.delete_file(file_id)
            except WebUIClientError:
                continue
        for result in self.results.values():
            if result.file_id in self._unfinished:
                result.status = "cancelled"


def _succeeded(future: "asyncio.Future[Any]") -> bool:
    return not future.cancelled() and future.exception() is None


def _hang_up_current() -> Callable[[], None]:
    task = asyncio.current_task()

    def hang_up() -> None:
        if task is not None and not task.done():
            task.cancel()

    return hang_up


class _Interrupts:
    """Ctrl-C: the first cancels the current task (the workers stop, the clean-up runs);
    during the clean-up, another one calls `on_second` (hang up)."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._first = _hang_up_current()
        self.on_second: Callable[[], None] | None = None
        self.count = 0

    async def __aenter__(self) -> "_Interrupts":
        self._loop.add_signal_handler(signal.SIGINT, self._on_sigint)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._loop.remove_signal_handler(signal.SIGINT)

    def _on_sigint(self) -> None:
        self.count += 1
        if self.count == 1:
            self._first()
        elif self.on_second is not None:
            self.on_second()
