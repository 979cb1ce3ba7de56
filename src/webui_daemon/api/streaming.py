"""Streaming answers: SSE of completion chunks and byte relays that close the upstream at once.

When the client goes away (or the server stops the response), the body iterator is closed
inside a shielded scope, which closes the upstream HTTP response: the provider sees its
connection drop within milliseconds, not at the next token or at garbage collection.
"""

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import anyio
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from webui_daemon.providers.base import RawStream
from webui_daemon.schemas.tools import TOOL_COMMENT, TOOL_KEY
from webui_daemon.services.scheduling.queue import QUEUE_KEY
from webui_daemon.services.turns.turns import Subscription, TurnEvent

log = logging.getLogger(__name__)

T = TypeVar("T")
DONE = b"data: [DONE]\n\n"
# What a client that hung up before the answer started gets (nobody reads it).
CLIENT_GONE = 499
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def sse_event(data: dict[str, Any]) -> bytes:
    if QUEUE_KEY in data:
        # A place in line (webui extension) as an SSE comment: OpenAI clients skip it.
        return b": webui.queue " + _dumps(data[QUEUE_KEY]).encode() + b"\n\n"
    if TOOL_KEY in data:
        # A tool call or result of the daemon's tool loop (webui extension), also a comment.
        return TOOL_COMMENT.encode() + _dumps(data[TOOL_KEY]).encode() + b"\n\n"
    return b"data: " + _dumps(data).encode() + b"\n\n"


class Last(bytes):
    """The final piece of a response body: sent together with the end of the body (one
    write instead of two)."""


def _closes_answer(chunk: dict[str, Any]) -> bool:
    """A finish or usage chunk: what follows is normally only `[DONE]`."""
    if chunk.get("usage") is not None:
        return True
    choices = chunk.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0].get("finish_reason") is not None
    return False


class ClosingStreamingResponse(StreamingResponse):
    """A StreamingResponse that always closes its body iterator (and `on_close`) at the end."""

    def __init__(
        self,
        content: AsyncGenerator[bytes, None],
        *,
        on_close: Callable[[], Awaitable[None]] | None = None,
        status_code: int = 200,
        media_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(content, status_code=status_code, media_type=media_type, headers=headers)
        self._content = content
        self._on_close = on_close

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for chunk in self.body_iterator:
            data = chunk.encode(self.charset) if isinstance(chunk, str) else bytes(chunk)
            last = type(chunk) is Last
            await send({"type": "http.response.body", "body": data, "more_body": not last})
            if last:
                return
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette does the same with an anyio task group (its cost is per answer, in the
        # time to first token): stream in one task, and stop it when the client hangs up.
        try:
            await _unless_gone(receive, self.stream_response(send))
        finally:
            with anyio.CancelScope(shield=True):
                await self._content.aclose()
                if self._on_close is not None:
                    await self._on_close()


async def sse_events(
    first: dict[str, Any] | None, chunks: AsyncGenerator[dict[str, Any], None]
) -> AsyncGenerator[bytes, None]:
    """`data: <json>` events, then `data: [DONE]`; a failure becomes an error event first.

    The finish (and usage) events wait for what follows them, normally `[DONE]`, to go out
    in the same write.
    """
    held = b""
    try:
        if first is not None:
            held = sse_event(first)
            if not _closes_answer(first):
                yield held
                held = b""
        async for chunk in chunks:
            event = sse_event(chunk)
            if _closes_answer(chunk):
                held += event
                continue
            yield held + event if held else event
            held = b""
    except Exception:
        log.exception("completion stream failed")
        held += sse_event({"error": {"message": "Chat completion stream failed"}})
    finally:
        await chunks.aclose()
    yield Last(held + DONE)


async def turn_sse(
    first: "TurnEvent | None", subscription: "Subscription"
) -> AsyncGenerator[bytes, None]:
    """A server-side turn's events as SSE. Leaving early only unsubscribes: the turn goes on."""
    held = b""
    try:
        events = subscription.events()
        pending = [first] if first is not None else []
        while True:
            event = pending.pop() if pending else await anext(events, None)
            if event is None or event.kind == "end":
                break
            if event.kind == "chunk" and event.chunk is not None:
                if _closes_answer(event.chunk):
                    held += sse_event(event.chunk)
                    continue
                yield held + sse_event(event.chunk) if held else sse_event(event.chunk)
                held = b""
            elif event.kind == "failed" and event.error is not None:
                held += sse_event({"error": {"message": event.error.detail}})
                break
    finally:
        subscription.close()
    yield Last(held + DONE)


async def _relay(first: bytes, rest: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    yield first
    async for chunk in rest:
        yield chunk


async def raw_response(request: Request, opening: Awaitable[RawStream]) -> Response:
    """A provider's own bytes (a proxy route), relayed as they come; the upstream is closed
    at once when the client leaves, before or after the first bytes."""
    ok, raw = await until_disconnect(request, opening)
    if not ok or raw is None:
        return Response(status_code=CLIENT_GONE)
    return ClosingStreamingResponse(
        _relay(raw.first, raw.rest),
        on_close=raw.aclose,
        status_code=raw.status,
        media_type=raw.content_type,
    )


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def until_disconnect(request: Request, work: Awaitable[T]) -> tuple[bool, T | None]:
    """Await `work` unless the client hangs up first (then `work` is cancelled at once).

    Returns (True, result), or (False, None) when the client is gone.
    """
    return await _unless_gone(request.receive, work)


async def _unless_gone(receive: Receive, work: Awaitable[T]) -> tuple[bool, T | None]:
    # `work` runs in this task (not one of its own: a task and a trip through the loop less
    # before the first token); a watcher cancels this task when the client hangs up.
    current = asyncio.current_task()
    assert current is not None
    hung_up = False

    async def watch() -> None:
        nonlocal hung_up
        await _disconnected(receive)
        hung_up = True
        current.cancel()

    watcher = asyncio.ensure_future(watch())
    try:
        result = await work
    except asyncio.CancelledError:
        if not hung_up:
            raise
        current.uncancel()
        return False, None
    finally:
        watcher.cancel()
    if hung_up:  # the work swallowed the cancellation: the client is gone all the same
        current.uncancel()
        return False, None
    return True, result
