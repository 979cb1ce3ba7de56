"""Memories (`/api/v1/memories`, Open WebUI 0.12) and your memory switch (`settings.ui.memory`).

row = await client.add_memory("I am vegetarian.", kind="user")
found = await client.query_memories("what do I eat?", k=3)   # closest first
await client.set_memory_enabled(False)                       # chats no longer use them
"""

from typing import Any

from pydantic import TypeAdapter

from webui_daemon.schemas.memories import (
    AddMemoryForm,
    MemoryModel,
    MemorySearchResult,
    MemoryType,
    MemoryUpdateModel,
    QueryMemoryForm,
)
from webui_tui.client.base import LATER, BaseClient

MEMORIES = "/api/v1/memories"
SETTINGS = "/api/v1/users/user/settings"

_MEMORIES: TypeAdapter[list[MemoryModel]] = TypeAdapter(list[MemoryModel], config=LATER)


class MemoriesMixin(BaseClient):
    """Your memories and the setting that adds them to chats (see the module docstring)."""

    async def list_memories(self) -> list[MemoryModel]:
        return await self._list(f"{MEMORIES}/", _MEMORIES)

    async def add_memory(
        self, content: str, *, kind: MemoryType = "context", path: str | None = None
    ) -> MemoryModel:
        form = AddMemoryForm(content=content, type=kind, path=path)
        return await self._post(f"{MEMORIES}/add", MemoryModel, form)

    async def update_memory(
        self,
        memory_id: str,
        *,
        content: str | None = None,
        kind: MemoryType | None = None,
        path: str | None = None,
    ) -> MemoryModel:
        """Change what is given (`path=""` clears the path)."""
        form = MemoryUpdateModel(content=content, type=kind, path=path)
        body = form.model_dump(exclude_none=True)
        return await self._post(f"{MEMORIES}/{memory_id}/update", MemoryModel, body)

    async def delete_memory(self, memory_id: str) -> bool:
        """False when no memory of yours has this id."""
        return await self._bool("DELETE", f"{MEMORIES}/{memory_id}")

    async def clear_memories(self) -> bool:
        return await self._bool("DELETE", f"{MEMORIES}/delete/user")

    async def query_memories(self, text: str, k: int = 5) -> MemorySearchResult:
        """The `k` memories closest in meaning (404 when you have none)."""
        form = QueryMemoryForm(content=text, k=k)
        return await self._post(f"{MEMORIES}/query", MemorySearchResult, form)

    async def reset_memories(self) -> bool:
        return await self._bool("POST", f"{MEMORIES}/reset")

    # --- the switch ---

    async def _settings(self) -> dict[str, Any]:
        data = await self.request("GET", SETTINGS)
        return data if isinstance(data, dict) else {}

    async def memory_enabled(self) -> bool:
        """Your setting; unset, whether the server has memories on (as 0.12's web UI)."""
        ui = (await self._settings()).get("ui")
        value = ui.get("memory") if isinstance(ui, dict) else None
        if isinstance(value, bool):
            return value
        config = await self.request("GET", "/api/config")
        features = config.get("features") if isinstance(config, dict) else None
        return bool(features.get("enable_memories")) if isinstance(features, dict) else False

    async def set_memory_enabled(self, enabled: bool) -> None:
        """Save `settings.ui.memory`, keeping the rest of your settings."""
        settings = await self._settings()
        ui = dict(settings.get("ui") or {})
        ui["memory"] = enabled
        await self.request("POST", f"{SETTINGS}/update", body={**settings, "ui": ui})
