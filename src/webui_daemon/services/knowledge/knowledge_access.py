"""Who may read or change a knowledge base or a file, and the two wire forms of sharing.

Knowledge bases: the owner and admins always; others through grants (0.12 `access_grants`;
0.6 `access_control` converts onto them: None = public read, {} = private, {read|write:
{group_ids, user_ids}}). A write grant also allows reading. Files: the owner and admins, and
readers of a knowledge base that holds the file (read only). Not found and not allowed look the
same for files (404, as Open WebUI 0.6); knowledge bases answer 404 / 401 as 0.12 does.
"""

from collections.abc import Iterable
from typing import Any

from webui_daemon.services import access, errors
from webui_daemon.storage.files import FileRepo, FileRow
from webui_daemon.storage.grants import GrantRow, Principal, holds_grant
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.knowledge import KnowledgeRepo, KnowledgeRow
from webui_daemon.storage.rows import UserRow

PUBLIC = GrantRow("user", "*", "read")


def grants_from_access_control(access_control: dict[str, Any] | None) -> list[GrantRow]:
    return grants_from_wire(access.grants_from_access_control(access_control))


def grants_from_wire(items: Iterable[dict[str, Any]]) -> list[GrantRow]:
    grants = []
    for item in items:
        kind, principal = item.get("principal_type"), item.get("principal_id")
        permission = item.get("permission", "read")
        if kind in ("user", "group") and principal and permission in ("read", "write"):
            grants.append(GrantRow(str(kind), str(principal), str(permission)))
    return list(dict.fromkeys(grants))


def access_control_from_grants(grants: Iterable[GrantRow]) -> dict[str, Any] | None:
    """The 0.6 form (see services.access)."""
    return access.access_control_from_grants(grants_to_wire(grants))


def grants_to_wire(grants: Iterable[GrantRow]) -> list[dict[str, str]]:
    return [
        {
            "principal_type": g.principal_type,
            "principal_id": g.principal_id,
            "permission": g.permission,
        }
        for g in grants
    ]


def holds(who: Principal, row: KnowledgeRow, permission: str) -> bool:
    return holds_grant(who, row.user_id, row.grants, permission)


class AccessResolver:
    def __init__(self, groups: GroupRepo, knowledge: KnowledgeRepo, files: FileRepo) -> None:
        self._groups = groups
        self._knowledge = knowledge
        self._files = files

    async def principal(self, user: UserRow) -> Principal:
        groups = await self._groups.for_user(user.id)
        return Principal(user.id, tuple(g.id for g in groups))

    async def knowledge(self, user: UserRow, knowledge_id: str, permission: str) -> KnowledgeRow:
        row = await self._knowledge.get(knowledge_id)
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        if user.role != "admin" and not holds(await self.principal(user), row, permission):
            raise errors.Unauthorized(errors.ACCESS_PROHIBITED)
        return row

    async def can_write_knowledge(self, user: UserRow, row: KnowledgeRow) -> bool:
        return user.role == "admin" or holds(await self.principal(user), row, "write")

    async def file(
        self, user: UserRow, file_id: str, permission: str = "read", *, content: bool = False
    ) -> FileRow:
        row = await self._files.get(file_id, with_content=content)
        if row is None or not await self.may(user, row, permission):
            raise errors.NotFound(errors.USER_NOT_FOUND)
        return row

    async def may(self, user: UserRow, row: FileRow, permission: str) -> bool:
        if user.role == "admin" or row.user_id == user.id:
            return True
        if permission != "read" or row.kind != "upload":
            return False
        return await self._knowledge.readable_with_file(row.id, await self.principal(user))
