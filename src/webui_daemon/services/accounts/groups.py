"""Groups: create, list, update, delete, members."""

import time
import uuid
from collections.abc import Callable

from webui_daemon.schemas.groups import GroupForm, GroupResponse, GroupUpdateForm
from webui_daemon.services import errors
from webui_daemon.services.accounts.mapping import group_response, with_share_default
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
        _no_parent(form.parent_group_id)
        now = int(time.time())
        row = GroupRow(
            id=str(uuid.uuid4()),
            user_id=actor.id,
            name=form.name.strip(),
            description=form.description,
            created_at=now,
            updated_at=now,
            permissions=form.permissions,
            data=with_share_default(form.data),
            meta=None,
        )
        await self._groups.insert(row)
        return group_response(row)

    async def update(self, group_id: str, form: GroupUpdateForm) -> GroupResponse:
        _no_parent(form.parent_group_id)
        fields = form.model_dump(exclude_unset=True, exclude_none=True)
        fields.pop("parent_group_id", None)
        if "data" in fields:
            fields["data"] = with_share_default(fields["data"])
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


NESTING_REFUSED = "Nested groups are not supported by webui: parent_group_id must be null."


def _no_parent(parent_group_id: str | None) -> None:
    if parent_group_id is not None:
        raise errors.WebUIError(NESTING_REFUSED)
