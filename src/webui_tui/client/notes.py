"""Notes (`/api/v1/notes`, Open WebUI 0.12): list, read, write, delete; a note's Markdown.

note = await client.create_note("Ideas", "# Ideas\\n- one")
full = await client.get_note(note.id)          # with its Markdown and write_access
"""

from typing import Any

from pydantic import TypeAdapter

from webui_daemon.schemas.notes import (
    NoteForm,
    NoteItemResponse,
    NoteModel,
    NoteResponse,
    NoteUpdateForm,
)
from webui_tui.client.base import LATER, BaseClient, parse

NOTES = "/api/v1/notes"

_ITEMS: TypeAdapter[list[NoteItemResponse]] = TypeAdapter(list[NoteItemResponse], config=LATER)


def markdown_data(markdown: str) -> dict[str, Any]:
    """A note's `data` holding Markdown only (the web editor rebuilds its html/json)."""
    return {"content": {"md": markdown}}


class NotesMixin(BaseClient):
    async def list_notes(self) -> list[NoteItemResponse]:
        """Every note the caller may read, latest change first (Markdown cut to 1000 chars)."""
        return await self._list(f"{NOTES}/", _ITEMS)

    async def get_note(self, note_id: str) -> NoteResponse:
        return await self._get(f"{NOTES}/{note_id}", NoteResponse)

    async def create_note(self, title: str, markdown: str) -> NoteModel:
        form = NoteForm(title=title, data=markdown_data(markdown))
        return await self._post(f"{NOTES}/create", NoteModel, form)

    async def update_note(
        self, note_id: str, *, title: str | None = None, markdown: str | None = None
    ) -> NoteModel:
        form = NoteUpdateForm(
            title=title, data=None if markdown is None else markdown_data(markdown)
        )
        return await self._post(f"{NOTES}/{note_id}/update", NoteModel, form)

    async def update_note_access(self, note_id: str, grants: list[dict[str, str]]) -> NoteModel:
        """Replace who may read or change a note (0.12's grants, whole)."""
        path = f"{NOTES}/{note_id}/access/update"
        return parse(
            NoteModel, await self.request("POST", path, body={"access_grants": grants}), path
        )

    async def delete_note(self, note_id: str) -> bool:
        return await self._bool("DELETE", f"{NOTES}/{note_id}/delete")
