"""Models: the aggregated list (spec 4.1), who may see and use which model, and resolution.

A `user` sees a model only when a workspace record with its id exists and grants them read
access (or they own it); admins see everything; BYPASS_MODEL_ACCESS_CONTROL shows every model to
everyone. That is Open WebUI's rule, kept as is: on a fresh install a plain user sees no model
until an admin creates a record (or a public preset) for it.

Local accounts on a shared socket are trusted by default (WEBUI_LOCAL_USERS=trusted): they see
every provider model that has no record, and a record narrows a model to its grants as for
anyone. A trusted local user who asks for a model they may not use is told why and which admin
command would change it, instead of Open WebUI's "Model not found".
"""

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from webui_daemon.providers.catalog import Catalog, ProviderModel, Snapshot
from webui_daemon.schemas.access import AccessGrant
from webui_daemon.schemas.models import ModelModel
from webui_daemon.security.permissions import Permissions
from webui_daemon.services import access, errors
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.models import ModelRepo, ModelRow
from webui_daemon.storage.rows import GroupRow, UserRow

MODEL_NOT_FOUND = "Model not found"
# Presets may build on presets; a longer chain is a loop or a mistake.
MAX_CHAIN = 8


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a model id means for one request."""

    model_id: str
    base: ProviderModel
    record: ModelRow | None
    # Params of the record chain, the outermost preset winning.
    params: dict[str, Any] = field(default_factory=dict)


# 0.12's ModelMeta fields, present (null) in every record it answers.
META_DEFAULTS: dict[str, Any] = dict.fromkeys(
    (
        "profile_image_url",
        "background_image_url",
        "description",
        "i18n",
        "capabilities",
        "knowledge",
        "voice",
        "voice_avatar",
    )
)


def record_dict(row: ModelRow, *, full_params: bool = True) -> dict[str, Any]:
    """A record as Open WebUI's ModelModel, with access in both the 0.6 and 0.12 form.
    `version_id` (0.12's model history) is null: webui keeps no history of records."""
    params = row.params if full_params else {k: v for k, v in row.params.items() if k != "system"}
    return {
        "version_id": None,
        "id": row.id,
        "user_id": row.user_id,
        "base_model_id": row.base_model_id,
        "name": row.name,
        "params": params,
        "meta": {**META_DEFAULTS, **row.meta},
        "access_control": access.access_control_from_grants(row.access_grants),
        "access_grants": access.grants_out("model", row.id, row.access_grants, row.updated_at),
        "is_active": row.is_active,
        "updated_at": row.updated_at,
        "created_at": row.created_at,
    }


def _meta_tags(row: ModelRow) -> list[dict[str, Any]]:
    tags = row.meta.get("tags") if isinstance(row.meta, dict) else None
    return (
        [t for t in tags if isinstance(t, dict) and t.get("name")] if isinstance(tags, list) else []
    )


def _merge_tags(*lists: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for tags in lists:
        for tag in tags:
            seen.setdefault(str(tag.get("name")), tag)
    return list(seen.values())


class ModelService:
    def __init__(
        self,
        repo: ModelRepo,
        groups: GroupRepo,
        catalog: Catalog,
        *,
        permissions: Callable[[UserRow], Awaitable[Permissions]],
        bypass_access: bool,
        trusted_local: Callable[[UserRow], bool] = lambda user: False,
    ) -> None:
        self.repo = repo
        self._trusted_local = trusted_local
        self._groups = groups
        self.catalog = catalog
        self.permissions = permissions
        self._bypass = bypass_access
        # Every record, kept in memory: completions look a preset up without touching SQLite.
        self.records: dict[str, ModelRow] = {}

    async def load(self) -> None:
        self.records = {row.id: row for row in await self.repo.all()}

    # ---- access -----------------------------------------------------------------------------

    async def user_groups(self, user: UserRow) -> list[GroupRow]:
        return await self._groups.for_user(user.id)

    async def group_ids(self, user: UserRow) -> set[str]:
        return {g.id for g in await self.user_groups(user)}

    async def can(self, user: UserRow, row: ModelRow, permission: str) -> bool:
        if user.role == "admin" or row.user_id == user.id:
            return True
        groups = await self.group_ids(user) if access.needs_groups(row.access_grants) else set()
        return access.has_grant(user, row.access_grants, permission, groups)

    async def readable(self, user: UserRow) -> set[str] | None:
        """Ids of the records `user` may read; None when every model is visible to them."""
        if user.role == "admin" or self._bypass:
            return None
        rows = list(self.records.values())
        groups = (
            await self.group_ids(user)
            if any(access.needs_groups(r.access_grants) for r in rows)
            else set()
        )
        return {
            r.id
            for r in rows
            if r.user_id == user.id or access.has_grant(user, r.access_grants, "read", groups)
        }

    async def update_access(
        self, user: UserRow, model_id: str, grants: Sequence[AccessGrant], name: str | None
    ) -> ModelModel:
        """`POST /api/v1/models/model/access/update`: replace a record's grants (its owner, a
        writer or an admin). A provider model without a record gets a minimal one, owned by
        the admin who asks (others: 403), as Open WebUI 0.12 does."""
        wanted = access.normalize(g.model_dump() for g in grants)
        now = int(time.time())
        row = self.records.get(model_id)
        if row is None:
            if user.role != "admin":
                raise errors.Forbidden(errors.ACCESS_PROHIBITED)
            row = ModelRow(
                id=model_id,
                user_id=user.id,
                name=name or model_id,
                created_at=now,
                updated_at=now,
                access_grants=wanted,
            )
            if await self.repo.insert(row):
                self.records[row.id] = row
                return ModelModel(**record_dict(row))
            # Someone created it meanwhile: update theirs below.
            row = await self.repo.get(model_id)
            if row is None:
                raise errors.NotFound(errors.USER_NOT_FOUND)
        if not await self.can(user, row, "write"):
            raise errors.WebUIError(errors.ACCESS_PROHIBITED)  # 400, as Open WebUI 0.12
        access.check_sharing(user, await self.permissions(user), wanted, "model")
        updated = replace(row, access_grants=wanted, updated_at=now)
        await self.repo.update(updated)
        self.records[row.id] = updated
        return ModelModel(**record_dict(updated))

    # ---- the aggregated list ----------------------------------------------------------------

    def _overlay(self, snapshot: Snapshot, viewer: UserRow) -> list[dict[str, Any]]:
        models = {mid: dict(m.wire) for mid, m in snapshot.models.items()}
        for row in sorted(self.records.values(), key=lambda r: (r.created_at, r.id)):
            full = viewer.role == "admin" or viewer.id == row.user_id
            if row.base_model_id is None:
                target_id = row.id if row.id in models else None
                if target_id is None:
                    # Ollama answers to "llama3" for "llama3:latest" (Open WebUI matches both).
                    target_id = next(
                        (
                            mid
                            for mid, m in models.items()
                            if m.get("owned_by") == "ollama" and mid.split(":")[0] == row.id
                        ),
                        None,
                    )
                if target_id is None:
                    continue
                if not row.is_active:
                    del models[target_id]
                    continue
                target = models[target_id]
                target["name"] = row.name
                target["info"] = record_dict(row, full_params=full)
                target["tags"] = _merge_tags(_meta_tags(row), target.get("tags") or [])
            elif row.is_active and row.id not in models:
                base = snapshot.find(row.base_model_id)
                models[row.id] = {
                    "id": row.id,
                    "name": row.name,
                    "object": "model",
                    "created": row.created_at,
                    "owned_by": base.wire.get("owned_by", base.kind) if base else "openai",
                    "connection_type": base.wire.get("connection_type") if base else None,
                    "info": record_dict(row, full_params=full),
                    "preset": True,
                    "tags": _merge_tags(_meta_tags(row)),
                }
        out = list(models.values())
        for model in out:
            model.setdefault("actions", [])
            model.setdefault("filters", [])
        out.sort(key=lambda m: (str(m.get("name") or "").lower(), str(m.get("id"))))
        return out

    def _record_for(self, model_id: str) -> ModelRow | None:
        """The record that governs `model_id` (Ollama's "llama3" record covers "llama3:latest")."""
        row = self.records.get(model_id)
        if row is None and model_id.endswith(":latest"):
            row = self.records.get(model_id.removesuffix(":latest"))
        return row

    async def _may_see(self, user: UserRow) -> Callable[[str], bool]:
        """Whether `user` may see (and use) a model id; every id when nothing restricts them."""
        readable = await self.readable(user)
        if readable is None:
            return lambda model_id: True
        if self._trusted_local(user):
            # Trusted local users: a model without a record is open; a record decides otherwise.
            return lambda model_id: model_id in readable or self._record_for(model_id) is None
        return lambda model_id: model_id in readable

    async def available(self, user: UserRow, *, refresh: bool = False) -> list[dict[str, Any]]:
        """`GET /api/models`: provider models and presets this user may see."""
        snapshot = await self.catalog.snapshot(refresh=refresh)
        models = self._overlay(snapshot, user)
        may_see = await self._may_see(user)
        return [m for m in models if may_see(str(m["id"]))]

    async def base_models(self, *, refresh: bool = False) -> list[dict[str, Any]]:
        """`GET /api/models/base` (admin): provider models without records applied."""
        snapshot = await self.catalog.snapshot(refresh=refresh)
        return sorted(
            (dict(m.wire) for m in snapshot.models.values()),
            key=lambda m: (str(m.get("name") or "").lower(), str(m.get("id"))),
        )

    async def provider_list(
        self, user: UserRow, kind: str, *, refresh: bool = False
    ) -> list[dict[str, Any]]:
        """`/ollama/api/tags` or `/openai/models` entries this user may see (spec 4.3)."""
        snapshot = await self.catalog.snapshot(refresh=refresh)
        listed = snapshot.ollama if kind == "ollama" else snapshot.openai
        key = "model" if kind == "ollama" else "id"
        may_see = await self._may_see(user)
        return [dict(m) for m in listed if may_see(str(m.get(key)))]

    # ---- resolution for completions ----------------------------------------------------------

    def _lookup(self, snapshot: Snapshot, model_id: str) -> Resolved | None:
        record = self.records.get(model_id)
        if record is not None and not record.is_active:
            return None  # a hidden preset, or a base model an admin switched off
        # Follow presets down to the provider model; params of outer presets win.
        chain: list[ModelRow] = []
        current, row = model_id, record
        while row is not None and row.base_model_id and len(chain) < MAX_CHAIN:
            chain.append(row)
            current = row.base_model_id
            row = self.records.get(current)
        base = snapshot.find(current)
        if base is None:
            return None
        params: dict[str, Any] = {}
        for layer in reversed(chain) if chain else ([record] if record else []):
            params.update(layer.params or {})
        return Resolved(model_id, base, record, params)

    async def _chain_readable(self, user: UserRow, model_id: str) -> bool:
        """Every record from `model_id` down to the provider model must be readable."""
        row = self.records.get(model_id)
        if row is None:
            return False
        seen = 0
        while row is not None and seen < MAX_CHAIN:
            if not await self.can(user, row, "read"):
                return False
            seen += 1
            row = self.records.get(row.base_model_id) if row.base_model_id else None
        return True

    async def resolve(self, user: UserRow, model_id: str, kind: str | None = None) -> Resolved:
        """The provider model behind `model_id` and the record params that apply, or 400
        "Model not found" (also when the caller may not use it, which hides that it exists)."""
        snapshot = await self.catalog.snapshot(allow_stale=True)
        resolved = self._lookup(snapshot, model_id)
        if resolved is None:
            # Unknown in the cached lists: maybe new upstream; ask the providers once.
            snapshot = await self.catalog.snapshot(refresh=True)
            resolved = self._lookup(snapshot, model_id)
        if resolved is None or (kind is not None and resolved.base.kind != kind):
            raise errors.WebUIError(MODEL_NOT_FOUND)
        restricted = user.role != "admin" and not self._bypass
        if restricted and not await self._chain_readable(user, model_id):
            if not self._trusted_local(user):
                raise errors.WebUIError(MODEL_NOT_FOUND)
            if self._record_for(model_id) is not None:
                raise errors.Forbidden(
                    f"model {model_id} is restricted: an admin can run "
                    f"`webui models access {model_id} --user {user.name}`"
                )
        return resolved
