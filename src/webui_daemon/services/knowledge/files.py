"""Files: upload (stored under the data folder with a server-chosen name), list, read, edit the
extracted text, follow and cancel processing, delete (with the file's index rows)."""

import asyncio
import base64
import contextlib
import fnmatch
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, Any

from webui_daemon.schemas import images
from webui_daemon.schemas.files import (
    CancelResponse,
    FileListItem,
    FileListResponse,
    FileModelResponse,
    FileUploadResponse,
    ProcessStatus,
)
from webui_daemon.security.permissions import Permissions
from webui_daemon.services import errors
from webui_daemon.services.knowledge.ingest import TERMINAL, IngestService
from webui_daemon.services.knowledge.knowledge_access import AccessResolver
from webui_daemon.services.knowledge.rag_config import RagConfigService
from webui_daemon.storage.files import FileRepo, FileRow
from webui_daemon.storage.rows import UserRow

FILES_PER_PAGE = 50
MB = 1024 * 1024
_UNSAFE = dict.fromkeys(range(32), None)


def file_response(row: FileRow, *, content: bool = True) -> FileModelResponse:
    data: dict[str, Any] = {"status": row.status}
    if not row.auto_process and row.status == "pending":
        data = {}  # stored as it is (an image): 0.12 says nothing about processing
    elif row.error or row.status != "pending":
        data["error"] = row.error  # 0.12: null once processed
    if row.status == "completed":
        data["chunk_count"] = row.chunk_count
    if content and row.content is not None and row.status == "completed":
        data["content"] = row.content
    meta = dict(row.meta)
    if row.hash:
        meta.setdefault("file_hash", row.hash)  # 0.12: the sha256 of the bytes, as `hash` here
    if row.status == "completed" and row.kind == "upload":
        meta["collection_name"] = f"file-{row.id}"
    return FileModelResponse(
        id=row.id,
        user_id=row.user_id,
        hash=row.hash,
        filename=row.filename,
        path=row.path,
        data=data,
        meta=meta,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def clean_filename(name: str | None) -> str:
    """The client's name for display only: its last path part, no control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].translate(_UNSAFE).strip()
    return base[:255] or "file"


def _store(source: IO[bytes], target: Path, limit: int) -> tuple[str, int]:
    """Copy to the uploads folder while hashing; refuse (and remove) past `limit` bytes."""
    digest, size = hashlib.sha256(), 0
    fd = target.open("xb")
    try:
        with fd:
            while block := source.read(1024 * 1024):
                size += len(block)
                if size > limit:
                    raise errors.TooLarge(f"File size exceeds the limit of {limit // MB} MB.")
                digest.update(block)
                fd.write(block)
        target.chmod(0o600)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def _is_file(path: str) -> bool:
    return Path(path).is_file()


def _unlink(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            Path(path).unlink(missing_ok=True)


def _sweep(folder: Path, known: set[str]) -> int:
    removed = 0
    if not folder.is_dir():
        return 0
    # An upload is stored a moment before its record exists: leave recent files alone.
    cutoff = time.time() - 600
    for path in folder.iterdir():
        if path.name not in known and path.is_file() and path.stat().st_mtime < cutoff:
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


class FileService:
    def __init__(
        self,
        files: FileRepo,
        access: AccessResolver,
        ingest: IngestService,
        config: RagConfigService,
        upload_dir: Path,
        *,
        max_upload_bytes: int,
        permissions: Callable[[UserRow], Awaitable[Permissions]],
    ) -> None:
        self._files = files
        self._access = access
        self._ingest = ingest
        self._config = config
        self.upload_dir = upload_dir
        self._max_upload_bytes = max_upload_bytes
        self._permissions = permissions

    def upload_limit(self) -> int:
        size_mb = self._config.current.file_max_size_mb
        return min(size_mb * MB, self._max_upload_bytes) if size_mb else self._max_upload_bytes

    async def upload(
        self,
        user: UserRow,
        source: IO[bytes],
        *,
        filename: str | None,
        content_type: str | None,
        metadata: dict[str, Any] | None,
        process: bool = True,
        background: bool = True,
    ) -> FileUploadResponse:
        if user.role != "admin" and not (await self._permissions(user))["chat"].get(
            "file_upload", True
        ):
            raise errors.Unauthorized(errors.ACCESS_PROHIBITED)
        file_id = str(uuid.uuid4())
        self.upload_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.upload_dir / file_id
        digest, size = await asyncio.to_thread(_store, source, path, self.upload_limit())
        name = clean_filename(filename)
        now = int(time.time())
        row = FileRow(
            id=file_id,
            user_id=user.id,
            kind="upload",
            hash=digest,
            filename=name,
            path=str(path),
            meta={
                "name": name,
                "content_type": content_type or "application/octet-stream",
                "size": size,
                "data": metadata or {},
            },
            status="pending",
            auto_process=process,
            created_at=now,
            updated_at=now,
        )
        try:
            await self._files.insert(row)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if process:
            await self._ingest.submit(file_id)
            if not background:
                done = await self._ingest.wait_done(file_id)
                row = done or row
        stored = await self._files.get(file_id, with_content=True) or row
        return FileUploadResponse(**file_response(stored).model_dump())

    # ---- reading -------------------------------------------------------------------------

    async def list_files(self, user: UserRow, *, page: int, content: bool) -> FileListResponse:
        """0.12's `{items, total}`: one page of 50, most recently updated first. Admins see
        every file, as in Open WebUI."""
        owner = None if user.role == "admin" else user.id
        rows, total = await self._files.page(
            user_id=owner,
            order_by="updated_at",
            limit=FILES_PER_PAGE,
            offset=(page - 1) * FILES_PER_PAGE,
            with_content=content,
        )
        items = [file_response(r, content=content).model_dump(exclude={"path"}) for r in rows]
        return FileListResponse(items=[FileListItem.model_validate(i) for i in items], total=total)

    async def user_files(
        self, user: UserRow, pattern: str, *, content: bool, skip: int, limit: int
    ) -> list[FileModelResponse]:
        """0.12's /files/user/search: the caller's own files whose name matches a glob (an
        empty list, never 404), as a bare list; a client that wants every file pages here."""
        rows, _ = await self._files.page(
            user_id=user.id, order_by="updated_at", with_content=content
        )
        wanted = (pattern.strip() or "*").lower()
        found = [r for r in rows if fnmatch.fnmatch(r.filename.lower(), wanted)]
        return [file_response(r, content=content) for r in found[skip : skip + limit]]

    async def count(self, user: UserRow, *, own: bool) -> int:
        """How many files the caller sees (an admin: everyone's, unless `own`)."""
        owner = None if user.role == "admin" and not own else user.id
        _, total = await self._files.page(user_id=owner, limit=0)
        return total

    async def search(
        self, user: UserRow, pattern: str, *, content: bool
    ) -> list[FileModelResponse]:
        owner = None if user.role == "admin" else user.id
        rows, _ = await self._files.page(user_id=owner, with_content=content)
        wanted = pattern.lower() if any(c in pattern for c in "*?[") else f"*{pattern.lower()}*"
        found = [r for r in rows if fnmatch.fnmatch(r.filename.lower(), wanted)]
        if not found:
            raise errors.NotFound("No files found matching the pattern.")
        return [file_response(r, content=content) for r in found]

    async def get(self, user: UserRow, file_id: str) -> FileModelResponse:
        return file_response(await self._access.file(user, file_id, content=True))

    async def raw(self, user: UserRow, file_id: str) -> tuple[Path, str, str]:
        row = await self._access.file(user, file_id)
        if row.kind != "upload" or not row.path or not await asyncio.to_thread(_is_file, row.path):
            raise errors.NotFound(errors.USER_NOT_FOUND)
        return Path(row.path), row.filename, str(row.meta.get("content_type") or "")

    async def image_data_url(self, user: UserRow, file_id: str) -> str:
        """A stored image as the data URL a model is sent (the caller must be able to read the
        file; what it is comes from its bytes, not its name)."""
        path, name, _ = await self.raw(user, file_id)
        data = await asyncio.to_thread(path.read_bytes)
        info = images.sniff(data[:65536])
        if info is None:
            raise errors.WebUIError(f"{name} is not an image (PNG, JPEG, GIF or WebP).")
        return f"data:{info.mime};base64,{base64.b64encode(data).decode('ascii')}"

    async def data_content(self, user: UserRow, file_id: str) -> str:
        row = await self._access.file(user, file_id, content=True)
        return row.content or ""

    async def update_content(self, user: UserRow, file_id: str, content: str) -> str:
        """Replace the extracted text and re-index from it (webui keeps the edit across
        re-indexing, e.g. after an embedding model change)."""
        row = await self._access.file(user, file_id, "write")
        meta = dict(row.meta)
        meta["content_edited"] = True
        await self._files.update(file_id, content=content, meta=meta)
        await self._ingest.submit(file_id)
        return content

    # ---- processing status ---------------------------------------------------------------

    async def status(self, user: UserRow, file_id: str) -> ProcessStatus:
        row = await self._access.file(user, file_id)
        count = row.chunk_count if row.status == "completed" else None
        return ProcessStatus(status=row.status, error=row.error, chunk_count=count)

    async def status_events(self, user: UserRow, file_id: str) -> AsyncIterator[dict[str, Any]]:
        """The status once a second (and on every change) until completed or failed."""
        await self._access.file(user, file_id)
        while True:
            row = await self._files.get(file_id)
            if row is None:
                yield {"status": "failed", "error": "The file was deleted."}
                return
            event: dict[str, Any] = {"status": row.status}
            if row.error:
                event["error"] = row.error
            if row.status == "completed":
                event["chunk_count"] = row.chunk_count
            yield event
            if row.status in TERMINAL and not self._ingest.is_active(file_id):
                return
            await self._ingest.wait_change(file_id, 1.0)

    async def cancel(self, user: UserRow, file_ids: list[str]) -> CancelResponse:
        cancelled = []
        for file_id in dict.fromkeys(file_ids):
            try:
                await self._access.file(user, file_id, "write")
            except errors.NotFound:
                continue
            if await self._ingest.cancel(file_id):
                cancelled.append(file_id)
        return CancelResponse(cancelled=cancelled)

    # ---- deleting ------------------------------------------------------------------------

    async def sweep_uploads(self) -> int:
        """Remove stored uploads that have no record any more (a deleted account's files:
        the database drops their records, the bytes are removed here, at start-up)."""
        known = set(await self._files.all_ids(kind="upload"))
        return await asyncio.to_thread(_sweep, self.upload_dir, known)

    async def delete(self, user: UserRow, file_id: str) -> None:
        row = await self._access.file(user, file_id, "write")
        await self.remove([row])

    async def delete_all(self) -> None:
        rows = []
        for kind in ("upload", "text"):
            found, _ = await self._files.page(user_id=None, kind=kind)
            rows.extend(found)
        await self.remove(rows)

    async def remove(self, rows: list[FileRow]) -> None:
        """Index rows first, then the record (and its knowledge-base links), then the bytes."""
        ids = [r.id for r in rows]
        await self._ingest.forget(ids, had_rows=any(r.chunk_count > 0 for r in rows))
        await self._files.delete(ids)
        await asyncio.to_thread(_unlink, [r.path for r in rows if r.path])
