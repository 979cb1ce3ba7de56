"""Proxy routes (spec 5.6): native Ollama and OpenAI bodies relayed to the right node as bytes.

A preset id is resolved to its provider model, its params fill what the body left unset and
its system prompt is applied (chat routes only); the answer (NDJSON, SSE or JSON) is relayed
unchanged. Routing and failover before the first byte are those of the completion path.
"""

from typing import Any

from webui_daemon.providers.base import Kind, Provider, RawStream
from webui_daemon.providers.catalog import Route
from webui_daemon.providers.openai import upstream_body
from webui_daemon.services import errors, model_params, system_prompt
from webui_daemon.services.completions import CompletionService
from webui_daemon.services.models import MODEL_NOT_FOUND, ModelService, Resolved
from webui_daemon.storage.rows import UserRow


class ProxyService:
    def __init__(
        self,
        models: ModelService,
        completions: CompletionService,
        providers: dict[Kind, Provider],
    ) -> None:
        self._models = models
        self._completions = completions
        self._providers = providers

    async def _resolve(self, user: UserRow, body: dict[str, Any], kind: Kind) -> Resolved:
        model_id = body.get("model") or body.get("name")
        if not isinstance(model_id, str) or not model_id:
            raise errors.WebUIError(MODEL_NOT_FOUND)
        return await self._models.resolve(user, model_id, kind)

    def _apply_system(self, user: UserRow, body: dict[str, Any], params: dict[str, Any]) -> None:
        template = params.get("system")
        if isinstance(template, str) and template:
            messages = body.get("messages")
            body["messages"] = system_prompt.place_system(
                list(messages) if isinstance(messages, list) else [],
                system_prompt.render(template, user),
            )

    async def _relay(
        self, resolved: Resolved, path: str, body: dict[str, Any], name_key: str = "model"
    ) -> RawStream:
        provider = self._providers[resolved.base.kind]
        pool = self._completions.pool

        async def open_(route: Route) -> RawStream:
            payload = {**body, name_key: route.upstream}
            if resolved.base.kind == "openai":
                payload = upstream_body(payload, route.upstream, stream=bool(body.get("stream")))
            return await provider.open_raw(route.conn, path, payload)

        raw, state = await self._completions.attempt(resolved.base, open_)
        released = False
        upstream_close = raw.close

        async def close() -> None:
            nonlocal released
            try:
                if upstream_close is not None:
                    await upstream_close()
            finally:
                if not released:
                    released = True
                    pool.release(state)

        raw.close = close
        return raw

    async def ollama(self, user: UserRow, path: str, body: dict[str, Any]) -> RawStream:
        """`/ollama/api/chat` (presets applied), `/api/generate` and `/api/show` (as sent)."""
        resolved = await self._resolve(user, body, "ollama")
        body = dict(body)
        if path == "/api/chat":
            model_params.fill_ollama(body, resolved.params)
            self._apply_system(user, body, resolved.params)
        name_key = "model" if "model" in body or path != "/api/show" else "name"
        return await self._relay(resolved, path, body, name_key)

    async def openai_chat(self, user: UserRow, body: dict[str, Any]) -> RawStream:
        """`/openai/chat/completions`: preset params fill unset fields; no RAG, no features."""
        resolved = await self._resolve(user, body, "openai")
        body = dict(body)
        model_params.fill_body(body, resolved.params, openai_only=True)
        self._apply_system(user, body, resolved.params)
        return await self._relay(resolved, "/chat/completions", body)
