"""Groups: create, list, update, delete, members."""

import time
import uuid
from collections.abc import Callable

from webui_daemon.schemas.groups import GroupForm, GroupResponse, GroupUpdateForm
from webui_daemon.services import errors
from webui_daemon.services.mapping import group_response
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.rows import GroupRow, UserRow


class GroupService:
    def __init__(self, groups: GroupRepo, on_change: Callable[[], None] = lambda: None) -> None:
        self._groups = groups
        # Membership and group permissions decide what users may do: cached identities go.
        self._on_change = on_change

    async def all(self) -> list[GroupResponse]:
        return [group_response(g) for g in await self._groups.all()]

    async def for_user(self, user_id: str) -> list[GroupResponse]:
        return [group_response(g) for g in await self._groups.for_user(user_id)]

    async def get(self, group_id: str) -> GroupResponse:
        row = await self._groups.get(group_id)
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        return group_response(row)

    async def create(self, actor: UserRow, form: GroupForm) -> GroupResponse:
        now = int(time.time())
        row = GroupRow(
            id=str(uuid.uuid4()),
            user_id=actor.id,
            name=form.name.strip(),
            description=form.description,
            created_at=now,
            updated_at=now,
            permissions=form.permissions,
            data=form.data,
            meta=None,
        )
        await self._groups.insert(row)
        return group_response(row)

    async def update(self, group_id: str, form: GroupUpdateForm) -> GroupResponse:
        fields = form.model_dump(exclude_unset=True, exclude_none=True)
        if not await self._groups.update(group_id, **fields):
            raise errors.NotFound(errors.USER_NOT_FOUND)
        self._on_change()
        return await self.get(group_id)

    async def delete(self, group_id: str) -> bool:
        if not await self._groups.delete(group_id):
            raise errors.NotFound(errors.USER_NOT_FOUND)
        self._on_change()
        return True

    async def add_members(self, group_id: str, user_ids: list[str]) -> GroupResponse:
        await self.get(group_id)
        await self._groups.add_members(group_id, user_ids)
        self._on_change()
        return await self.get(group_id)

    async def remove_members(self, group_id: str, user_ids: list[str]) -> GroupResponse:
        await self.get(group_id)
        await self._groups.remove_members(group_id, user_ids)
        self._on_change()
        return await self.get(group_id)
