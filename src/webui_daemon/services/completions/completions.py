"""Chat completions (spec 5): resolve the model, apply the preset, stream through one path.

    prepared = await completions.prepare(user, form)   # 400 "Model not found" (WebUIError)
    async for chunk in completions.stream(prepared):    # OpenAI chunk dicts
        ...                                             # UpstreamError before the first one
    reply = await completions.complete(prepared)        # chat.completion dict

`form` is the request body parsed at the edge (schemas.completions.ChatCompletionForm); the
body sent upstream is its provider part with the model's params, system prompt and model id.
Every provider is normalised to OpenAI chunks here (Ollama NDJSON is converted, OpenAI SSE
events pass through as parsed). A node that fails before the first chunk is marked and the
next node serving the model is tried; when every node failed the last error is raised as
UpstreamError(status, body), naming the nodes that did not answer. A failure after the first
chunk is yielded as `{"error": {"message": ...}}` and the stream ends. Closing the iterator
(`aclose()`, or cancelling the task consuming it) closes the upstream connection at once.

Generations take a slot on their node from the fair scheduler (services.scheduling): when every
node serving the model is full, the request waits in its user's line, and a stream yields
`{"webui_queue": {...}}` items (its place and estimated wait) before the first chunk.
"""

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from webui_daemon.providers.base import (
    Kind,
    Provider,
    ProviderError,
    UpstreamStatus,
    UpstreamUnreachable,
)
from webui_daemon.providers.catalog import ProviderModel, Route
from webui_daemon.providers.router import NodePool, NodeState
from webui_daemon.schemas.completions import ChatCompletionForm, ChatMessage
from webui_daemon.services import errors
from webui_daemon.services.completions import model_params, system_prompt
from webui_daemon.services.completions.chat_images import file_id_of
from webui_daemon.services.models.models import MODEL_NOT_FOUND, ModelService
from webui_daemon.services.scheduling.queue import (
    NodeGone,
    Place,
    Scheduler,
    Ticket,
    queue_item,
)
from webui_daemon.storage.models import ModelRow
from webui_daemon.storage.rows import UserRow

log = logging.getLogger(__name__)

T = TypeVar("T")

STREAM_FAILED = "Chat completion stream failed"
CONNECTION_ERROR = "Server Connection Error: no provider node serving this model answered."
# Image parts may carry the image (data:) or say where to fetch it (http, https); anything else
# (file://, a bare path) would have the provider read its own disk on the caller's behalf.
IMAGE_URL_SCHEMES = ("data:", "http://", "https://")
BAD_IMAGE_URL = (
    "An image_url must be a data: URL, an http(s) URL or a file (/api/v1/files/{id}/content)."
)


@dataclass(slots=True)
class PreparedCompletion:
    """A request ready for the provider (what `stream()` and `complete()` take)."""

    user: UserRow
    form: ChatCompletionForm  # the request as parsed at the edge
    model: ProviderModel  # the provider model that answers (kind, nodes)
    body: dict[str, Any]  # the OpenAI body sent upstream (`model` = the provider model id)
    stream: bool
    preset: ModelRow | None = None  # the workspace record applied, if any
    params: dict[str, Any] = field(default_factory=dict)  # merged Open WebUI params
    interactive: bool = True  # a person waiting (not API-key batch traffic): served first
    task_id: str | None = None  # a server-side turn's assistant message id

    @property
    def model_id(self) -> str:
        """What the caller asked for: a preset id or a provider model id."""
        return self.form.model


def _node(route: Route) -> str:
    return route.conn.node


@dataclass(slots=True)
class Requester:
    """Whom a generation is for, in the scheduler's terms."""

    user: UserRow
    model: str  # the model id as asked
    interactive: bool = True
    on_wait: Callable[[Place], Awaitable[None]] | None = None
    task_id: str | None = None  # a server-side turn's message id (else the scheduler's own)
    task: "asyncio.Task[Any] | None" = None  # the request's task (what stopping it cancels)


class Lease:
    """A node held by one request: its in-flight count and, for a generation, its scheduler
    slot. `release()` gives both back (once, however often it is called)."""

    __slots__ = ("_pool", "_released", "_scheduler", "state", "ticket")

    def __init__(
        self, pool: NodePool, state: NodeState, scheduler: Scheduler, ticket: Ticket | None
    ) -> None:
        self._pool, self.state, self._scheduler, self.ticket = pool, state, scheduler, ticket
        self._released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._pool.release(self.state)
        if self.ticket is not None:
            self._scheduler.release(self.ticket)


def _is_error(chunk: dict[str, Any]) -> bool:
    return "error" in chunk and "choices" not in chunk


def _count_tokens(ticket: Ticket, usage: Any) -> None:
    """The provider's token counts (OpenAI's `usage`), for the usage counters."""
    if isinstance(usage, dict):
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(prompt, int):
            ticket.tokens_in = prompt
        if isinstance(completion, int):
            ticket.tokens_out = completion


def _text_length(chunk: dict[str, Any]) -> int:
    """Characters of answer text in a chunk (for `webui ps`; cheap: no copies)."""
    choices = chunk.get("choices")
    if not choices:
        return 0
    delta = choices[0].get("delta") if isinstance(choices[0], dict) else None
    content = delta.get("content") if isinstance(delta, dict) else None
    return len(content) if isinstance(content, str) else 0


def check_images(messages: list[ChatMessage]) -> None:
    """400 unless every image part's URL is a data: or http(s) URL or names a file."""
    for message in messages:
        for url in message.image_urls():
            if not url.lower().startswith(IMAGE_URL_SCHEMES) and file_id_of(url) is None:
                raise errors.WebUIError(BAD_IMAGE_URL)


def not_answering(urls: list[str]) -> str:
    if len(urls) == 1:
        return f"Server Connection Error: the provider at {urls[0]} is not answering."
    return f"Server Connection Error: the providers at {', '.join(urls)} are not answering."


def upstream_error(
    kind: Kind, exc: ProviderError | None, unreachable: list[str] | None = None
) -> errors.UpstreamError:
    """The error a caller sees once every node failed (spec 1: status and body pass through).
    `unreachable`: the URLs of the nodes that did not answer at all, named in the message."""
    if isinstance(exc, UpstreamStatus):
        body = exc.json()
        if kind == "ollama" and isinstance(body, dict) and isinstance(body.get("error"), str):
            body = {"detail": f"Ollama: {body['error']}"}  # as Open WebUI words it
        elif not isinstance(body, dict | list):
            text = exc.body.decode(errors="replace").strip()
            body = {"detail": text or f"The provider answered {exc.status}."}
        return errors.UpstreamError(exc.status, body)
    if unreachable:
        return errors.UpstreamError(500, {"detail": not_answering(unreachable)})
    return errors.UpstreamError(500, {"detail": CONNECTION_ERROR})


class CompletionService:
    def __init__(
        self,
        models: ModelService,
        providers: Mapping[Kind, Provider],
        pool: NodePool,
        scheduler: Scheduler | None = None,
    ) -> None:
        self._models = models
        self._providers = providers
        self.pool = pool
        self.scheduler = scheduler or Scheduler()

    # ---- preparing --------------------------------------------------------------------------

    async def prepare(
        self, user: UserRow, form: ChatCompletionForm, *, interactive: bool = True
    ) -> PreparedCompletion:
        """Resolve the model and its preset, merge params, render and place the system prompt."""
        if not form.model:
            raise errors.WebUIError(MODEL_NOT_FOUND)
        check_images(form.messages)
        resolved = await self._models.resolve(user, form.model)
        if resolved.record is not None and any(m.image_urls() for m in form.messages):
            capabilities = (resolved.record.meta or {}).get("capabilities") or {}
            if capabilities.get("vision") is False:  # the 0.12 web UI's words for it
                raise errors.WebUIError(f"Model {resolved.record.name} is not vision capable")
        body = form.provider_body()
        params = model_params.merge(resolved.params, form.params)
        model_params.fill_body(body, params, openai_only=resolved.base.kind == "openai")
        stream = form.stream
        if params.get("stream_response") is not None:
            stream = bool(params["stream_response"])
        body["stream"] = stream
        body["model"] = resolved.base.id
        messages: list[Any] = body.get("messages") or []
        template = params.get("system")
        if isinstance(template, str) and template:
            groups = None
            if "{{USER_GROUPS}}" in template:
                groups = [g.name for g in await self._models.user_groups(user)]
            system = system_prompt.render(template, user, form.variables, groups)
            messages = system_prompt.place_system(messages, system)
        body["messages"] = messages
        return PreparedCompletion(
            user=user,
            form=form,
            model=resolved.base,
            body=body,
            stream=stream,
            preset=resolved.record,
            params=params,
            interactive=interactive,
        )

    # ---- routing ----------------------------------------------------------------------------

    def _routes(self, model: ProviderModel, scheduled: bool) -> list[Route]:
        routes = self.pool.order(model.routes, _node)
        if scheduled:
            # A node with a free slot before a full one (the pool's order otherwise kept).
            scheduler = self.scheduler
            routes.sort(
                key=lambda r: (
                    self.pool.is_down(r.conn.node),
                    not scheduler.has_room(r.conn.node, r.conn.capacity),
                )
            )
        return routes

    def has_room(self, model: ProviderModel) -> bool:
        """Whether a generation of `model` would start at once on some node."""
        return any(self.scheduler.has_room(r.conn.node, r.conn.capacity) for r in model.routes)

    async def attempt(
        self,
        model: ProviderModel,
        open_: Callable[[Route], Awaitable[T]],
        who: Requester | None = None,
    ) -> tuple[T, Lease]:
        """Run `open_` on the best node; on a node failure try the next one.

        With `who` the request is a generation: it takes a slot on the node from the scheduler
        first (waiting in line when the node is full; QueueFull when the user has too many
        waiting). Returns the result and the node's lease, which the caller releases when it is
        done with the node.
        """
        last: ProviderError | None = None
        unreachable: list[str] = []
        for route in self._routes(model, who is not None):
            node = route.conn.node
            ticket = None
            if who is not None:
                try:
                    ticket = await self.scheduler.acquire(
                        node,
                        capacity=route.conn.capacity,
                        user_id=who.user.id,
                        user_name=who.user.name,
                        model=who.model,
                        interactive=who.interactive,
                        on_wait=who.on_wait,
                        where=urlsplit(route.conn.url).netloc or route.conn.url,
                        ticket_id=who.task_id,
                        task=who.task,
                    )
                except NodeGone:
                    unreachable.append(route.conn.url)
                    continue  # it failed for someone else while we waited: the next node
            lease = Lease(self.pool, self.pool.acquire(node), self.scheduler, ticket)
            try:
                result = await open_(route)
            except UpstreamStatus as exc:
                lease.release()
                if not exc.retryable:
                    raise upstream_error(model.kind, exc) from exc
                if exc.status >= 500:
                    self._failed(node, f"status {exc.status}")
                last = exc
            except UpstreamUnreachable as exc:
                lease.release()
                self._failed(node, str(exc))
                unreachable.append(route.conn.url)
                last = exc
            except BaseException:
                lease.release()
                raise
            else:
                self.pool.succeeded(node)
                return result, lease
        if isinstance(last, UpstreamUnreachable):
            log.warning("no node could answer for %s: %s", model.id, last)
        raise upstream_error(model.kind, last, unreachable)

    @staticmethod
    def _requester(prepared: PreparedCompletion) -> Requester:
        return Requester(
            prepared.user,
            prepared.model_id,
            prepared.interactive,
            task_id=prepared.task_id,
            task=asyncio.current_task(),
        )

    def _failed(self, node: str, reason: str) -> None:
        self.pool.failed(node, reason)
        self.scheduler.fail_node(node)  # those waiting for it try another node

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
                raise UpstreamUnreachable(
                    f"{route.conn.url}: the answer ended before any token"
                ) from None
            except BaseException:
                await chunks.aclose()
                raise
            return chunks, first

        who = self._requester(prepared)
        if self.has_room(prepared.model):
            (chunks, first), lease = await self.attempt(prepared.model, start, who)
        else:
            # Every node is full: wait in line, telling the caller its place as it moves.
            places: asyncio.Queue[Place] = asyncio.Queue()
            who.on_wait = places.put
            waiting = asyncio.ensure_future(self.attempt(prepared.model, start, who))
            answered = False  # a place in line went out: the answer has begun (status 200)
            try:
                while not waiting.done():
                    told = asyncio.ensure_future(places.get())
                    try:
                        await asyncio.wait((waiting, told), return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        told.cancel()
                    if told.done() and not told.cancelled():
                        answered = True
                        yield queue_item(told.result())
                (chunks, first), lease = waiting.result()
            except errors.WebUIError as exc:
                await _abandon(waiting)
                if not answered:
                    raise  # still before the answer: its status code tells the client
                # After waiting in line (the daemon stopping, every node failing): the
                # stream ends with the reason, as a failure after the first token does.
                yield {"error": {"message": exc.detail}}
                return
            except BaseException:
                await _abandon(waiting)
                raise
        ticket = lease.ticket
        if ticket is not None:
            ticket.chars += _text_length(first)
        try:
            yield first
            if _is_error(first):
                return
            async for chunk in chunks:
                if ticket is not None:
                    ticket.chars += _text_length(chunk)
                    if chunk.get("usage"):
                        _count_tokens(ticket, chunk["usage"])
                yield chunk
                if _is_error(chunk):
                    return
        except ProviderError as exc:
            log.warning("stream of %s failed: %s", prepared.model.id, exc)
            yield {"error": {"message": f"{STREAM_FAILED}: {exc}"}}
        finally:
            lease.release()
            await chunks.aclose()

    async def complete(self, prepared: PreparedCompletion) -> dict[str, Any]:
        provider = self._providers[prepared.model.kind]
        body = {**prepared.body, "stream": False}

        async def run(route: Route) -> dict[str, Any]:
            return await provider.complete_chat(route.conn, body, route.upstream)

        reply, lease = await self.attempt(prepared.model, run, self._requester(prepared))
        if lease.ticket is not None and isinstance(reply, dict):
            _count_tokens(lease.ticket, reply.get("usage"))
        lease.release()
        return reply


async def _abandon(
    waiting: "asyncio.Future[tuple[tuple[AsyncGenerator[dict[str, Any], None], Any], Lease]]",
) -> None:
    """The caller left while its request waited: stop waiting, or give back what it opened."""
    if not waiting.done():
        waiting.cancel()
    try:
        (chunks, _), lease = await waiting
    except BaseException:
        return  # cancelled in line (no slot taken) or failed: nothing is held
    lease.release()
    await chunks.aclose()
