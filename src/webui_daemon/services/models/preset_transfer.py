"""Bulk model records (spec 4.2): `/api/v1/models/export`, `/import` and `/sync`.

Export gives an admin every record and anyone else with `workspace.models_export` their own.
Import (admins, or `workspace.models_import`) creates the records that are new and updates the
ones that exist, each merged over what is stored, as Open WebUI does; unlike Open WebUI it
refuses the whole import, before writing anything, when one record is not the caller's to
change. Sync (admins) makes the stored records exactly the given list. Every import or sync is
one transaction.
"""

from typing import Any

from pydantic import ValidationError

from webui_daemon.schemas.models import ModelExport, ModelForm, ModelModel
from webui_daemon.services import errors
from webui_daemon.services.models.models import ModelService, record_dict
from webui_daemon.services.models.presets import PresetService
from webui_daemon.storage.models import ModelRow
from webui_daemon.storage.rows import UserRow


class PresetTransfer:
    def __init__(self, models: ModelService, presets: PresetService) -> None:
        self._models = models
        self._presets = presets

    async def _allowed(self, user: UserRow, permission: str) -> None:
        if user.role == "admin":
            return
        workspace = (await self._models.permissions(user)).get("workspace", {})
        if not workspace.get(permission, False):
            raise errors.Unauthorized(errors.UNAUTHORIZED)

    async def export(self, user: UserRow) -> list[ModelExport]:
        await self._allowed(user, "models_export")
        rows = sorted(self._models.records.values(), key=lambda r: (r.created_at, r.id))
        return [
            ModelExport(**record_dict(r))
            for r in rows
            if user.role == "admin" or r.user_id == user.id
        ]

    async def _rows(self, user: UserRow, items: list[dict[str, Any]]) -> list[ModelRow]:
        """The records the items make, every one checked before any is written."""
        rows: dict[str, ModelRow] = {}
        for number, item in enumerate(items, 1):
            model_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(model_id, str) or not model_id.strip():
                raise errors.WebUIError(f"Model {number} of the import has no id.")
            existing = self._models.records.get(model_id)
            if existing is not None and not await self._models.can(user, existing, "write"):
                raise errors.Unauthorized(f"{errors.ACCESS_PROHIBITED} ({model_id})")
            base = record_dict(existing) if existing is not None else {"name": model_id}
            merged = {**base, **item}
            merged["meta"] = merged.get("meta") or {}
            merged["params"] = merged.get("params") or {}
            try:
                form = ModelForm(**merged)
            except ValidationError as exc:
                reason = exc.errors()[0].get("msg", "invalid")
                raise errors.WebUIError(f"Model {model_id!r} of the import: {reason}") from exc
            if existing is None and not await self._presets.may_create(user, form):
                raise errors.Unauthorized(f"{errors.ACCESS_PROHIBITED} ({model_id})")
            rows[model_id] = await self._presets.row_for(user, form, existing)
        return list(rows.values())

    async def import_(self, user: UserRow, items: list[dict[str, Any]]) -> bool:
        await self._allowed(user, "models_import")
        rows = await self._rows(user, items)
        await self._models.repo.save_many(rows)
        for row in rows:
            self._models.records[row.id] = row
        return True

    async def sync(self, user: UserRow, items: list[dict[str, Any]]) -> list[ModelModel]:
        """Admins: the stored records become exactly `items` (others are deleted)."""
        rows = await self._rows(user, items)
        await self._models.repo.save_many(rows, delete_others=True)
        self._models.records.clear()
        self._models.records.update({row.id: row for row in rows})
        return [ModelModel(**record_dict(r)) for r in rows]
