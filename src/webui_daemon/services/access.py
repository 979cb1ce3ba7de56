"""Access to workspace records: Open WebUI 0.12 grants, the 0.6 access_control form, checks.

Grants are stored in 0.12's form: `{"principal_type": "user"|"group", "principal_id": id or "*",
"permission": "read"|"write"}`. 0.6's `access_control` maps onto it: None = public read,
{} = private (owner only), {"read"|"write": {"group_ids": [...], "user_ids": [...]}}.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

from webui_daemon.security.permissions import Permissions
from webui_daemon.services import errors
from webui_daemon.storage.rows import UserRow

PUBLIC_READ: dict[str, str] = {"principal_type": "user", "principal_id": "*", "permission": "read"}
# Open WebUI 0.12's words when an access update asks for an audience the caller may not give.
SHARING_REFUSED = "You do not have permission to share with the requested audience"
# The permission that lets a non-admin share a resource at all, and the one for public read.
_SHARING: dict[str, tuple[str, str]] = {
    "model": ("models", "public_models"),
    "knowledge": ("knowledge", "public_knowledge"),
    "prompt": ("prompts", "public_prompts"),
    "note": ("notes", "public_notes"),
}
Resource = Literal["model", "knowledge", "prompt", "note"]


def grants_from_access_control(access_control: dict[str, Any] | None) -> list[dict[str, str]]:
    if access_control is None:
        return [dict(PUBLIC_READ)]
    grants = []
    for permission in ("read", "write"):
        section = access_control.get(permission) or {}
        if not isinstance(section, dict):
            continue
        for group_id in section.get("group_ids") or []:
            grants.append(
                {"principal_type": "group", "principal_id": str(group_id), "permission": permission}
            )
        for user_id in section.get("user_ids") or []:
            grants.append(
                {"principal_type": "user", "principal_id": str(user_id), "permission": permission}
            )
    return grants


class SharingForm(Protocol):
    """A create or update body that may say whom to share with, in either wire form."""

    @property
    def access_control(self) -> dict[str, Any] | None: ...

    @property
    def access_grants(self) -> Sequence[Any] | None: ...

    @property
    def model_fields_set(self) -> set[str]: ...


def asked_grants(form: SharingForm) -> list[dict[str, str]] | None:
    """The sharing a form asks for, as valid 0.12 grants: its `access_grants`, else 0.6's
    `access_control` when sent (an explicit null: public read); None when it says neither."""
    if form.access_grants is not None:
        return normalize(g.model_dump() for g in form.access_grants)
    if "access_control" in form.model_fields_set:
        return normalize(grants_from_access_control(form.access_control))
    return None


def access_control_from_grants(grants: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The 0.6 form. A public read grant makes it None (0.6 cannot say "public and more")."""
    grants = list(grants)
    if any(is_public(g) for g in grants):
        return None
    out: dict[str, Any] = {p: {"group_ids": [], "user_ids": []} for p in ("read", "write")}
    for grant in grants:
        permission = grant.get("permission")
        if permission not in out:
            continue
        key = "group_ids" if grant.get("principal_type") == "group" else "user_ids"
        out[permission][key].append(grant.get("principal_id"))
    return out


def grant_id(resource_type: str, resource_id: str, grant: Mapping[str, Any]) -> str:
    """0.12 gives each grant an id; webui keys grants by their content, so the id is derived
    from it (the same grant of the same record always has the same id)."""
    key = (
        f"{resource_type}/{resource_id}/{grant.get('principal_type')}/"
        f"{grant.get('principal_id')}/{grant.get('permission')}"
    )
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def grants_out(
    resource_type: str, resource_id: str, grants: Iterable[Mapping[str, Any]], created_at: int
) -> list[dict[str, Any]]:
    """Grants as 0.12 answers them: `id`, `resource_type`, `resource_id`, the principal, the
    permission and `created_at` (webui keeps no time per grant: the record's last change,
    which is when its grants were set at the latest)."""
    return [
        {
            "id": grant_id(resource_type, resource_id, grant),
            "resource_type": resource_type,
            "resource_id": resource_id,
            "principal_type": grant.get("principal_type"),
            "principal_id": grant.get("principal_id"),
            "permission": grant.get("permission"),
            "created_at": created_at,
        }
        for grant in grants
    ]


def normalize(grants: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Valid grants only, each once, in the order given (as Open WebUI 0.12 stores them)."""
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for grant in grants:
        kind, principal = grant.get("principal_type"), grant.get("principal_id")
        permission = grant.get("permission", "read")
        if kind in ("user", "group") and principal and permission in ("read", "write"):
            key = (str(kind), str(principal), str(permission))
            seen.setdefault(
                key, {"principal_type": key[0], "principal_id": key[1], "permission": key[2]}
            )
    return list(seen.values())


def check_sharing(
    user: UserRow,
    permissions: Permissions,
    grants: Iterable[dict[str, Any]],
    resource: Resource,
) -> None:
    """Open WebUI 0.12's rule for an access update: admins give any grant; others need
    `sharing.<resource>` for any grant, `sharing.public_<resource>` for public read, and
    `access_grants.allow_users` / `allow_groups` (on unless switched off) for users / groups.
    One grant too many refuses the whole update (403): nothing is changed."""
    if user.role == "admin":
        return
    for grant in grants:
        if not _may_give(permissions, grant, resource):
            raise errors.Forbidden(SHARING_REFUSED)


def allowed_grants(
    user: UserRow,
    permissions: Permissions,
    grants: Iterable[dict[str, Any]],
    resource: Resource,
) -> list[dict[str, str]]:
    """Open WebUI 0.12's rule for the grants a new record asks for: the same as
    `check_sharing`, but a grant the caller may not give is dropped, not refused. Valid
    grants only, each once (`normalize`)."""
    wanted = normalize(grants)
    if user.role == "admin":
        return wanted
    return [g for g in wanted if _may_give(permissions, g, resource)]


def _may_give(permissions: Permissions, grant: dict[str, Any], resource: Resource) -> bool:
    sharing = permissions.get("sharing", {})
    audiences = permissions.get("access_grants", {})
    key, public_key = _SHARING[resource]
    if is_public(grant):
        return sharing.get(key, False) and sharing.get(public_key, False)
    audience = "allow_groups" if grant.get("principal_type") == "group" else "allow_users"
    return sharing.get(key, False) and audiences.get(audience, True)


def is_public(grant: dict[str, Any]) -> bool:
    return grant.get("principal_type") == "user" and grant.get("principal_id") == "*"


def needs_groups(grants: Iterable[dict[str, Any]]) -> bool:
    return any(g.get("principal_type") == "group" for g in grants)


def has_grant(
    user: UserRow, grants: Iterable[dict[str, Any]], permission: str, group_ids: set[str]
) -> bool:
    """A write grant also allows reading."""
    allowed = ("read", "write") if permission == "read" else ("write",)
    for grant in grants:
        if grant.get("permission") not in allowed:
            continue
        kind, principal = grant.get("principal_type"), grant.get("principal_id")
        if kind == "user" and principal in ("*", user.id):
            return True
        if kind == "group" and principal in group_ids:
            return True
    return False


def permission_refused(
    user: UserRow, key: str, what: str, remote: str = errors.ACCESS_PROHIBITED
) -> errors.Unauthorized:
    """A missing workspace permission: Open WebUI's words (`remote`) for remote users; local
    accounts (on the socket, who cannot read a web admin page) get the reason and the command
    that helps."""
    if user.os_uid is None:
        return errors.Unauthorized(remote)
    return errors.Unauthorized(
        f"{user.name} may not {what}: an admin can run `webui permissions set {key} true` "
        f"(everyone) or `webui permissions set {key} true --group GROUP`"
    )
