"""Knowledge bases, files and retrieval (`/api/v1/knowledge`, `/files`, `/retrieval`, spec 7).

kb = await client.create_knowledge("Docs")
record = await client.upload_file(Path("guide.md"))        # processed in the background
status = await client.wait_processed(record.id)            # completed | failed
await client.add_to_knowledge(kb.id, record.id)
hits = await client.search_knowledge(kb.id, "how do I ...")
"""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError

from webui_daemon.schemas.files import CancelForm, CancelResponse, FileModelResponse, ProcessStatus
from webui_daemon.schemas.knowledge import (
    KnowledgeFileIdForm,
    KnowledgeFileItem,
    KnowledgeFileListResponse,
    KnowledgeFilesResponse,
    KnowledgeForm,
    KnowledgeListResponse,
    KnowledgeResponse,
)
from webui_daemon.schemas.retrieval import QueryCollectionsForm, QueryResult
from webui_tui.client.base import LATER, BaseClient, bad_answer, parse
from webui_tui.client.errors import BadResponse, error_for_status
from webui_tui.client.sse import sse_data

KNOWLEDGE = "/api/v1/knowledge"
FILES = "/api/v1/files"
RETRIEVAL = "/api/v1/retrieval"
TERMINAL = frozenset({"completed", "failed"})
# Polling pace when the server does not stream the processing status.
POLL_S = 0.5

_KBS: TypeAdapter[list[KnowledgeResponse]] = TypeAdapter(list[KnowledgeResponse], config=LATER)
_FILES: TypeAdapter[list[FileModelResponse]] = TypeAdapter(list[FileModelResponse], config=LATER)
_KB_FILES: TypeAdapter[list[KnowledgeFileItem]] = TypeAdapter(list[KnowledgeFileItem], config=LATER)
# Pages of a base's file list asked at most (Open WebUI: 30 files a page for non-admins).
MAX_FILE_PAGES = 1000


class KnowledgeMixin(BaseClient):
    """Knowledge bases, files and retrieval queries (see the module docstring)."""

    # --- knowledge bases ---

    async def list_knowledge(self) -> list[KnowledgeResponse]:
        """Every knowledge base the caller can read (0.12 `{items}` or 0.6's plain list)."""
        data = await self.request("GET", f"{KNOWLEDGE}/")
        if isinstance(data, dict):
            return parse(KnowledgeListResponse, data, KNOWLEDGE).items
        return _KBS.validate_python(data)

    async def create_knowledge(self, name: str, description: str = "") -> KnowledgeResponse:
        form = KnowledgeForm(name=name, description=description)
        return await self._post(f"{KNOWLEDGE}/create", KnowledgeResponse, form)

    async def get_knowledge(self, kb_id: str) -> KnowledgeFilesResponse:
        """A base with its files. Open WebUI 0.12 sends `files: null` here and lists them at
        `/knowledge/{id}/files`, a page at a time: they are read from there then."""
        path = f"{KNOWLEDGE}/{kb_id}"
        data = await self.request("GET", path)
        kb = parse(KnowledgeFilesResponse, data, path)
        if isinstance(data, dict) and data.get("files") is None:
            kb.files = await self.knowledge_files(kb_id)
        return kb

    async def knowledge_files(self, kb_id: str) -> list[KnowledgeFileItem]:
        """Every page of `/knowledge/{id}/files` (Open WebUI 0.12)."""
        path = f"{KNOWLEDGE}/{kb_id}/files"
        files: list[KnowledgeFileItem] = []
        for page in range(1, MAX_FILE_PAGES + 1):
            listing = parse(
                KnowledgeFileListResponse,
                await self.request("GET", path, params={"page": page}),
                path,
            )
            try:
                files += _KB_FILES.validate_python(listing.items)
            except ValidationError as exc:
                raise bad_answer(path, exc) from None
            if not listing.items or len(files) >= listing.total:
                break
        return files

    async def delete_knowledge(self, kb_id: str) -> bool:
        return await self._bool("DELETE", f"{KNOWLEDGE}/{kb_id}/delete")

    async def add_to_knowledge(self, kb_id: str, file_id: str) -> KnowledgeFilesResponse:
        form = KnowledgeFileIdForm(file_id=file_id)
        return await self._post(f"{KNOWLEDGE}/{kb_id}/file/add", KnowledgeFilesResponse, form)

    async def remove_from_knowledge(
        self, kb_id: str, file_id: str, *, delete_file: bool = True
    ) -> KnowledgeFilesResponse:
        """Unlink a file; with `delete_file` (Open WebUI's default) the caller's own file
        record, bytes and index rows go too."""
        path = f"{KNOWLEDGE}/{kb_id}/file/remove"
        form = KnowledgeFileIdForm(file_id=file_id)
        data = await self.request(
            "POST", path, body=form, params={"delete_file": "true" if delete_file else "false"}
        )
        return parse(KnowledgeFilesResponse, data, path)

    async def search_knowledge(
        self, kb_id: str, query: str, k: int = 5, *, hybrid: bool | None = None
    ) -> QueryResult:
        form = QueryCollectionsForm(collection_names=[kb_id], query=query, k=k, hybrid=hybrid)
        return await self._post(f"{RETRIEVAL}/query/collection", QueryResult, form)

    # --- files ---

    async def upload_file(
        self,
        path: Path,
        *,
        metadata: dict[str, Any] | None = None,
        process: bool = True,
        content_type: str = "application/octet-stream",
    ) -> FileModelResponse:
        """Upload a file; the daemon extracts and embeds it in the background (unless
        `process` is False: an image, kept as it is)."""
        data = await asyncio.to_thread(path.read_bytes)
        files = {"file": (path.name, data, content_type)}
        form = {"metadata": json.dumps(metadata)} if metadata else None
        params = {"process": str(process).lower(), "process_in_background": "true"}
        try:
            response = await self._http.post(f"{FILES}/", files=files, data=form, params=params)
        except httpx.TransportError as exc:
            raise self.lost(exc) from None
        finally:
            self._http.cookies.clear()
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text
            raise error_for_status(response.status_code, body, "POST", f"{FILES}/")
        try:
            return parse(FileModelResponse, response.json(), f"{FILES}/")
        except ValueError:
            raise BadResponse(f"{FILES}/ answered something that is not JSON") from None

    async def file_status(self, file_id: str) -> ProcessStatus:
        return await self._get(f"{FILES}/{file_id}/process/status", ProcessStatus)

    async def wait_processed(self, file_id: str) -> dict[str, Any]:
        """Follow a file's processing until it is completed or failed; the last status event
        (`{"status", "error"?, ...}`). Uses the status stream, or polls a server without it."""
        path = f"{FILES}/{file_id}/process/status?stream=true"
        last: dict[str, Any] = {}
        async with self.stream("GET", path) as response:
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                try:
                    async for data in sse_data(response.aiter_lines()):
                        try:
                            event = json.loads(data)
                        except ValueError:
                            continue
                        if isinstance(event, dict):
                            last = event
                            if event.get("status") in TERMINAL:
                                return event
                except httpx.TransportError as exc:
                    raise self.lost(exc) from None
        while last.get("status") not in TERMINAL:
            last = (await self.file_status(file_id)).model_dump(exclude_none=True)
            if last.get("status") not in TERMINAL:
                await asyncio.sleep(POLL_S)
        return last

    async def list_files(self) -> list[FileModelResponse]:
        """The caller's files (an admin's: everyone's), without their extracted text. Open
        WebUI 0.12 (and the daemon) answer a page at a time, `{"items", "total"}`; 0.6 answered
        one plain list."""
        files: list[FileModelResponse] = []
        for page in range(1, 10_000):
            params: dict[str, str | int | bool] = {"content": "false"}
            if page > 1:  # the first page is the default one
                params["page"] = page
            data = await self.request("GET", f"{FILES}/", params=params)
            try:
                if not isinstance(data, dict):
                    return _FILES.validate_python(data)
                items = _FILES.validate_python(data.get("items") or [])
            except ValidationError as exc:
                raise bad_answer(f"{FILES}/", exc) from None
            files.extend(items)
            total = data.get("total")
            if not items or not isinstance(total, int) or len(files) >= total:
                break
        return files

    async def get_file(self, file_id: str) -> FileModelResponse:
        return await self._get(f"{FILES}/{file_id}", FileModelResponse)

    async def cancel_processing(self, file_ids: list[str]) -> list[str]:
        """Stop the processing of these files (webui's extension); the ids it stopped."""
        if not file_ids:
            return []
        form = CancelForm(file_ids=file_ids)
        return (await self._post(f"{FILES}/process/cancel", CancelResponse, form)).cancelled

    async def delete_file(self, file_id: str) -> None:
        """Delete a file: its record, bytes, index rows and knowledge-base links."""
        await self.request("DELETE", f"{FILES}/{file_id}")
