"""POST /api/chat/completions (and /api/v1/...): OpenAI bodies in, SSE or JSON out (spec 5).

The body is parsed once, here, into a ChatCompletionForm (a wrong type for a key the daemon
reads is a 422; keys it does not read go to the provider as sent). A body naming a saved chat
and an assistant message id (`chat_id`, `id`) is a server-side turn: the answer is written into
that chat as it streams and keeps going if the client leaves.
"""

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from webui_daemon.api.deps import ServicesDep, VerifiedUser, interactive
from webui_daemon.api.streaming import (
    CLIENT_GONE,
    SSE_HEADERS,
    ClosingStreamingResponse,
    sse_events,
    turn_sse,
    until_disconnect,
)
from webui_daemon.schemas.completions import ChatCompletionForm
from webui_daemon.services.errors import WebUIError
from webui_daemon.services.turns.turns import turn_reply
from webui_daemon.storage.rows import ChatRow, UserRow

router = APIRouter(tags=["completions"])


@router.post("/api/chat/completions")
@router.post("/api/v1/chat/completions")
async def chat_completions(
    request: Request,
    user: VerifiedUser,
    services: ServicesDep,
    form: ChatCompletionForm,
) -> Response:
    chat = await services.turns.chat_for(user, form)
    if chat is not None:
        return await _turn(request, user, services, form, chat)
    answers = services.answers
    answer = await answers.prepare(user, form, interactive=interactive(request))
    if not answer.stream_requested:
        ok, reply = await until_disconnect(request, answers.complete(answer))
        return JSONResponse(reply) if ok else Response(status_code=CLIENT_GONE)
    chunks = answers.stream(answer)
    # The first chunk is awaited here, so an upstream error before it keeps its status code.
    ok, first = await until_disconnect(request, anext(chunks, None))
    if not ok:
        await chunks.aclose()
        return Response(status_code=CLIENT_GONE)
    return ClosingStreamingResponse(
        sse_events(first, chunks), media_type="text/event-stream", headers=SSE_HEADERS
    )


async def _turn(
    request: Request, user: UserRow, services: ServicesDep, form: ChatCompletionForm, chat: ChatRow
) -> Response:
    turn, subscription = await services.turns.start(
        user, form, chat, interactive=interactive(request)
    )
    if not form.stream:
        # Leaving early does not stop the turn: it finishes and is saved either way.
        await until_disconnect(request, turn.finished.wait())
        if turn.failure is not None and not turn.content:
            raise turn.failure
        return JSONResponse(turn_reply(turn))
    first = await subscription.next()
    if first.kind == "failed" and first.error is not None:
        subscription.close()
        raise first.error  # the provider's status and body, before any token
    return ClosingStreamingResponse(
        turn_sse(first, subscription), media_type="text/event-stream", headers=SSE_HEADERS
    )


@router.post("/api/chat/completed")
@router.post("/api/v1/chat/completed")
async def chat_completed(user: VerifiedUser, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Open WebUI's outlet-filter hook (deprecated in 0.12): with no filter plugins here the
    body comes back unchanged, as the spec allows."""
    if not body.get("id"):
        raise WebUIError("Missing message id")
    return body


@router.post("/api/embeddings")
@router.post("/api/v1/embeddings")
async def embeddings(
    request: Request, user: VerifiedUser, services: ServicesDep, body: dict[str, Any] = Body(...)
) -> Response:
    """OpenAI's embeddings body for any model the caller may use, answered in OpenAI's form."""
    ok, reply = await until_disconnect(request, services.embeddings.embed(user, body))
    return JSONResponse(reply) if ok else Response(status_code=CLIENT_GONE)
