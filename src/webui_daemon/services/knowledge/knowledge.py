"""Knowledge bases: create, list, get with files, update (and sharing), delete; add, update,
remove files; reset. A knowledge base is a set of files: adding an indexed file is a link, not a
second copy of its vectors, and searching the knowledge base searches its files' rows."""

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from webui_daemon.schemas.access import AccessGrant
from webui_daemon.schemas.knowledge import (
    KnowledgeFileItem,
    KnowledgeFileListResponse,
    KnowledgeFilesResponse,
    KnowledgeForm,
    KnowledgeListResponse,
    KnowledgeResponse,
    KnowledgeUpdateForm,
)
from webui_daemon.security.permissions import Permissions
from webui_daemon.services import errors
from webui_daemon.services.access import (
    allowed_grants,
    asked_grants,
    check_sharing,
    grants_out,
    normalize,
    permission_refused,
)
from webui_daemon.services.knowledge.files import FileService, file_response
from webui_daemon.services.knowledge.ingest import IngestService
from webui_daemon.services.knowledge.knowledge_access import (
    AccessResolver,
    access_control_from_grants,
    grants_from_wire,
    grants_to_wire,
)
from webui_daemon.storage.files import FileRepo, FileRow
from webui_daemon.storage.grants import GrantRow
from webui_daemon.storage.knowledge import KnowledgeRepo, KnowledgeRow
from webui_daemon.storage.rows import UserRow
from webui_daemon.storage.users import UserRepo

PER_PAGE = 30
FILES_PER_PAGE = 50
DUPLICATE = "Duplicate content detected. Please provide unique content to proceed."


def file_item(row: FileRow) -> KnowledgeFileItem:
    return KnowledgeFileItem(
        id=row.id,
        filename=row.filename,
        hash=row.hash,
        meta=row.meta,
        status=row.status,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class KnowledgeService:
    def __init__(
        self,
        repo: KnowledgeRepo,
        files: FileRepo,
        users: UserRepo,
        access: AccessResolver,
        file_service: FileService,
        ingest: IngestService,
        permissions: Callable[[UserRow], Awaitable[Permissions]],
    ) -> None:
        self._repo = repo
        self._files = files
        self._users = users
        self._access = access
        self._file_service = file_service
        self._ingest = ingest
        self._permissions = permissions

    # ---- shapes --------------------------------------------------------------------------

    async def _response(self, user: UserRow, row: KnowledgeRow) -> KnowledgeResponse:
        owner = await self._users.get(row.user_id)
        return KnowledgeResponse(
            id=row.id,
            user_id=row.user_id,
            name=row.name,
            description=row.description,
            data=row.data,
            meta=row.meta,
            access_control=access_control_from_grants(row.grants),
            access_grants=grants_out(
                "knowledge", row.id, grants_to_wire(row.grants), row.updated_at
            ),
            write_access=await self._access.can_write_knowledge(user, row),
            user=None
            if owner is None
            else {
                "id": owner.id,
                "name": owner.name,
                "email": owner.email,
                "role": owner.role,
                "profile_image_url": owner.profile_image_url,
            },
            file_count=row.file_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def _with_files(
        self, user: UserRow, knowledge_id: str, warnings: dict[str, Any] | None = None
    ) -> KnowledgeFilesResponse:
        row = await self._repo.get(knowledge_id)
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        files, _ = await self._repo.files(knowledge_id)
        base = await self._response(user, row)
        return KnowledgeFilesResponse(
            **base.model_dump(), files=[file_item(f) for f in files], warnings=warnings
        )

    async def _grants(
        self, user: UserRow, form: KnowledgeForm | KnowledgeUpdateForm
    ) -> list[GrantRow] | None:
        """The grants a form asks for (None: it did not say), less those the caller may not
        give (access.allowed_grants: Open WebUI 0.12 drops them the same way)."""
        wanted = asked_grants(form)
        if wanted is None:
            return None
        permissions = await self._permissions(user)
        return grants_from_wire(allowed_grants(user, permissions, wanted, "knowledge"))

    # ---- knowledge bases -----------------------------------------------------------------

    async def create(self, user: UserRow, form: KnowledgeForm) -> KnowledgeFilesResponse:
        if user.role != "admin" and not (await self._permissions(user))["workspace"].get(
            "knowledge", False
        ):
            raise permission_refused(user, "workspace.knowledge", "create knowledge bases")
        now = int(time.time())
        row = KnowledgeRow(
            id=str(uuid.uuid4()),
            user_id=user.id,
            name=form.name.strip(),
            description=form.description,
            data=form.data,
            meta=form.meta,
            grants=tuple(await self._grants(user, form) or ()),
            created_at=now,
            updated_at=now,
        )
        await self._repo.insert(row)
        # A new base has no files (0.12 answers `files: null`; webui's list is empty).
        return KnowledgeFilesResponse(**(await self._response(user, row)).model_dump(), files=[])

    async def list_bases(
        self, user: UserRow, *, page: int | None, query: str | None, view_option: str | None
    ) -> KnowledgeListResponse:
        who = None if user.role == "admin" else await self._access.principal(user)
        if view_option == "created" and who is None:
            who = await self._access.principal(user)
        limit = None if page is None else PER_PAGE
        offset = 0 if page is None else (page - 1) * PER_PAGE
        rows, total = await self._repo.page(
            who,
            query=query,
            owned_only=view_option == "created",
            limit=limit,
            offset=offset,
        )
        if view_option == "shared":
            rows = [r for r in rows if r.user_id != user.id]
        return KnowledgeListResponse(
            items=[await self._response(user, r) for r in rows], total=total
        )

    async def writable(self, user: UserRow) -> list[KnowledgeResponse]:
        """0.6's /knowledge/list: the knowledge bases the caller may change."""
        who = None if user.role == "admin" else await self._access.principal(user)
        rows, _ = await self._repo.page(who, permission="write")
        return [await self._response(user, r) for r in rows]

    async def get(self, user: UserRow, knowledge_id: str) -> KnowledgeFilesResponse:
        await self._access.knowledge(user, knowledge_id, "read")
        return await self._with_files(user, knowledge_id)

    async def files(
        self, user: UserRow, knowledge_id: str, *, page: int | None, query: str | None
    ) -> KnowledgeFileListResponse:
        await self._access.knowledge(user, knowledge_id, "read")
        limit = None if page is None else FILES_PER_PAGE
        offset = 0 if page is None else (page - 1) * FILES_PER_PAGE
        rows, total = await self._repo.files(knowledge_id, query=query, limit=limit, offset=offset)
        items = []
        for row in rows:
            item = file_response(row, content=False).model_dump()
            # 0.12's folders inside a base: webui has none, every file is at the top.
            item |= {"directory_id": None, "directory_path": "", "has_original": bool(row.path)}
            owner = await self._users.get(row.user_id)
            item["user"] = None if owner is None else {"id": owner.id, "name": owner.name}
            items.append(item)
        return KnowledgeFileListResponse(items=items, total=total)

    async def update(
        self, user: UserRow, knowledge_id: str, form: KnowledgeUpdateForm
    ) -> KnowledgeFilesResponse:
        row = await self._access.knowledge(user, knowledge_id, "write")
        grants = await self._grants(user, form)
        if grants is not None and user.role != "admin" and row.user_id != user.id:
            grants = None  # only the owner (or an admin) changes who has access
        fields = form.model_dump(include={"name", "description", "data", "meta"}, exclude_none=True)
        if "name" in fields:
            fields["name"] = fields["name"].strip()
        await self._repo.update(knowledge_id, grants=grants, **fields)
        return await self._with_files(user, knowledge_id)

    async def update_access(
        self, user: UserRow, knowledge_id: str, grants: list[AccessGrant]
    ) -> KnowledgeFilesResponse:
        """Replace the grants, as Open WebUI 0.12's access update: the owner, a writer or an
        admin (others: 400), and only audiences the caller may share with (else 403)."""
        row = await self._repo.get(knowledge_id)
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        if not await self._access.can_write_knowledge(user, row):
            raise errors.WebUIError(errors.ACCESS_PROHIBITED)
        wanted = normalize(g.model_dump() for g in grants)
        check_sharing(user, await self._permissions(user), wanted, "knowledge")
        await self._repo.update(knowledge_id, grants=grants_from_wire(wanted))
        return await self._with_files(user, knowledge_id)

    async def delete(self, user: UserRow, knowledge_id: str) -> bool:
        await self._access.knowledge(user, knowledge_id, "write")
        return await self._repo.delete(knowledge_id)

    async def reset(self, user: UserRow, knowledge_id: str) -> KnowledgeResponse:
        await self._access.knowledge(user, knowledge_id, "write")
        await self._repo.reset(knowledge_id)
        row = await self._repo.get(knowledge_id)
        assert row is not None
        return await self._response(user, row)

    # ---- files of a knowledge base -------------------------------------------------------

    async def _addable(self, user: UserRow, knowledge_id: str, file_id: str) -> FileRow:
        try:
            row = await self._access.file(user, file_id)
        except errors.NotFound:
            raise errors.WebUIError(errors.USER_NOT_FOUND) from None
        if row.kind != "upload":
            raise errors.WebUIError(errors.USER_NOT_FOUND)
        if row.status == "failed":
            raise errors.WebUIError(
                f"The file could not be processed: {row.error or 'unknown error'}"
            )
        if await self._repo.has_hash(knowledge_id, row.hash, row.id):
            raise errors.WebUIError(DUPLICATE)
        return row

    async def add_file(
        self, user: UserRow, knowledge_id: str, file_id: str
    ) -> KnowledgeFilesResponse:
        """Link a file (webui also takes one still processing: it becomes searchable when
        done; Open WebUI wants it processed first)."""
        await self._access.knowledge(user, knowledge_id, "write")
        await self._addable(user, knowledge_id, file_id)
        await self._repo.add_files(knowledge_id, [file_id], user.id)
        return await self._with_files(user, knowledge_id)

    async def batch_add(
        self, user: UserRow, knowledge_id: str, file_ids: list[str]
    ) -> KnowledgeFilesResponse:
        await self._access.knowledge(user, knowledge_id, "write")
        added, failures = [], []
        for file_id in dict.fromkeys(file_ids):
            try:
                await self._addable(user, knowledge_id, file_id)
            except errors.WebUIError as exc:
                failures.append({"file_id": file_id, "error": exc.detail})
                continue
            added.append(file_id)
        if added:
            await self._repo.add_files(knowledge_id, added, user.id)
        warnings = None
        if failures:
            warnings = {"message": "Some files failed to add.", "errors": failures}
        return await self._with_files(user, knowledge_id, warnings)

    async def update_file(
        self, user: UserRow, knowledge_id: str, file_id: str
    ) -> KnowledgeFilesResponse:
        """Re-index a file of the knowledge base (from its bytes, or its edited text)."""
        await self._access.knowledge(user, knowledge_id, "write")
        try:
            row = await self._access.file(user, file_id, "write")
        except errors.NotFound:
            raise errors.WebUIError(errors.USER_NOT_FOUND) from None
        await self._repo.add_files(knowledge_id, [row.id], user.id)
        await self._ingest.submit(row.id)
        return await self._with_files(user, knowledge_id)

    async def remove_file(
        self, user: UserRow, knowledge_id: str, file_id: str, *, delete_file: bool
    ) -> KnowledgeFilesResponse:
        """Unlink a file; with delete_file (the default, as Open WebUI) the caller's own file is
        deleted too, record, bytes and rows (someone else's file is only unlinked)."""
        await self._access.knowledge(user, knowledge_id, "write")
        if not await self._repo.remove_file(knowledge_id, file_id):
            raise errors.WebUIError(errors.USER_NOT_FOUND)
        if delete_file:
            row = await self._files.get(file_id)
            if row is not None and (row.user_id == user.id or user.role == "admin"):
                await self._file_service.remove([row])
        return await self._with_files(user, knowledge_id)
