"""Proxy routes (spec 4.3, 5.6): native Ollama and OpenAI bodies relayed to the right node as
bytes.

A preset id is resolved to its provider model, its params fill what the body left unset and
its system prompt is applied (chat routes only); the answer (NDJSON, SSE or JSON) is relayed
unchanged. Routing and failover before the first byte are those of the completion path.

`/openai/{path}` passes any other OpenAI route through, as Open WebUI 0.12 does: only when
ENABLE_OPENAI_API_PASSTHROUGH is on, and to the connection of the model the body names (which
the caller must be allowed to use). Unlike Open WebUI, only admins may reach what a key holds
for everyone using it (files, batches, fine-tunes, assistants, stored responses, ...): users
may only POST to routes that answer about the model they name (`_USER_ROUTES`). A request
naming no model goes to the first connection.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from webui_daemon.providers.base import Kind, Provider, ProviderError, RawStream
from webui_daemon.providers.catalog import Route
from webui_daemon.providers.http import HttpClient, dumps, open_raw
from webui_daemon.providers.openai import upstream_body
from webui_daemon.services import errors
from webui_daemon.services.completions import model_params, system_prompt
from webui_daemon.services.completions.completions import (
    CompletionService,
    Requester,
    upstream_error,
)
from webui_daemon.services.models.connections import ConnectionService
from webui_daemon.services.models.models import MODEL_NOT_FOUND, ModelService, Resolved
from webui_daemon.storage.rows import UserRow

PASSTHROUGH_OFF = (
    "Direct API passthrough is disabled. Set ENABLE_OPENAI_API_PASSTHROUGH=True to enable."
)
PASSTHROUGH_ADMIN = "Only an admin may call this OpenAI route through the passthrough."
# First path segments of the OpenAI routes a user may POST to: each answers about the model
# named in its body and reaches nothing stored under the key.
_USER_ROUTES = frozenset(
    {"chat", "completions", "embeddings", "moderations", "audio", "images", "rerank"}
)
# The proxy routes that generate text, scheduled like /api/chat/completions.
_GENERATIONS = frozenset(
    {"/api/chat", "/api/generate", "/v1/chat/completions", "/v1/completions", "/chat/completions"}
)


class ProxyService:
    def __init__(
        self,
        models: ModelService,
        completions: CompletionService,
        providers: dict[Kind, Provider],
        http: HttpClient,
        connections: ConnectionService,
        *,
        passthrough: bool,
    ) -> None:
        self._models = models
        self._completions = completions
        self._providers = providers
        self._http = http
        self._connections = connections
        self._passthrough = passthrough

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
        self,
        resolved: Resolved,
        path: str,
        body: dict[str, Any],
        name_key: str = "model",
        who: Requester | None = None,
    ) -> RawStream:
        provider = self._providers[resolved.base.kind]

        async def open_(route: Route) -> RawStream:
            payload = {**body, name_key: route.upstream}
            if resolved.base.kind == "openai":
                payload = upstream_body(payload, route.upstream, stream=bool(body.get("stream")))
            return await provider.open_raw(route.conn, path, payload)

        return await self._hold(resolved, open_, who)

    async def _hold(
        self,
        resolved: Resolved,
        open_: Callable[[Route], Awaitable[RawStream]],
        who: Requester | None = None,
    ) -> RawStream:
        """Open on the best node (a generation, `who`, waits for a slot there first); the
        node's lease is given back when the relay is closed."""
        raw, lease = await self._completions.attempt(resolved.base, open_, who)
        upstream_close = raw.close

        async def close() -> None:
            try:
                if upstream_close is not None:
                    await upstream_close()
            finally:
                lease.release()

        raw.close = close
        return raw

    def _on_node(self, resolved: Resolved, url_idx: int) -> Resolved:
        """The same model, asked of node `url_idx` only (the `/{url_idx}` routes): no other
        node is tried, and a node that does not list the model answers for itself."""
        conn = self._connections.connection(resolved.base.kind, url_idx)
        route = next((r for r in resolved.base.routes if r.conn.idx == url_idx), None)
        if route is None:
            route = Route(conn, resolved.base.routes[0].upstream)
        return replace(resolved, base=replace(resolved.base, routes=[route]))

    async def ollama(
        self,
        user: UserRow,
        path: str,
        body: dict[str, Any],
        url_idx: int | None = None,
        *,
        interactive: bool = True,
    ) -> RawStream:
        """`/ollama/api/chat` (presets applied); `/api/generate`, `/api/show`, `/api/embed`
        and `/api/embeddings` as sent; on node `url_idx` when given."""
        resolved = await self._resolve(user, body, "ollama")
        if url_idx is not None:
            resolved = self._on_node(resolved, url_idx)
        body = dict(body)
        if path == "/api/chat":
            model_params.fill_ollama(body, resolved.params)
            self._apply_system(user, body, resolved.params)
        name_key = "model" if "model" in body or path != "/api/show" else "name"
        who = self._generation(user, body, path, interactive)
        return await self._relay(resolved, path, body, name_key, who)

    async def ollama_openai(
        self, user: UserRow, path: str, body: dict[str, Any], *, interactive: bool = True
    ) -> RawStream:
        """`/ollama/v1/...`: Ollama's own OpenAI-compatible API; a chat gets the preset's
        params and system prompt as on `/openai/chat/completions`."""
        resolved = await self._resolve(user, body, "ollama")
        body = dict(body)
        if path == "/v1/chat/completions":
            model_params.fill_body(body, resolved.params, openai_only=True)
            self._apply_system(user, body, resolved.params)
        return await self._relay(
            resolved, path, body, who=self._generation(user, body, path, interactive)
        )

    async def openai_chat(
        self, user: UserRow, body: dict[str, Any], *, interactive: bool = True
    ) -> RawStream:
        """`/openai/chat/completions`: preset params fill unset fields; no RAG, no features."""
        resolved = await self._resolve(user, body, "openai")
        body = dict(body)
        model_params.fill_body(body, resolved.params, openai_only=True)
        self._apply_system(user, body, resolved.params)
        who = self._generation(user, body, "/chat/completions", interactive)
        return await self._relay(resolved, "/chat/completions", body, who=who)

    @staticmethod
    def _generation(
        user: UserRow, body: dict[str, Any], path: str, interactive: bool
    ) -> Requester | None:
        """Generations wait for a slot on their node (the fair scheduler); other calls (show,
        embed, tokenize) do not."""
        if path not in _GENERATIONS:
            return None
        return Requester(user, str(body.get("model") or ""), interactive)

    async def openai_passthrough(
        self,
        user: UserRow,
        method: str,
        path: str,
        body: bytes,
        content_type: str | None,
    ) -> RawStream:
        """Any other OpenAI route (see the module docstring); the answer is relayed as it is."""
        if not self._passthrough:
            raise errors.Forbidden(PASSTHROUGH_OFF)
        if any(part in (".", "..") for part in path.split("?", 1)[0].split("/")):
            # Dot segments would leave the connection's base path (`/v1`) for the host's.
            raise errors.WebUIError("Not an OpenAI route.")
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None  # not JSON (a multipart upload, say): sent on as it came
        headers = {"Content-Type": content_type} if content_type else {}
        target = "/" + path
        model_id = payload.get("model") if isinstance(payload, dict) else None
        if user.role != "admin" and (
            method != "POST" or not model_id or path.split("/", 1)[0] not in _USER_ROUTES
        ):
            raise errors.Forbidden(PASSTHROUGH_ADMIN)
        if isinstance(payload, dict) and model_id:
            try:
                resolved = await self._resolve(user, payload, "openai")
            except errors.WebUIError as exc:
                raise errors.NotFound(MODEL_NOT_FOUND) from exc

            async def open_(route: Route) -> RawStream:
                sent = dumps({**payload, "model": route.upstream})
                return await open_raw(
                    self._http, route.conn, target, sent, method=method, headers=headers
                )

            return await self._hold(resolved, open_)
        conn = self._connections.connection("openai", 0)
        try:
            return await open_raw(
                self._http,
                conn,
                target,
                body or None,
                method=method,
                headers=headers,
                empty_ok=True,
            )
        except ProviderError as exc:
            raise upstream_error("openai", exc) from exc
