"""Chat completions (spec 5): resolve the model, apply the preset, stream through one path.

    prepared = await completions.prepare(user, body)   # 400 "Model not found" (WebUIError)
    async for chunk in completions.stream(prepared):    # OpenAI chunk dicts
        ...                                             # UpstreamError before the first one
    reply = await completions.complete(prepared)        # chat.completion dict

Every provider is normalised to OpenAI chunks here (Ollama NDJSON is converted, OpenAI SSE
events pass through as parsed). A node that fails before the first chunk is marked and the
next node serving the model is tried; when every node failed the last error is raised as
UpstreamError(status, body). A failure after the first chunk is yielded as
`{"error": {"message": ...}}` and the stream ends. Closing the iterator (`aclose()`, or
cancelling the task consuming it) closes the upstream connection at once.
"""

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from webui_daemon.providers.base import (
    Kind,
    Provider,
    ProviderError,
    UpstreamStatus,
    UpstreamUnreachable,
)
from webui_daemon.providers.catalog import ProviderModel, Route
from webui_daemon.providers.router import NodePool, NodeState
from webui_daemon.services import errors, model_params, system_prompt
from webui_daemon.services.models import MODEL_NOT_FOUND, ModelService
from webui_daemon.storage.models import ModelRow
from webui_daemon.storage.rows import UserRow

log = logging.getLogger(__name__)

T = TypeVar("T")

# Keys addressing a chat and its messages (the web UI's persistence, server-side turns).
TURN_KEYS = (
    "chat_id",
    "id",
    "parent_id",
    "session_id",
    "user_message",
    "parent_message",
    "message_ids",
    "background_tasks",
    "model_item",
)
# Open WebUI extensions handled by later steps (retrieval, tools, ...), never sent upstream.
EXTRA_KEYS = (
    "files",
    "features",
    "tool_ids",
    "tool_servers",
    "variables",
    "filter_ids",
    "folder_id",
    "terminal_id",
    "skill_ids",
)
STREAM_FAILED = "Chat completion stream failed"
CONNECTION_ERROR = "Server Connection Error: no provider node serving this model answered."


@dataclass(slots=True)
class PreparedCompletion:
    """A request ready for the provider (what `stream()` and `complete()` take)."""

    user: UserRow
    model_id: str  # what the caller asked for: a preset id or a provider model id
    model: ProviderModel  # the provider model that answers (kind, nodes)
    body: dict[str, Any]  # the OpenAI body sent upstream (`model` = the provider model id)
    stream: bool
    preset: ModelRow | None = None  # the workspace record applied, if any
    params: dict[str, Any] = field(default_factory=dict)  # merged Open WebUI params
    turn: dict[str, Any] = field(default_factory=dict)  # chat_id, id, parent_id, session_id...
    extras: dict[str, Any] = field(default_factory=dict)  # files, features, tool_ids...

    @property
    def chat_id(self) -> str | None:
        value = self.turn.get("chat_id")
        return str(value) if value else None

    @property
    def message_id(self) -> str | None:
        value = self.turn.get("id")
        return str(value) if value else None

    @property
    def parent_id(self) -> str | None:
        value = self.turn.get("parent_id")
        return str(value) if value else None


def _node(route: Route) -> str:
    return route.conn.node


def _is_error(chunk: dict[str, Any]) -> bool:
    return "error" in chunk and "choices" not in chunk


def upstream_error(kind: Kind, exc: ProviderError | None) -> errors.UpstreamError:
    """The error a caller sees once every node failed (spec 1: status and body pass through)."""
    if isinstance(exc, UpstreamStatus):
        body = exc.json()
        if kind == "ollama" and isinstance(body, dict) and isinstance(body.get("error"), str):
            body = {"detail": f"Ollama: {body['error']}"}  # as Open WebUI words it
        elif not isinstance(body, dict | list):
            text = exc.body.decode(errors="replace").strip()
            body = {"detail": text or f"The provider answered {exc.status}."}
        return errors.UpstreamError(exc.status, body)
    return errors.UpstreamError(500, {"detail": CONNECTION_ERROR})


class CompletionService:
    def __init__(
        self, models: ModelService, providers: Mapping[Kind, Provider], pool: NodePool
    ) -> None:
        self._models = models
        self._providers = providers
        self.pool = pool

    # ---- preparing --------------------------------------------------------------------------

    async def prepare(self, user: UserRow, body: dict[str, Any]) -> PreparedCompletion:
        """Resolve the model and its preset, merge params, render and place the system prompt."""
        body = dict(body)
        turn = {key: body.pop(key) for key in TURN_KEYS if key in body}
        extras = {key: body.pop(key) for key in EXTRA_KEYS if key in body}
        model_id = body.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise errors.WebUIError(MODEL_NOT_FOUND)
        resolved = await self._models.resolve(user, model_id)
        request_params = body.pop("params", None)
        params = model_params.merge(
            resolved.params, request_params if isinstance(request_params, dict) else None
        )
        model_params.fill_body(body, params, openai_only=resolved.base.kind == "openai")
        stream = bool(body.get("stream", False))
        if params.get("stream_response") is not None:
            stream = bool(params["stream_response"])
        body["stream"] = stream
        body["model"] = resolved.base.id
        messages = body.get("messages")
        messages = list(messages) if isinstance(messages, list) else []
        template = params.get("system")
        if isinstance(template, str) and template:
            variables = extras.get("variables")
            groups = None
            if "{{USER_GROUPS}}" in template:
                groups = [g.name for g in await self._models.user_groups(user)]
            system = system_prompt.render(
                template, user, variables if isinstance(variables, dict) else None, groups
            )
            messages = system_prompt.place_system(messages, system)
        body["messages"] = messages
        return PreparedCompletion(
            user=user,
            model_id=model_id,
            model=resolved.base,
            body=body,
            stream=stream,
            preset=resolved.record,
            params=params,
            turn=turn,
            extras=extras,
        )

    # ---- routing ----------------------------------------------------------------------------

    async def attempt(
        self, model: ProviderModel, open_: Callable[[Route], Awaitable[T]]
    ) -> tuple[T, NodeState]:
        """Run `open_` on the best node; on a node failure try the next one.

        Returns the result and the node's in-flight slot, which the caller releases
        (`pool.release`) when it is done with the node.
        """
        last: ProviderError | None = None
        for route in self.pool.order(model.routes, _node):
            node = route.conn.node
            state = self.pool.acquire(node)
            try:
                result = await open_(route)
            except UpstreamStatus as exc:
                self.pool.release(state)
                if not exc.retryable:
                    raise upstream_error(model.kind, exc) from exc
                if exc.status >= 500:
                    self.pool.failed(node, f"status {exc.status}")
                last = exc
            except UpstreamUnreachable as exc:
                self.pool.release(state)
                self.pool.failed(node, str(exc))
                last = exc
            except BaseException:
                self.pool.release(state)
                raise
            else:
                self.pool.succeeded(node)
                return result, state
        if isinstance(last, UpstreamUnreachable):
            log.warning("no node could answer for %s: %s", model.id, last)
        raise upstream_error(model.kind, last)

    # ---- answering --------------------------------------------------------------------------

    async def stream(self, prepared: PreparedCompletion) -> AsyncGenerator[dict[str, Any], None]:
        provider = self._providers[prepared.model.kind]

        async def start(
            route: Route,
        ) -> tuple[AsyncGenerator[dict[str, Any], None], dict[str, Any]]:
            chunks = provider.stream_chat(route.conn, prepared.body, route.upstream)
            try:
                first = await anext(chunks)
            except StopAsyncIteration:
                raise UpstreamUnreachable("the answer ended before any token") from None
            except BaseException:
                await chunks.aclose()
                raise
            return chunks, first

        (chunks, first), state = await self.attempt(prepared.model, start)
        try:
            yield first
            if _is_error(first):
                return
            async for chunk in chunks:
                yield chunk
                if _is_error(chunk):
                    return
        except ProviderError as exc:
            log.warning("stream of %s failed: %s", prepared.model.id, exc)
            yield {"error": {"message": f"{STREAM_FAILED}: {exc}"}}
        finally:
            self.pool.release(state)
            await chunks.aclose()

    async def complete(self, prepared: PreparedCompletion) -> dict[str, Any]:
        provider = self._providers[prepared.model.kind]
        body = {**prepared.body, "stream": False}

        async def run(route: Route) -> dict[str, Any]:
            return await provider.complete_chat(route.conn, body, route.upstream)

        reply, state = await self.attempt(prepared.model, run)
        self.pool.release(state)
        return reply
