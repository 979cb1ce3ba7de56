"""Chats (`/api/v1/chats/...`, spec 6): create, read, list, search, change, export, import."""

import json
import time
from typing import Any

import httpx
from pydantic import TypeAdapter

from webui_daemon.schemas.chats import (
    ChatForm,
    ChatResponse,
    ChatTitleIdResponse,
    TagForm,
    TagModel,
)
from webui_tui.client.base import LATER, BaseClient, Params
from webui_tui.client.errors import BadResponse

CHATS = "/api/v1/chats"
NEW_CHAT_TITLE = "New Chat"
JSON_OR_NDJSON = "application/json, application/x-ndjson"

_TITLES: TypeAdapter[list[ChatTitleIdResponse]] = TypeAdapter(
    list[ChatTitleIdResponse], config=LATER
)
_CHATS: TypeAdapter[list[ChatResponse]] = TypeAdapter(list[ChatResponse], config=LATER)
_TAGS: TypeAdapter[list[TagModel]] = TypeAdapter(list[TagModel], config=LATER)


def new_document(
    models: list[str], *, system: str | None = None, title: str = NEW_CHAT_TITLE
) -> dict[str, Any]:
    """An empty chat document as Open WebUI's web app creates it (timestamp in ms)."""
    document: dict[str, Any] = {
        "id": "",
        "title": title,
        "models": models,
        "params": {},
        "history": {"messages": {}, "currentId": None},
        "messages": [],
        "tags": [],
        "files": [],
        "timestamp": int(time.time() * 1000),
    }
    if system:
        document["system"] = system
    return document


class ChatsMixin(BaseClient):
    async def new_chat(
        self,
        model: str,
        *,
        system: str | None = None,
        title: str = NEW_CHAT_TITLE,
        folder_id: str | None = None,
    ) -> ChatResponse:
        """An empty chat for `model`; the daemon names it after the first exchange."""
        document = new_document([model], system=system, title=title)
        return await self.create_chat(document, folder_id=folder_id)

    async def create_chat(
        self, document: dict[str, Any], *, folder_id: str | None = None
    ) -> ChatResponse:
        """A chat holding `document` (a whole chat document, see `new_document`)."""
        form = ChatForm(chat=document, folder_id=folder_id)
        return await self._post(f"{CHATS}/new", ChatResponse, form)

    async def get_chat(self, chat_id: str) -> ChatResponse:
        return await self._get(f"{CHATS}/{chat_id}", ChatResponse)

    async def list_chats(
        self,
        page: int | None = None,
        *,
        include_pinned: bool = True,
        include_folders: bool = True,
    ) -> list[ChatTitleIdResponse]:
        """Unarchived chats, most recently updated first; every page when `page` is None.

        Unlike Open WebUI's sidebar default, pinned and in-folder chats are included.
        """
        params: Params = {"include_pinned": include_pinned, "include_folders": include_folders}
        if page is not None:
            params["page"] = page
        return await self._list(f"{CHATS}/", _TITLES, params=params)

    async def archived_chats(self, page: int | None = None) -> list[ChatTitleIdResponse]:
        params: Params = {} if page is None else {"page": page}
        return await self._list(f"{CHATS}/archived", _TITLES, params=params or None)

    async def pinned_chats(self) -> list[ChatTitleIdResponse]:
        return await self._list(f"{CHATS}/pinned", _TITLES)

    async def last_chat(self) -> ChatTitleIdResponse | None:
        """The most recently updated unarchived chat, if any."""
        first = await self.list_chats(page=1)
        return max(first, key=lambda chat: chat.updated_at, default=None)

    async def search_chats(self, text: str, page: int | None = None) -> list[ChatTitleIdResponse]:
        """Titles and message text; `tag:x`, `pinned:true`, `archived:true` filter."""
        params: Params = {"text": text}
        if page is not None:
            params["page"] = page
        return await self._list(f"{CHATS}/search", _TITLES, params=params)

    async def update_chat(self, chat_id: str, document: dict[str, Any]) -> ChatResponse:
        """Merge `document` (a partial chat document) over the stored one."""
        return await self._post(f"{CHATS}/{chat_id}", ChatResponse, ChatForm(chat=document))

    async def rename_chat(self, chat_id: str, title: str) -> ChatResponse:
        return await self.update_chat(chat_id, {"title": title})

    async def delete_chat(self, chat_id: str) -> bool:
        return await self._bool("DELETE", f"{CHATS}/{chat_id}")

    async def toggle_pin(self, chat_id: str) -> ChatResponse:
        """Pin an unpinned chat, unpin a pinned one."""
        return await self._post(f"{CHATS}/{chat_id}/pin", ChatResponse)

    async def toggle_archive(self, chat_id: str) -> ChatResponse:
        """Archive a chat, or bring an archived one back."""
        return await self._post(f"{CHATS}/{chat_id}/archive", ChatResponse)

    async def chat_tags(self, chat_id: str) -> list[TagModel]:
        return await self._list(f"{CHATS}/{chat_id}/tags", _TAGS)

    async def add_tag(self, chat_id: str, name: str) -> list[TagModel]:
        """Tag a chat; returns the chat's tags."""
        path = f"{CHATS}/{chat_id}/tags"
        return await self._list(path, _TAGS, method="POST", body=TagForm(name=name))

    async def remove_tag(self, chat_id: str, name: str) -> list[TagModel]:
        path = f"{CHATS}/{chat_id}/tags"
        return await self._list(path, _TAGS, method="DELETE", body=TagForm(name=name))

    async def export_chats(self) -> list[ChatResponse]:
        """Every chat of yours, archived ones too (Open WebUI's export format)."""
        path = f"{CHATS}/all"
        async with self.stream("GET", path, read_timeout=300, accept=JSON_OR_NDJSON) as reply:
            try:
                raw = await reply.aread()
            except httpx.TransportError as exc:
                raise self.lost(exc) from None
        try:
            return _CHATS.validate_python(json_or_ndjson(raw))
        except ValueError:
            raise BadResponse(f"unexpected answer from {path}: not a list of chats") from None

    async def import_chats(self, chats: list[dict[str, Any]]) -> list[ChatResponse]:
        """Import Open WebUI export items (`{chat, meta?, pinned?, ...}`, or bare documents)."""
        return await self._list(f"{CHATS}/import", _CHATS, method="POST", body={"chats": chats})


def json_or_ndjson(raw: bytes) -> Any:
    """A JSON list, or NDJSON (one chat per line: Open WebUI 0.12's export) as a list; one
    chat alone on its line reads as a JSON object, and is a list of one too."""
    try:
        data = json.loads(raw)
    except ValueError:
        return [json.loads(line) for line in raw.splitlines() if line.strip()]
    return [data] if isinstance(data, dict) else data
