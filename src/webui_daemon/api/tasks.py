"""Running generations: list and stop them (Open WebUI's task routes) and re-attach (ours)."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.api.streaming import DONE, SSE_HEADERS, sse_event, turn_sse
from webui_daemon.schemas.tasks import GenerationOut, StopResponse, UsageOut
from webui_daemon.services import errors
from webui_daemon.services.turns.turn_state import output_chunks

router = APIRouter(tags=["tasks"])


@router.get("/api/tasks/chat/{chat_id}")
async def chat_tasks(chat_id: str, user: VerifiedUser, services: ServicesDep) -> dict[str, Any]:
    await services.chats.get(user.id, chat_id)  # 401 when the chat is not the caller's
    return {"task_ids": [t.message_id for t in services.turns.running(user.id, chat_id)]}


@router.post("/api/tasks/chat/{chat_id}/stop")
async def stop_chat(chat_id: str, user: VerifiedUser, services: ServicesDep) -> StopResponse:
    """Stop the chat's running turns; 0.12's message names the last one stopped."""
    await services.chats.get(user.id, chat_id)
    answer = StopResponse(status=True, message="No tasks found.")
    for turn in services.turns.running(user.id, chat_id):
        await services.turns.stop(turn)
        answer = StopResponse(status=True, message=f"Task {turn.message_id} stopped.")
    return answer


@router.get("/api/tasks")
async def list_tasks(_: AdminUser, services: ServicesDep) -> dict[str, list[str]]:
    """Open WebUI's list of running task ids (admins): here every generation, waiting or not."""
    return {"tasks": services.generations.ids()}


@router.post("/api/tasks/stop/{task_id}")
async def stop_task(task_id: str, user: VerifiedUser, services: ServicesDep) -> StopResponse:
    """Stop a generation: your own (Open WebUI: admins only), any for admins."""
    if await services.generations.stop(user, task_id):
        return StopResponse(status=True, message=f"Task {task_id} stopped.")
    return StopResponse(status=False, message=f"Task with ID {task_id} not found.")


@router.get("/api/webui/usage", response_model=list[UsageOut])
async def usage(
    user: VerifiedUser,
    services: ServicesDep,
    user_id: str | None = None,
    since_days: Annotated[int, Query(ge=1, le=3660)] = 7,
) -> list[dict[str, Any]]:
    """webui extension (`webui usage`): requests and tokens per user, day and model over the
    last `since_days` days; your own, or (admins) everyone's or `user_id`'s."""
    return await services.usage.report(user, user_id=user_id, since_days=since_days)


@router.get("/api/webui/generations", response_model=list[GenerationOut])
async def generations(user: VerifiedUser, services: ServicesDep) -> list[dict[str, Any]]:
    """webui extension (`webui ps`): running and waiting generations, yours or (admins) all."""
    return services.generations.visible(user)


@router.get("/api/v1/chats/{chat_id}/messages/{message_id}/stream")
async def attach(
    chat_id: str, message_id: str, user: VerifiedUser, services: ServicesDep
) -> StreamingResponse:
    """webui extension: what a message has so far, then its live tokens, then [DONE]."""
    chat = await services.chats.get(user.id, chat_id)
    turn = services.turns.get(user.id, message_id)
    if turn is not None and turn.chat_id == chat_id:
        return sse_response(turn_sse(None, services.turns.subscribe(turn)))
    messages = (chat.chat.get("history") or {}).get("messages") or {}
    stored = messages.get(message_id)
    if not isinstance(stored, dict):
        raise errors.NotFound("We could not find what you're looking for :/")
    return sse_response(_stored_events(message_id, stored))


def sse_response(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)


async def _stored_events(message_id: str, message: dict[str, Any]) -> AsyncIterator[bytes]:
    base = {
        "id": f"chatcmpl-{message_id}",
        "object": "chat.completion.chunk",
        "created": int(message.get("timestamp") or 0),
        "model": message.get("model", ""),
    }
    output = message.get("output")
    if isinstance(output, list) and output:  # an answer that ran tools: its calls in order
        for chunk in output_chunks(base, output):
            yield sse_event(chunk)
    else:
        delta = {"role": "assistant", "content": message.get("content", "")}
        yield sse_event(base | {"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    error = message.get("error")
    if isinstance(error, dict) and error.get("content"):
        # The saved failure, as a live stream would have sent it.
        yield sse_event({"error": {"message": str(error["content"])}})
    elif message.get("done", True):
        final: dict[str, Any] = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        if message.get("usage"):
            final["usage"] = message["usage"]
        if message.get("interrupted"):
            final["interrupted"] = True
        yield sse_event(base | final)
    # A message left unfinished (done: false, no running turn) gets no finish chunk.
    yield DONE
