"""Notes (Open WebUI 0.12): list, search, pinned, create, get, update, share, pin, delete, and
the read check a chat's `{"type": "note"}` item goes through (services.knowledge.rag_context).

Who: the owner and admins always; others through grants (a write grant also reads). Every
route first checks that notes are enabled (ENABLE_NOTES, else 403 "Notes is disabled") and
that a non-admin holds `features.notes` (else 401). Answers as 0.12: an unknown note 404, a
note the caller may not read (or change) 403 "Something went wrong :/", never its content.
"""

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from webui_daemon.schemas.notes import (
    NoteAccessGrantsForm,
    NoteForm,
    NoteItemResponse,
    NoteListResponse,
    NoteModel,
    NoteResponse,
    NoteUpdateForm,
    NoteUser,
    NoteUserResponse,
    note_markdown,
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
from webui_daemon.services.knowledge.knowledge_access import (
    access_control_from_grants,
    grants_from_wire,
    grants_to_wire,
)
from webui_daemon.storage.grants import GrantRow, Principal, holds_grant
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.notes import NoteQuery, NoteRepo, NoteRow, now_ns
from webui_daemon.storage.rows import UserRow
from webui_daemon.storage.users import UserRepo

PER_PAGE = 60  # 0.12's page of notes
PREVIEW_CHARS = 1000  # Markdown kept in list items (0.12 `_truncate_note_data`)
# Open WebUI 0.12's words: ERROR_MESSAGES.DEFAULT() and FEATURE_DISABLED("Notes").
REFUSED = "Something went wrong :/"
DISABLED = "Notes is disabled"
PUBLIC_WRITE = GrantRow("user", "*", "write")


def note_size(title: str, data: dict[str, Any] | None) -> int:
    """What counts against WEBUI_NOTE_MAX_BYTES: the title and the data as compact JSON."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")) if data else ""
    return len(title.encode()) + len(body.encode())


def preview(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if not data:
        return data
    return {"content": {"md": note_markdown(data)[:PREVIEW_CHARS]}}


def note_model(row: NoteRow, *, pinned: bool) -> NoteModel:
    return NoteModel(
        id=row.id,
        user_id=row.user_id,
        title=row.title,
        data=row.data or {},
        meta=row.meta,
        is_pinned=pinned,
        # Note times are nanoseconds; a grant's are seconds, as 0.12's.
        access_grants=grants_out(
            "note", row.id, grants_to_wire(row.grants), row.updated_at // 1_000_000_000
        ),
        access_control=access_control_from_grants(row.grants),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class NoteService:
    def __init__(
        self,
        repo: NoteRepo,
        users: UserRepo,
        groups: GroupRepo,
        permissions: Callable[[UserRow], Awaitable[Permissions]],
        *,
        enabled: bool = True,
        max_bytes: int = 1024 * 1024,
    ) -> None:
        self._repo = repo
        self._users = users
        self._groups = groups
        self._permissions = permissions
        self.enabled = enabled
        self.max_bytes = max_bytes

    # ---- checks --------------------------------------------------------------------------

    async def _check(self, user: UserRow) -> None:
        """0.12's check_notes_access, before anything else."""
        if not self.enabled:
            raise errors.Forbidden(DISABLED)
        if user.role == "admin":
            return
        if not (await self._permissions(user)).get("features", {}).get("notes", False):
            raise permission_refused(
                user, "features.notes", "use notes", remote=errors.UNAUTHORIZED
            )

    async def _principal(self, user: UserRow) -> Principal:
        return Principal(user.id, tuple(g.id for g in await self._groups.for_user(user.id)))

    async def _may(self, user: UserRow, row: NoteRow, permission: str) -> bool:
        if user.role == "admin" or row.user_id == user.id:
            return True
        return holds_grant(await self._principal(user), row.user_id, row.grants, permission)

    async def _note(self, user: UserRow, note_id: str, permission: str) -> NoteRow:
        row = await self._repo.get(note_id)
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        if not await self._may(user, row, permission):
            raise errors.Forbidden(REFUSED)
        return row

    def _fits(self, title: str, data: dict[str, Any] | None) -> None:
        size = note_size(title, data)
        if size > self.max_bytes:
            raise errors.TooLarge(
                f"The note is too large: {size} bytes; the limit is {self.max_bytes} bytes "
                "(WEBUI_NOTE_MAX_BYTES)."
            )

    async def _model(self, user: UserRow, row: NoteRow) -> NoteModel:
        return note_model(row, pinned=row.id in await self._repo.pinned_ids(user.id))

    async def _owners(self, rows: list[NoteRow]) -> dict[str, NoteUser]:
        out: dict[str, NoteUser] = {}
        for user_id in dict.fromkeys(r.user_id for r in rows):
            owner = await self._users.get(user_id)
            if owner is not None:
                out[user_id] = NoteUser(
                    id=owner.id, name=owner.name, role=owner.role, email=owner.email
                )
        return out

    # ---- lists ---------------------------------------------------------------------------

    async def _items(
        self, user: UserRow, rows: list[NoteRow], *, pinned: set[str] | None = None
    ) -> list[NoteItemResponse]:
        owners = await self._owners(rows)
        pins = pinned if pinned is not None else await self._repo.pinned_ids(user.id)
        return [
            NoteItemResponse(
                id=r.id,
                title=r.title,
                data=preview(r.data or {}),
                is_pinned=r.id in pins,
                updated_at=r.updated_at,
                created_at=r.created_at,
                user=owners[r.user_id],
            )
            for r in rows
            if r.user_id in owners
        ]

    async def list_notes(self, user: UserRow, *, page: int | None) -> list[NoteItemResponse]:
        """`GET /notes/`: the notes the caller may read, latest change first (admins too:
        0.12 lists an admin's own and shared notes here)."""
        await self._check(user)
        limit = None if page is None else PER_PAGE
        offset = 0 if page is None else (page - 1) * PER_PAGE
        query = NoteQuery(await self._principal(user), user.id, limit=limit, offset=offset)
        rows, _ = await self._repo.page(query)
        return await self._items(user, rows)

    async def pinned(self, user: UserRow) -> list[NoteItemResponse]:
        await self._check(user)
        query = NoteQuery(await self._principal(user), user.id, pinned_by=user.id)
        rows, _ = await self._repo.page(query)
        return await self._items(user, rows, pinned={r.id for r in rows})

    async def search(
        self,
        user: UserRow,
        *,
        query: str | None,
        view_option: str | None,
        permission: str | None,
        order_by: str | None,
        direction: str | None,
        page: int,
    ) -> NoteListResponse:
        """`GET /notes/search` as 0.12: every word in the title or the Markdown (hyphens and
        spaces ignored); notes the caller may write unless `permission` says read (or
        read_only); `view_option` created / shared; admins search every note."""
        await self._check(user)
        who = None if user.role == "admin" else await self._principal(user)
        wanted: Literal["read", "write", "read_only"] = "write"
        if permission in ("read", "read_only"):
            wanted = "read" if permission == "read" else "read_only"
        owner: Literal["any", "mine", "others"] = "any"
        if view_option in ("created", "shared"):
            owner = "mine" if view_option == "created" else "others"
        words = tuple(w for w in (x.replace("-", "") for x in (query or "").split()) if w)
        rows, total = await self._repo.page(
            NoteQuery(
                who,
                user.id,
                permission=wanted,
                words=words,
                owner=owner,
                order_by=order_by,
                ascending=direction == "asc",
                limit=PER_PAGE,
                offset=(page - 1) * PER_PAGE,
            )
        )
        owners = await self._owners(rows)
        pins = await self._repo.pinned_ids(user.id)
        items = []
        for row in rows:
            model = note_model(row, pinned=row.id in pins).model_dump()
            model["data"] = preview(row.data or {})
            items.append(NoteUserResponse(**model, user=owners.get(row.user_id)))
        return NoteListResponse(items=items, total=total)

    # ---- one note ------------------------------------------------------------------------

    async def _form_grants(self, user: UserRow, form: NoteForm) -> list[GrantRow]:
        wire = asked_grants(form)
        if wire is None:
            return []
        permissions = await self._permissions(user)
        return grants_from_wire(allowed_grants(user, permissions, wire, "note"))

    async def create(self, user: UserRow, form: NoteForm) -> NoteModel:
        """A new note of the caller's; grants the caller may not give are dropped (0.12)."""
        await self._check(user)
        data = form.data
        self._fits(form.title, data)
        now = now_ns()
        row = NoteRow(
            id=str(uuid.uuid4()),
            user_id=user.id,
            title=form.title,
            data=data,
            meta=form.meta,
            grants=tuple(await self._form_grants(user, form)),
            created_at=now,
            updated_at=now,
        )
        await self._repo.insert(row)
        return note_model(row, pinned=False)

    async def get(self, user: UserRow, note_id: str) -> NoteResponse:
        await self._check(user)
        row = await self._note(user, note_id, "read")
        write = await self._may(user, row, "write") or PUBLIC_WRITE in row.grants
        return NoteResponse(**(await self._model(user, row)).model_dump(), write_access=write)

    async def update(self, user: UserRow, note_id: str, form: NoteUpdateForm) -> NoteModel:
        """Merge `data` and `meta` key by key, replace the title; a change moves updated_at."""
        await self._check(user)
        row = await self._note(user, note_id, "write")
        sent = form.model_fields_set
        title = form.title if "title" in sent and form.title is not None else row.title
        data = {**(row.data or {}), **(form.data or {})} if "data" in sent else row.data
        meta = {**(row.meta or {}), **(form.meta or {})} if "meta" in sent else row.meta
        if (title, data, meta) == (row.title, row.data, row.meta):
            return await self._model(user, row)
        self._fits(title, data)
        if not await self._repo.update(
            note_id, title=title, data=data, meta=meta, updated_at=now_ns()
        ):
            raise errors.NotFound(errors.USER_NOT_FOUND)  # deleted meanwhile
        return await self._model(user, await self._note(user, note_id, "read"))

    async def update_access(
        self, user: UserRow, note_id: str, form: NoteAccessGrantsForm
    ) -> NoteModel:
        """Replace the grants (0.12): a writer, the owner or an admin, and only audiences the
        caller may share with (one grant too many: 403, nothing changed)."""
        await self._check(user)
        await self._note(user, note_id, "write")
        wanted = normalize(g.model_dump() for g in form.access_grants)
        check_sharing(user, await self._permissions(user), wanted, "note")
        if not await self._repo.set_grants(note_id, grants_from_wire(wanted)):
            raise errors.NotFound(errors.USER_NOT_FOUND)
        return await self._model(user, await self._note(user, note_id, "read"))

    async def toggle_pin(self, user: UserRow, note_id: str) -> NoteModel:
        """Pin a note the caller may read (or unpin it): pins are the caller's own."""
        await self._check(user)
        row = await self._note(user, note_id, "read")
        pinned = await self._repo.toggle_pin(note_id, user.id)
        return note_model(row, pinned=pinned)

    async def delete(self, user: UserRow, note_id: str) -> bool:
        await self._check(user)
        await self._note(user, note_id, "write")
        return await self._repo.delete(note_id)

    # ---- notes in chats ------------------------------------------------------------------

    async def readable(self, user: UserRow, note_id: str) -> NoteRow | None:
        """The note, if the caller may read it (a chat's note item; 0.12 checks no feature
        permission there, only access); None when absent or not allowed."""
        row = await self._repo.get(note_id)
        if row is None or not await self._may(user, row, "read"):
            return None
        return row
