"""User administration: list, get, update (role changes), delete, settings."""

import re
from typing import Any

from webui_daemon.schemas.users import (
    GroupRef,
    UserDetail,
    UserListResponse,
    UserModel,
    UserStatusForm,
    UserUpdateForm,
    UserWithGroups,
)
from webui_daemon.security import passwords
from webui_daemon.services import errors
from webui_daemon.services.accounts.auth import AuthService
from webui_daemon.services.accounts.mapping import user_model
from webui_daemon.storage.db import Database
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.rows import UserRow
from webui_daemon.storage.users import AuthRepo, UserRepo

PAGE_SIZE = 30
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


class UserService:
    def __init__(
        self,
        db: Database,
        users: UserRepo,
        auth_repo: AuthRepo,
        groups: GroupRepo,
        auth: AuthService,
    ) -> None:
        self._db = db
        self._users = users
        self._auth_repo = auth_repo
        self._groups = groups
        self._auth = auth

    async def page(
        self, query: str | None, order_by: str | None, direction: str | None, page: int | None
    ) -> UserListResponse:
        limit = PAGE_SIZE if page is not None else None
        offset = (max(page or 1, 1) - 1) * PAGE_SIZE
        rows, total = await self._users.page(
            query=query,
            order_by=order_by or "created_at",
            descending=(direction or "asc").lower() == "desc",
            limit=limit,
            offset=offset,
        )
        memberships = await self._groups.group_ids_by_user([r.id for r in rows])
        users = [
            UserWithGroups(**user_model(r).model_dump(), group_ids=memberships.get(r.id, []))
            for r in rows
        ]
        return UserListResponse(users=users, total=total)

    async def _require(self, user_id: str) -> UserRow:
        row = await self._users.get(user_id)
        if row is None:
            raise errors.WebUIError(errors.USER_NOT_FOUND)
        return row

    async def get(self, user_id: str) -> UserDetail:
        row = await self._require(user_id)
        groups = await self._groups.for_user(user_id)
        return UserDetail(
            **user_model(row).model_dump(),
            groups=[GroupRef(id=g.id, name=g.name) for g in groups],
        )

    async def update(self, actor: UserRow, user_id: str, form: UserUpdateForm) -> UserModel:
        target = await self._require(user_id)
        primary = await self._auth.primary_admin_id()
        # As in Open WebUI: otherwise another admin could reset the primary admin's password
        # or email and take the account over, protected role or not.
        if target.id == primary and actor.id != primary:
            raise errors.Forbidden("Only the primary admin can change the primary admin's account.")
        if form.role is not None and form.role != target.role and target.id == primary:
            raise errors.Forbidden("The primary admin's role cannot be changed.")
        fields: dict[str, Any] = {}
        if form.role is not None:
            fields["role"] = form.role
        if form.name is not None:
            fields["name"] = form.name.strip()
        if form.profile_image_url is not None:
            fields["profile_image_url"] = form.profile_image_url
        if form.email is not None:
            email = form.email.strip().lower()
            if not _EMAIL.fullmatch(email):
                raise errors.WebUIError(errors.INVALID_EMAIL)
            fields["email"] = email
        new_hash = await passwords.hash_password_async(form.password) if form.password else None
        async with self._db.transaction() as conn:
            changes_email = "email" in fields and fields["email"] != target.email
            if changes_email and await self._users.email_exists(conn, fields["email"]):
                raise errors.Conflict(errors.EMAIL_TAKEN)
            await self._users.update(conn, user_id, **fields)
            if new_hash is not None:
                await self._auth_repo.set_password(conn, user_id, new_hash)
        self._auth.invalidate()
        return user_model(await self._require(user_id))

    async def update_status(self, user: UserRow, form: UserStatusForm) -> UserModel:
        fields = form.model_dump(exclude_none=True)
        async with self._db.transaction() as conn:
            await self._users.update(conn, user.id, **fields)
        self._auth.invalidate()
        return user_model(await self._require(user.id))

    async def delete(self, actor: UserRow, user_id: str) -> bool:
        if user_id == actor.id:
            raise errors.Forbidden("You cannot delete your own account.")
        await self._require(user_id)
        if user_id == await self._auth.primary_admin_id():
            raise errors.Forbidden("The primary admin cannot be deleted.")
        async with self._db.transaction() as conn:
            deleted = await self._users.delete(conn, user_id)
        self._auth.invalidate()
        return deleted

    async def settings(self, user: UserRow) -> dict[str, Any]:
        fresh = await self._users.get(user.id)
        return (fresh.settings if fresh else None) or {}

    async def update_settings(self, user: UserRow, settings: dict[str, Any]) -> dict[str, Any]:
        async with self._db.transaction() as conn:
            await self._users.update(conn, user.id, settings=settings)
        self._auth.invalidate()
        return settings
