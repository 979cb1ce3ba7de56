"""Workspace model records (`/api/v1/models/...`, spec 4.2): presets and base-model overrides."""

import time
from dataclasses import replace
from typing import Any

from webui_daemon.schemas.models import (
    ModelAccessResponse,
    ModelForm,
    ModelListResponse,
    ModelModel,
    ModelOwner,
    ModelUserResponse,
)
from webui_daemon.services import access, errors
from webui_daemon.services.models.models import ModelService, record_dict
from webui_daemon.storage.models import ModelRow
from webui_daemon.storage.rows import UserRow
from webui_daemon.storage.users import UserRepo

PAGE_SIZE = 30
# Open WebUI 0.12.4 answers 401 with this when the id is taken (POST /models/create), not 400.
MODEL_ID_TAKEN = (
    "Uh-oh! This model id is already registered. Please choose another model id string."
)
_ORDER = {"name", "created_at", "updated_at"}


def _model(row: ModelRow) -> ModelModel:
    return ModelModel(**record_dict(row))


class PresetService:
    def __init__(self, models: ModelService, users: UserRepo) -> None:
        self._models = models
        self._users = users

    def _get(self, model_id: str) -> ModelRow:
        row = self._models.records.get(model_id)
        if row is None:
            raise errors.Unauthorized(errors.USER_NOT_FOUND)
        return row

    async def _grants(
        self, user: UserRow, form: ModelForm, current: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        if form.access_grants is not None:
            grants = access.normalize(g.model_dump() for g in form.access_grants)
        elif "access_control" in form.model_fields_set:
            grants = access.grants_from_access_control(form.access_control)
        elif current is not None:
            return current  # an update that does not mention access keeps it
        else:
            grants = access.grants_from_access_control(None)  # 0.6 default: public read
        if user.role != "admin":
            sharing = (await self._models.permissions(user)).get("sharing", {})
            if not sharing.get("public_models", False):
                grants = [g for g in grants if not access.is_public(g)]
        return grants

    # ---- reading ----------------------------------------------------------------------------

    async def page(
        self,
        user: UserRow,
        *,
        query: str | None = None,
        view_option: str | None = None,
        tag: str | None = None,
        order_by: str | None = None,
        direction: str | None = None,
        page: int | None = 1,
    ) -> ModelListResponse:
        readable = await self._models.readable(user)
        rows = [
            r
            for r in self._models.records.values()
            if r.base_model_id and (readable is None or r.id in readable)
        ]
        if query:
            needle = query.lower()
            rows = [r for r in rows if needle in r.name.lower() or needle in r.id.lower()]
        if view_option == "created":
            rows = [r for r in rows if r.user_id == user.id]
        elif view_option == "shared":
            rows = [r for r in rows if r.user_id != user.id]
        if tag:
            rows = [
                r
                for r in rows
                if any(str(t.get("name", "")).lower() == tag.lower() for t in _tags(r))
            ]
        column = order_by if order_by in _ORDER else "updated_at"
        rows.sort(
            key=lambda r: (getattr(r, column), r.id),
            reverse=(direction or ("asc" if column == "name" else "desc")).lower() == "desc",
        )
        total = len(rows)
        if page:
            rows = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        owners: dict[str, ModelOwner | None] = {}
        items = []
        for row in rows:
            if row.user_id not in owners:
                owner = await self._users.get(row.user_id)
                owners[row.user_id] = (
                    ModelOwner(
                        id=owner.id,
                        name=owner.name,
                        email=owner.email,
                        role=owner.role,
                        profile_image_url=owner.profile_image_url,
                    )
                    if owner
                    else None
                )
            writable = await self._models.can(user, row, "write")
            record = record_dict(row)
            if not writable:
                record["params"] = {}  # read-only callers do not see the preset's prompt
            items.append(
                ModelUserResponse(**record, write_access=writable, user=owners[row.user_id])
            )
        return ModelListResponse(items=items, total=total)

    def records(self, *, base_only: bool) -> list[ModelModel]:
        rows = sorted(self._models.records.values(), key=lambda r: (r.created_at, r.id))
        return [_model(r) for r in rows if not base_only or r.base_model_id is None]

    async def get(self, user: UserRow, model_id: str) -> ModelAccessResponse:
        row = self._models.records.get(model_id)
        if row is None:
            raise errors.NotFound(errors.USER_NOT_FOUND)
        if not await self._models.can(user, row, "read"):
            raise errors.Unauthorized(errors.ACCESS_PROHIBITED)
        writable = await self._models.can(user, row, "write")
        return ModelAccessResponse(**record_dict(row, full_params=writable), write_access=writable)

    # ---- writing ----------------------------------------------------------------------------

    async def row_for(self, user: UserRow, form: ModelForm, existing: ModelRow | None) -> ModelRow:
        """The record `form` makes: a new one owned by `user`, or `existing` changed (its
        access only by its owner or an admin). Checks the id, writes nothing."""
        _check_id(form, existing.id if existing is not None else None)
        now = int(time.time())
        if existing is None:
            return ModelRow(
                id=form.id,
                user_id=user.id,
                base_model_id=form.base_model_id or None,
                name=form.name,
                meta=form.meta,
                params=form.params,
                access_grants=await self._grants(user, form, None),
                is_active=form.is_active,
                created_at=now,
                updated_at=now,
            )
        may_share = user.role == "admin" or user.id == existing.user_id
        return replace(
            existing,
            base_model_id=form.base_model_id or None,
            name=form.name,
            meta=form.meta,
            params=form.params,
            access_grants=await self._grants(user, form, existing.access_grants)
            if may_share
            else existing.access_grants,
            is_active=form.is_active,
            updated_at=now,
        )

    async def may_create(self, user: UserRow, form: ModelForm) -> bool:
        """Admins, and users with `workspace.models` for a preset (a record with a base model:
        only admins override provider models)."""
        if user.role == "admin":
            return True
        workspace = (await self._models.permissions(user)).get("workspace", {})
        return bool(workspace.get("models", False) and form.base_model_id)

    async def create(self, user: UserRow, form: ModelForm) -> ModelModel:
        if not await self.may_create(user, form):
            raise errors.Unauthorized(errors.ACCESS_PROHIBITED)
        if form.id in self._models.records:
            raise errors.Unauthorized(MODEL_ID_TAKEN)
        row = await self.row_for(user, form, None)
        if not await self._models.repo.insert(row):
            raise errors.Unauthorized(MODEL_ID_TAKEN)
        self._models.records[row.id] = row
        return _model(row)

    async def update(self, user: UserRow, form: ModelForm, model_id: str | None) -> ModelModel:
        row = self._get(model_id or form.id)
        if not await self._models.can(user, row, "write"):
            raise errors.Unauthorized(errors.ACCESS_PROHIBITED)
        updated = await self.row_for(user, form, row)
        await self._models.repo.update(updated)
        self._models.records[row.id] = updated
        return _model(updated)

    async def toggle(self, user: UserRow, model_id: str) -> ModelModel:
        row = self._get(model_id)
        if not await self._models.can(user, row, "write"):
            raise errors.Unauthorized(errors.ACCESS_PROHIBITED)
        updated = replace(row, is_active=not row.is_active, updated_at=int(time.time()))
        await self._models.repo.update(updated)
        self._models.records[row.id] = updated
        return _model(updated)

    async def delete(self, user: UserRow, model_id: str) -> bool:
        row = self._get(model_id)
        if not await self._models.can(user, row, "write"):
            raise errors.Unauthorized(errors.ACCESS_PROHIBITED)
        deleted = await self._models.repo.delete(row.id)
        self._models.records.pop(row.id, None)
        return deleted

    async def delete_all(self) -> bool:
        await self._models.repo.delete_all()
        self._models.records.clear()
        return True


def _tags(row: ModelRow) -> list[dict[str, Any]]:
    tags = row.meta.get("tags")
    return [t for t in tags if isinstance(t, dict)] if isinstance(tags, list) else []


def _check_id(form: ModelForm, current_id: str | None = None) -> None:
    if any(ch.isspace() for ch in form.id):
        raise errors.WebUIError("A model id must not contain whitespace.")
    if form.base_model_id and form.base_model_id == (current_id or form.id):
        raise errors.WebUIError("A model cannot be its own base model.")
