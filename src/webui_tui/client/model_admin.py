"""Ollama model administration through the daemon's /ollama routes (admins): pull, remove, and
the models loaded in memory."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from webui_tui.client.base import BaseClient
from webui_tui.client.errors import AnswerFailed, BadResponse


def _node_path(path: str, node: int | None) -> str:
    return path if node is None else f"{path}/{node}"


class ModelAdminMixin(BaseClient):
    async def pull_model(
        self, name: str, *, node: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Ollama's progress lines (`status`, and `total`/`completed` while a layer downloads)
        as they come; AnswerFailed when Ollama reports an error midway."""
        path = _node_path("/ollama/api/pull", node)
        body = {"model": name, "stream": True}
        async with self.stream("POST", path, body=body, accept="application/x-ndjson") as response:
            try:
                async for line in response.aiter_lines():
                    if not line.strip():
                        continue
                    try:
                        progress = json.loads(line)
                    except ValueError:
                        raise BadResponse(f"{path} sent a line that is not JSON") from None
                    if not isinstance(progress, dict):
                        continue
                    if progress.get("error"):
                        raise AnswerFailed(f"pulling {name} failed: {progress['error']}")
                    yield progress
            except httpx.TransportError as exc:
                raise self.lost(exc) from None

    async def remove_model(self, name: str, *, node: int | None = None) -> bool:
        """Delete `name` from node `node` (default: the first node that has it)."""
        path = _node_path("/ollama/api/delete", node)
        return bool(await self.request("DELETE", path, body={"model": name}))

    async def loaded_models(self) -> list[dict[str, Any]]:
        """The models the Ollama nodes hold in memory (`urls`: which nodes)."""
        data = await self.request("GET", "/ollama/api/ps")
        models = data.get("models") if isinstance(data, dict) else None
        return [m for m in models or [] if isinstance(m, dict)]
