"""What the terminal UI needs beyond `WebUIClient`: regenerate, branch choice, knowledge, files.

`TuiClient` is a `WebUIClient` with these calls; the CLI keeps using the plain client.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter

from webui_daemon.schemas.files import FileModelResponse, ProcessStatus
from webui_daemon.schemas.knowledge import (
    KnowledgeFileIdForm,
    KnowledgeFilesResponse,
    KnowledgeForm,
    KnowledgeListResponse,
    KnowledgeResponse,
)
from webui_daemon.schemas.retrieval import QueryCollectionsForm, QueryResult
from webui_tui.client.api import WebUIClient
from webui_tui.client.base import parse
from webui_tui.client.chats import CHATS
from webui_tui.client.completions import COMPLETIONS, ChatStream, new_id
from webui_tui.client.errors import error_for_status

KNOWLEDGE = "/api/v1/knowledge"
FILES = "/api/v1/files"
_KBS: TypeAdapter[list[KnowledgeResponse]] = TypeAdapter(list[KnowledgeResponse])


class TuiClient(WebUIClient):
    """`WebUIClient` plus the calls of the terminal UI (see the module docstring)."""

    # --- chats ---

    @asynccontextmanager
    async def stream_regenerate(
        self, chat_id: str, parent_id: str, model: str, *, extra: dict[str, Any] | None = None
    ) -> AsyncIterator[ChatStream]:
        """A new answer to the existing user message `parent_id` (a sibling of the old one)."""
        answer_id = new_id()
        body: dict[str, Any] = {
            **(extra or {}),
            "model": model,
            "stream": True,
            "chat_id": chat_id,
            "id": answer_id,
            "parent_id": parent_id,
        }
        async with self.stream("POST", COMPLETIONS, body=body) as response:
            yield ChatStream(self, response, model=model, chat_id=chat_id, message_id=answer_id)

    async def set_current(self, chat_id: str, message_id: str) -> None:
        """Show the branch that ends at `message_id` (history.currentId)."""
        document = {"history": {"currentId": message_id, "messages": {}}}
        await self.request("POST", f"{CHATS}/{chat_id}", body={"chat": document})

    # --- knowledge ---

    async def list_knowledge(self) -> list[KnowledgeResponse]:
        data = await self.request("GET", f"{KNOWLEDGE}/")
        if isinstance(data, dict):
            return parse(KnowledgeListResponse, data, KNOWLEDGE).items
        return _KBS.validate_python(data)

    async def create_knowledge(self, name: str, description: str = "") -> KnowledgeResponse:
        form = KnowledgeForm(name=name, description=description)
        return await self._post(f"{KNOWLEDGE}/create", KnowledgeResponse, form)

    async def get_knowledge(self, kb_id: str) -> KnowledgeFilesResponse:
        return await self._get(f"{KNOWLEDGE}/{kb_id}", KnowledgeFilesResponse)

    async def delete_knowledge(self, kb_id: str) -> bool:
        return await self._bool("DELETE", f"{KNOWLEDGE}/{kb_id}/delete")

    async def add_to_knowledge(self, kb_id: str, file_id: str) -> KnowledgeFilesResponse:
        form = KnowledgeFileIdForm(file_id=file_id)
        return await self._post(f"{KNOWLEDGE}/{kb_id}/file/add", KnowledgeFilesResponse, form)

    async def remove_from_knowledge(self, kb_id: str, file_id: str) -> KnowledgeFilesResponse:
        form = KnowledgeFileIdForm(file_id=file_id)
        path = f"{KNOWLEDGE}/{kb_id}/file/remove"
        return await self._post(path, KnowledgeFilesResponse, form)

    async def search_knowledge(self, kb_id: str, query: str, k: int = 5) -> QueryResult:
        form = QueryCollectionsForm(collection_names=[kb_id], query=query, k=k)
        return await self._post("/api/v1/retrieval/query/collection", QueryResult, form)

    # --- files ---

    async def upload_file(self, path: Path) -> FileModelResponse:
        """Upload a file; the daemon extracts and embeds it in the background."""
        data = path.read_bytes()  # noqa: ASYNC240 (read once, before the request)
        files = {"file": (path.name, data, "application/octet-stream")}
        params = {"process": "true", "process_in_background": "true"}
        try:
            response = await self._http.post(f"{FILES}/", files=files, params=params)
        except httpx.TransportError as exc:
            raise self.lost(exc) from None
        finally:
            self._http.cookies.clear()
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except json.JSONDecodeError:
                body = response.text
            raise error_for_status(response.status_code, body, "POST", f"{FILES}/")
        return parse(FileModelResponse, response.json(), f"{FILES}/")

    async def file_status(self, file_id: str) -> ProcessStatus:
        return await self._get(f"{FILES}/{file_id}/process/status", ProcessStatus)
