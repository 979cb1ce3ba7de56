"""The prompt library: `/command` templates with versions and sharing, as Open WebUI 0.12.4.

Who may do what: admins everything; the owner everything on their own prompts; others read
or write through access grants (a write grant also reads). Creating needs `workspace.prompts`
(or `workspace.prompts_import`); sharing needs `sharing.prompts` (`sharing.public_prompts` for
everyone). A prompt someone may not read answers 404 as if it did not exist; one they may read
but not change answers 401, both as 0.12. Commands are unique across the daemon.
"""

import difflib
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from webui_daemon.schemas.access import AccessGrant
from webui_daemon.schemas.prompts import (
    MAX_CONTENT_BYTES,
    GrantOut,
    PromptAccessListResponse,
    PromptAccessResponse,
    PromptDiff,
    PromptForm,
    PromptHistoryResponse,
    PromptMetadataForm,
    PromptModel,
    PromptUser,
)
from webui_daemon.security.permissions import Permissions
from webui_daemon.services import access, errors
from webui_daemon.services.knowledge.knowledge_access import grants_from_wire
from webui_daemon.storage.grants import GrantRow, Principal, holds_grant
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.prompts import HistoryRow, PromptQuery, PromptRepo, PromptRow
from webui_daemon.storage.rows import UserRow
from webui_daemon.storage.users import UserRepo

PER_PAGE = 30  # /prompts/list, as 0.12
HISTORY_PAGE = 20
COMMAND_TAKEN = "Uh-oh! This command is already registered. Please choose another command string."


def command_taken(command: str) -> errors.Conflict:
    """0.12's words, and which command (the issue asks that the refusal names it)."""
    return errors.Conflict(f"{COMMAND_TAKEN} (/{command})")


def _too_large(content: str) -> None:
    size = len(content.encode("utf-8", "surrogatepass"))
    if size > MAX_CONTENT_BYTES:
        raise errors.TooLarge(
            f"Prompt content is {size} bytes; the limit is {MAX_CONTENT_BYTES} bytes."
        )


class PromptService:
    def __init__(
        self,
        repo: PromptRepo,
        users: UserRepo,
        groups: GroupRepo,
        permissions: Callable[[UserRow], Awaitable[Permissions]],
    ) -> None:
        self._repo = repo
        self._users = users
        self._groups = groups
        self._permissions = permissions

    # ---- who ------------------------------------------------------------------------------

    async def _principal(self, user: UserRow) -> Principal:
        return Principal(user.id, tuple(g.id for g in await self._groups.for_user(user.id)))

    async def _readable(self, user: UserRow, prompt_id: str) -> PromptRow:
        row = await self._repo.get(prompt_id)
        if row is None or not (
            user.role == "admin"
            or holds_grant(await self._principal(user), row.user_id, row.grants, "read")
        ):
            raise errors.NotFound(errors.USER_NOT_FOUND)
        return row

    async def _writable(self, user: UserRow, prompt_id: str) -> PromptRow:
        row = await self._repo.get(prompt_id)
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        if user.role != "admin" and not holds_grant(
            await self._principal(user), row.user_id, row.grants, "write"
        ):
            raise errors.Unauthorized(errors.ACCESS_PROHIBITED)
        return row

    async def _grants(self, user: UserRow, form: PromptForm) -> tuple[GrantRow, ...] | None:
        """What the form asks to share (None: it did not say), less what the caller may not give."""
        wanted = access.asked_grants(form)
        if wanted is None:
            return None
        allowed = access.allowed_grants(user, await self._permissions(user), wanted, "prompt")
        return tuple(grants_from_wire(allowed))

    # ---- shapes ---------------------------------------------------------------------------

    def _model(self, row: PromptRow) -> PromptModel:
        wire = [
            {
                "principal_type": g.principal_type,
                "principal_id": g.principal_id,
                "permission": g.permission,
            }
            for g in row.grants
        ]
        return PromptModel(
            id=row.id,
            command=row.command,
            user_id=row.user_id,
            name=row.name,
            content=row.content,
            data=row.data,
            meta=row.meta,
            tags=list(row.tags),
            is_active=row.is_active,
            version_id=row.version_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            access_grants=[
                GrantOut(**g) for g in access.grants_out("prompt", row.id, wire, row.updated_at)
            ],
            title=row.name,
            timestamp=row.updated_at,
            access_control=access.access_control_from_grants(wire),
        )

    async def _owner(self, user_id: str, cache: dict[str, PromptUser | None]) -> PromptUser | None:
        if user_id not in cache:
            owner = await self._users.get(user_id)
            cache[user_id] = (
                None
                if owner is None
                else PromptUser(
                    id=owner.id,
                    name=owner.name,
                    email=owner.email,
                    role=owner.role,
                    profile_image_url=owner.profile_image_url,
                )
            )
        return cache[user_id]

    async def _responses(self, user: UserRow, rows: list[PromptRow]) -> list[PromptAccessResponse]:
        if user.role == "admin":
            writable = {r.id for r in rows}
        else:
            who = await self._principal(user)
            writable = {r.id for r in rows if r.user_id == user.id}
            writable |= await self._repo.writable_ids(
                who, [r.id for r in rows if r.id not in writable]
            )
        owners: dict[str, PromptUser | None] = {}
        return [
            PromptAccessResponse(
                **self._model(r).model_dump(),
                user=await self._owner(r.user_id, owners),
                write_access=r.id in writable,
            )
            for r in rows
        ]

    # ---- reading ----------------------------------------------------------------------------

    async def _who(self, user: UserRow) -> Principal | None:
        return None if user.role == "admin" else await self._principal(user)

    async def all(self, user: UserRow) -> list[PromptAccessResponse]:
        """GET /prompts/: every prompt the caller may read (0.12's PromptModel, plus the owner
        and write_access, which 0.12 sends in its list page)."""
        rows, _ = await self._repo.page(await self._who(user))
        return await self._responses(user, rows)

    async def page(
        self,
        user: UserRow,
        *,
        query: str | None,
        view_option: str | None,
        tag: str | None,
        order_by: str | None,
        direction: str | None,
        page: int,
    ) -> PromptAccessListResponse:
        rows, total = await self._repo.page(
            await self._who(user),
            PromptQuery(
                text=query,
                view=view_option,
                viewer=user.id,
                tag=tag,
                order_by=order_by,
                ascending=direction == "asc",
                limit=PER_PAGE,
                offset=(page - 1) * PER_PAGE,
            ),
        )
        return PromptAccessListResponse(items=await self._responses(user, rows), total=total)

    async def tags(self, user: UserRow) -> list[str]:
        return await self._repo.tags(await self._who(user))

    async def get(self, user: UserRow, prompt_id: str) -> PromptAccessResponse:
        return (await self._responses(user, [await self._readable(user, prompt_id)]))[0]

    async def by_command(self, user: UserRow, command: str) -> PromptAccessResponse:
        """0.6's /command/{command}: the same rules as by id."""
        row = await self._repo.by_command(command.removeprefix("/"))
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        return await self.get(user, row.id)

    async def command_id(self, command: str) -> str:
        row = await self._repo.by_command(command.removeprefix("/"))
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        return row.id

    # ---- writing ----------------------------------------------------------------------------

    async def create(self, user: UserRow, form: PromptForm) -> PromptModel:
        if user.role != "admin":
            workspace = (await self._permissions(user)).get("workspace", {})
            if not (workspace.get("prompts", False) or workspace.get("prompts_import", False)):
                raise access.permission_refused(
                    user, "workspace.prompts", "create prompts", remote=errors.UNAUTHORIZED
                )
        _too_large(form.content)
        if await self._repo.by_command(form.command) is not None:
            raise command_taken(form.command)
        now = int(time.time())
        row = PromptRow(
            id=str(uuid.uuid4()),
            command=form.command,
            user_id=user.id,
            name=form.name,
            content=form.content,
            data=form.data or {},
            meta=form.meta or {},
            tags=tuple(form.tags or ()),
            grants=await self._grants(user, form) or (),
            created_at=now,
            updated_at=now,
        )
        stored = await self._repo.insert(row, form.commit_message or "Initial version")
        if stored is None:  # another request took the command meanwhile
            raise command_taken(form.command)
        return self._model(stored)

    async def _command_free(self, row: PromptRow, command: str) -> None:
        if command != row.command:
            other = await self._repo.by_command(command)
            if other is not None and other.id != row.id:
                raise command_taken(command)

    async def _save(
        self,
        row: PromptRow,
        *,
        history_by: str | None = None,
        message: str | None = None,
        grants: bool = False,
    ) -> PromptModel:
        stored = await self._repo.save(row, history_by=history_by, message=message, grants=grants)
        if stored is None:
            raise command_taken(row.command)
        return self._model(stored)

    async def update(self, user: UserRow, prompt_id: str, form: PromptForm) -> PromptModel:
        """A new version when the name, command, content or tags change (0.12); grants only when
        the form names them and the caller owns the prompt or is an admin."""
        row = await self._writable(user, prompt_id)
        _too_large(form.content)
        await self._command_free(row, form.command)
        changed = (
            row.name != form.name
            or row.command != form.command
            or row.content != form.content
            or (form.tags is not None and list(row.tags) != form.tags)
        )
        new = replace(row, command=form.command, updated_at=int(time.time()))
        if form.is_production is not False:
            new = replace(
                new,
                name=form.name,
                content=form.content,
                data=form.data or row.data,
                meta=form.meta or row.meta,
                tags=tuple(form.tags) if form.tags is not None else row.tags,
            )
        grants = await self._grants(user, form)
        if grants is not None and (user.role == "admin" or row.user_id == user.id):
            new = replace(new, grants=grants)
        return await self._save(
            new,
            history_by=user.id if changed else None,
            message=form.commit_message,
            grants=new.grants != row.grants,
        )

    async def update_meta(
        self, user: UserRow, prompt_id: str, form: PromptMetadataForm
    ) -> PromptModel:
        row = await self._writable(user, prompt_id)
        await self._command_free(row, form.command)
        new = replace(row, name=form.name, command=form.command, updated_at=int(time.time()))
        if form.tags is not None:
            new = replace(new, tags=tuple(form.tags))
        return await self._save(new)

    async def set_version(self, user: UserRow, prompt_id: str, version_id: str) -> PromptModel:
        """Make an earlier version current: its name, content, data, meta and tags return
        (0.12 leaves the command and the grants as they are)."""
        row = await self._writable(user, prompt_id)
        entry = await self._repo.history_entry(prompt_id, version_id)
        if entry is None:
            raise errors.WebUIError("")  # 0.12's empty 400 for an unknown version
        snap = entry.snapshot
        new = replace(
            row,
            name=str(snap.get("name", row.name)),
            content=str(snap.get("content", row.content)),
            data=snap.get("data") or row.data,
            meta=snap.get("meta") or row.meta,
            tags=tuple(snap.get("tags") or ()),
            version_id=entry.id,
            updated_at=int(time.time()),
        )
        return await self._save(new)

    async def update_access(
        self, user: UserRow, prompt_id: str, grants: list[AccessGrant]
    ) -> PromptModel:
        """Replace the grants (0.12: writers and admins; an audience the caller may not give
        refuses the whole update with 403, nothing changed)."""
        row = await self._writable(user, prompt_id)
        wanted = access.normalize(g.model_dump() for g in grants)
        access.check_sharing(user, await self._permissions(user), wanted, "prompt")
        new = replace(
            row,
            grants=tuple(
                GrantRow(g["principal_type"], g["principal_id"], g["permission"]) for g in wanted
            ),
        )
        return await self._save(new, grants=True)

    async def toggle(self, user: UserRow, prompt_id: str) -> PromptModel:
        row = await self._writable(user, prompt_id)
        return await self._save(
            replace(row, is_active=not row.is_active, updated_at=int(time.time()))
        )

    async def delete(self, user: UserRow, prompt_id: str) -> bool:
        await self._writable(user, prompt_id)
        return await self._repo.delete(prompt_id)

    # ---- history ----------------------------------------------------------------------------

    async def _history_out(self, rows: list[HistoryRow]) -> list[PromptHistoryResponse]:
        owners: dict[str, PromptUser | None] = {}
        return [
            PromptHistoryResponse(
                id=h.id,
                prompt_id=h.prompt_id,
                parent_id=h.parent_id,
                snapshot=h.snapshot,
                user_id=h.user_id,
                commit_message=h.commit_message,
                created_at=h.created_at,
                user=await self._owner(h.user_id, owners),
            )
            for h in rows
        ]

    async def _history_readable(self, user: UserRow, prompt_id: str) -> PromptRow:
        """0.12 answers 401 (not 404) for a prompt's history the caller may not read."""
        row = await self._repo.get(prompt_id)
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        if user.role != "admin" and not holds_grant(
            await self._principal(user), row.user_id, row.grants, "read"
        ):
            raise errors.Unauthorized(errors.ACCESS_PROHIBITED)
        return row

    async def history(
        self, user: UserRow, prompt_id: str, page: int
    ) -> list[PromptHistoryResponse]:
        await self._history_readable(user, prompt_id)
        rows = await self._repo.history(prompt_id, HISTORY_PAGE, page * HISTORY_PAGE)
        return await self._history_out(rows)

    async def history_entry(
        self, user: UserRow, prompt_id: str, history_id: str
    ) -> PromptHistoryResponse:
        await self._history_readable(user, prompt_id)
        entry = await self._repo.history_entry(prompt_id, history_id)
        if entry is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        return (await self._history_out([entry]))[0]

    async def diff(self, user: UserRow, prompt_id: str, from_id: str, to_id: str) -> PromptDiff:
        await self._history_readable(user, prompt_id)
        old = await self._repo.history_entry(prompt_id, from_id)
        new = await self._repo.history_entry(prompt_id, to_id)
        if old is None or new is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        before = str(old.snapshot.get("content", ""))
        after = str(new.snapshot.get("content", ""))
        lines = list(
            difflib.unified_diff(
                before.splitlines(),
                after.splitlines(),
                fromfile=f"v{from_id[:8]}",
                tofile=f"v{to_id[:8]}",
                lineterm="",
            )
        )
        return PromptDiff(
            from_id=from_id,
            to_id=to_id,
            from_snapshot=old.snapshot,
            to_snapshot=new.snapshot,
            content_diff=lines,
            line_endings_only=not lines and before != after,
        )

    async def delete_history(self, user: UserRow, prompt_id: str, history_id: str) -> bool:
        row = await self._writable(user, prompt_id)
        if row.version_id == history_id:
            raise errors.WebUIError("Cannot delete the active production version")
        if not await self._repo.delete_history(prompt_id, history_id):
            raise errors.NotFound(errors.USER_NOT_FOUND)
        return True
