"""POST /api/chat/completions (and /api/v1/...): OpenAI bodies in, SSE or JSON out (spec 5)."""

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from webui_daemon.api.deps import ServicesDep, VerifiedUser
from webui_daemon.api.streaming import (
    SSE_HEADERS,
    ClosingStreamingResponse,
    sse_events,
    until_disconnect,
)

router = APIRouter(tags=["completions"])

# What a client that hung up before the answer started gets (nobody reads it).
CLIENT_GONE = 499


@router.post("/api/chat/completions")
@router.post("/api/v1/chat/completions")
async def chat_completions(
    request: Request,
    user: VerifiedUser,
    services: ServicesDep,
    body: dict[str, Any] = Body(...),
) -> Response:
    completions = services.completions
    prepared = await completions.prepare(user, body)
    if not prepared.stream:
        ok, reply = await until_disconnect(request, completions.complete(prepared))
        return JSONResponse(reply) if ok else Response(status_code=CLIENT_GONE)
    chunks = completions.stream(prepared)
    # The first chunk is awaited here, so an upstream error before it keeps its status code.
    ok, first = await until_disconnect(request, anext(chunks, None))
    if not ok:
        await chunks.aclose()
        return Response(status_code=CLIENT_GONE)
    return ClosingStreamingResponse(
        sse_events(first, chunks), media_type="text/event-stream", headers=SSE_HEADERS
    )
