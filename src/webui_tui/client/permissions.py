"""Who may do what: the permission tree (defaults, a user's own) and the access grants of models
and knowledge bases (Open WebUI 0.12's `access/update` routes).

A tree is `{"workspace": {"knowledge": false, ...}, "sharing": {...}, ...}`; a grant is
`{"principal_type": "user"|"group", "principal_id": id or "*", "permission": "read"|"write"}`.
"""

from typing import Any

from webui_daemon.schemas.knowledge import KnowledgeFilesResponse
from webui_daemon.schemas.models import ModelModel
from webui_tui.client.base import BaseClient, parse

Tree = dict[str, dict[str, bool]]
Grant = dict[str, str]

DEFAULTS = "/api/v1/users/default/permissions"


def tree_of(data: Any) -> Tree:
    """A permission tree read tolerantly: sections that are objects, values that are booleans."""
    if not isinstance(data, dict):
        return {}
    return {
        str(section): {str(k): v for k, v in values.items() if isinstance(v, bool)}
        for section, values in data.items()
        if isinstance(values, dict)
    }


def group_tree(defaults: Tree, stored: Tree | None) -> Tree:
    """A group's permissions on every key of the defaults (a key it does not set is off)."""
    tree = {section: dict.fromkeys(keys, False) for section, keys in defaults.items()}
    for section, values in (stored or {}).items():
        tree.setdefault(section, {}).update(values)
    return tree


def grants_of(items: Any) -> list[Grant]:
    """Grants read tolerantly (0.12 sends more keys: id, resource_type, ...; `null` is none)."""
    grants = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        kind, principal = item.get("principal_type"), item.get("principal_id")
        permission = item.get("permission", "read")
        if kind in ("user", "group") and principal and permission in ("read", "write"):
            grants.append(
                {
                    "principal_type": str(kind),
                    "principal_id": str(principal),
                    "permission": str(permission),
                }
            )
    return grants


class PermissionsMixin(BaseClient):
    # --- the permission tree ---

    async def default_permissions(self) -> Tree:
        """What every user may do (admins)."""
        return tree_of(await self.request("GET", DEFAULTS))

    async def set_default_permissions(self, tree: Tree) -> Tree:
        """Replace the defaults (send the whole tree: keys left out go back to built-in values)."""
        return tree_of(await self.request("POST", DEFAULTS, body=tree))

    async def my_permissions(self) -> Tree:
        """What the caller may do: the defaults and their groups' permissions together."""
        return tree_of(await self.request("GET", "/api/v1/users/permissions"))

    # --- access grants ---

    async def update_model_access(
        self, model_id: str, grants: list[Grant], *, name: str | None = None
    ) -> ModelModel:
        """Replace a model's grants; for a provider model without a record an admin's call
        creates one (named `name`)."""
        path = "/api/v1/models/model/access/update"
        body: dict[str, Any] = {"id": model_id, "access_grants": grants}
        if name:
            body["name"] = name
        return parse(ModelModel, await self.request("POST", path, body=body), path)

    async def update_knowledge_access(
        self, kb_id: str, grants: list[Grant]
    ) -> KnowledgeFilesResponse:
        path = f"/api/v1/knowledge/{kb_id}/access/update"
        data = await self.request("POST", path, body={"access_grants": grants})
        return parse(KnowledgeFilesResponse, data, path)
