"""FolderService: a user's chat folders (create, rename, move, expand, delete with contents)."""

import time
import uuid

from webui_daemon.schemas.folders import (
    FolderForm,
    FolderListItem,
    FolderModel,
    FolderResponse,
    FolderUpdateForm,
)
from webui_daemon.services import errors
from webui_daemon.services.chats.chat_mapping import folder_model
from webui_daemon.services.chats.chats import NOT_FOUND
from webui_daemon.storage.chats import ChatQuery, ChatRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.folders import FolderRepo
from webui_daemon.storage.rows import FolderRow
from webui_daemon.storage.tags import TagRepo

# Open WebUI's wording, from ERROR_MESSAGES.DEFAULT("Folder already exists").
FOLDER_EXISTS = "[ERROR: Folder already exists]"


class FolderService:
    def __init__(self, db: Database, folders: FolderRepo, chats: ChatRepo, tags: TagRepo) -> None:
        self._db = db
        self._folders = folders
        self._chats = chats
        self._tags = tags

    async def _owned(self, user_id: str, folder_id: str) -> FolderRow:
        row = await self._folders.get(folder_id, user_id)
        if row is None:
            raise errors.NotFound(NOT_FOUND)
        return row

    async def list(self, user_id: str) -> list[FolderListItem]:
        rows = await self._folders.for_user(user_id)
        return [FolderListItem(**folder_model(f).model_dump()) for f in rows]

    async def get(self, user_id: str, folder_id: str) -> FolderResponse:
        return FolderResponse(**folder_model(await self._owned(user_id, folder_id)).model_dump())

    async def create(self, user_id: str, form: FolderForm) -> FolderModel:
        name = form.name.strip()
        if not name:
            raise errors.WebUIError("A folder needs a name.")
        if form.parent_id is not None:
            await self._owned(user_id, form.parent_id)
        stamp = int(time.time())
        folder = FolderRow(
            id=str(uuid.uuid4()),
            user_id=user_id,
            parent_id=form.parent_id,
            name=name,
            meta=form.meta or {},
            data=form.data or {},
            created_at=stamp,
            updated_at=stamp,
        )
        async with self._db.transaction() as conn:
            if await self._folders.by_name(conn, user_id, form.parent_id, name):
                raise errors.Conflict(FOLDER_EXISTS)
            await self._folders.insert(conn, folder)
        return folder_model(folder)

    async def update(self, user_id: str, folder_id: str, form: FolderUpdateForm) -> FolderModel:
        folder = await self._owned(user_id, folder_id)
        fields: dict[str, object] = {}
        if form.name is not None and form.name.strip():
            fields["name"] = form.name.strip()
        # Open WebUI merges data and meta into what is stored.
        if form.data is not None:
            fields["data"] = {**(folder.data or {}), **form.data}
        if form.meta is not None:
            fields["meta"] = {**(folder.meta or {}), **form.meta}
        async with self._db.transaction() as conn:
            if "name" in fields:
                twin = await self._folders.by_name(
                    conn, user_id, folder.parent_id, str(fields["name"])
                )
                if twin is not None and twin.id != folder_id:
                    raise errors.Conflict(FOLDER_EXISTS)
            await self._folders.update(conn, folder_id, **fields, updated_at=int(time.time()))
        return await self.get(user_id, folder_id)

    async def move(self, user_id: str, folder_id: str, parent_id: str | None) -> FolderModel:
        folder = await self._owned(user_id, folder_id)
        if parent_id is not None:
            await self._owned(user_id, parent_id)
            if parent_id in await self._folders.subtree_ids(folder_id, user_id):
                raise errors.WebUIError("A folder cannot be moved into itself.")
        async with self._db.transaction() as conn:
            twin = await self._folders.by_name(conn, user_id, parent_id, folder.name)
            if twin is not None and twin.id != folder_id:
                raise errors.Conflict(FOLDER_EXISTS)
            await self._folders.update(
                conn, folder_id, parent_id=parent_id, updated_at=int(time.time())
            )
        return await self.get(user_id, folder_id)

    async def set_expanded(self, user_id: str, folder_id: str, expanded: bool) -> FolderModel:
        await self._owned(user_id, folder_id)
        async with self._db.transaction() as conn:
            await self._folders.update(
                conn, folder_id, is_expanded=expanded, updated_at=int(time.time())
            )
        return await self.get(user_id, folder_id)

    async def delete(self, user_id: str, folder_id: str, delete_contents: bool) -> bool:
        """Delete the folder and those below it; their chats go too, or move out of folders."""
        await self._owned(user_id, folder_id)
        async with self._db.transaction() as conn:
            folder_ids = await self._folders.subtree_ids(folder_id, user_id, conn)
            if delete_contents:
                await self._chats.delete_where(
                    conn, ChatQuery(user_id=user_id, folder_ids=folder_ids, archived=None)
                )
                in_use = await self._chats.tag_ids_in_use(conn, user_id)
                await self._tags.delete_except(conn, user_id, in_use)
            # Otherwise the foreign key (ON DELETE SET NULL) takes the chats out of the folder.
            await self._folders.delete(conn, folder_ids)
        return True
