"""User and group storage rows to wire schemas (the one place those two layers meet)."""

from typing import Any

from webui_daemon.schemas.groups import GroupResponse
from webui_daemon.schemas.users import UserModel
from webui_daemon.storage.rows import GroupRow, UserRow


def user_model(row: UserRow) -> UserModel:
    return UserModel(
        id=row.id,
        email=row.email,
        username=row.username,
        role=row.role,
        name=row.name,
        profile_image_url=row.profile_image_url,
        bio=row.bio,
        gender=row.gender,
        date_of_birth=row.date_of_birth,
        timezone=row.timezone,
        status_emoji=row.status_emoji,
        status_message=row.status_message,
        status_expires_at=row.status_expires_at,
        info=row.info,
        settings=row.settings,
        oauth=row.oauth,
        last_active_at=row.last_active_at,
        updated_at=row.updated_at,
        created_at=row.created_at,
        os_uid=row.os_uid,
    )


def group_response(row: GroupRow) -> GroupResponse:
    return GroupResponse(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        description=row.description,
        permissions=row.permissions,
        data=with_share_default(row.data),
        meta=row.meta,
        user_ids=row.user_ids,
        member_count=len(row.user_ids),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# Open WebUI 0.12's default for who may share a resource with a group (its
# DEFAULT_GROUP_SHARE_PERMISSION): the group's members.
DEFAULT_SHARE = "members"


def with_share_default(data: dict[str, Any] | None) -> dict[str, Any]:
    """A group's `data` with 0.12's `config.share` filled in when it has none."""
    data = dict(data or {})
    config = data.get("config")
    config = dict(config) if isinstance(config, dict) else {}
    config.setdefault("share", DEFAULT_SHARE)
    return {**data, "config": config}
