"""Streaming answers: server-side turns in a saved chat, temporary completions, re-attaching.

    async with client.stream_turn(chat_id, "Hi", model, parent_id=None) as stream:
        async for event in stream:            # sse.ContentDelta, sse.Usage, ...
            ...
    stream.content, stream.usage, stream.error   # totals, kept as the events arrive

A turn (`stream_turn`) names the chat and the new message ids: the daemon adds the user
message to the chat, answers from the chat's branch and saves the answer as it streams, and
keeps generating if this client goes away (`stop_chat` ends it; `attach` reads it again).
A temporary completion (`stream_completion`) sends the messages itself and nothing is saved.
"""

import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import BaseModel, TypeAdapter

from webui_daemon.schemas.tasks import GenerationOut, UsageOut
from webui_tui.client.base import LATER, BaseClient
from webui_tui.client.errors import BadResponse
from webui_tui.client.sse import (
    DONE,
    ContentDelta,
    Finish,
    Interrupted,
    ReasoningDelta,
    SelectedModel,
    Sources,
    StreamError,
    StreamEvent,
    ToolActivity,
    ToolCallsDelta,
    Usage,
    chunk_events,
    sse_data,
)

COMPLETIONS = "/api/chat/completions"


_GENERATIONS = TypeAdapter(list[GenerationOut], config=LATER)
_USAGE = TypeAdapter(list[UsageOut], config=LATER)


class TaskIds(BaseModel):
    """`GET /api/tasks/chat/{id}`: the assistant messages of the chat still being generated."""

    task_ids: list[str]


def new_id() -> str:
    return str(uuid.uuid4())


def user_message(
    content: str,
    model: str,
    parent_id: str | None,
    *,
    message_id: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A user message as Open WebUI's chat tree keeps it (timestamp in epoch seconds); `files`
    are its attachments (images as {"type": "image", "url", ...})."""
    message: dict[str, Any] = {
        "id": message_id or new_id(),
        "parentId": parent_id,
        "childrenIds": [],
        "role": "user",
        "content": content,
        "timestamp": int(time.time()),
        "models": [model],
    }
    if files:
        message["files"] = files
    return message


class ChatStream:
    """One answer arriving. Iterate it once for events; the totals grow as they arrive.

    `chat_id` and `message_id` name the saved assistant message (None for a temporary
    completion). `error` is set when the answer failed midway (what arrived stays valid).
    """

    def __init__(
        self,
        client: BaseClient,
        response: httpx.Response,
        *,
        model: str,
        chat_id: str | None = None,
        message_id: str | None = None,
        user_message_id: str | None = None,
    ) -> None:
        self._client = client
        self._response = response
        self.model = model
        self.chat_id = chat_id
        self.message_id = message_id
        self.user_message_id = user_message_id
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self.tool_calls: list[dict[str, Any]] = []
        self.tool_items: list[dict[str, Any]] = []  # the daemon's tool loop (ToolActivity)
        self.sources: list[dict[str, Any]] = []
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.interrupted = False  # stopped before the model finished
        self.error: str | None = None
        self.done = False  # the server ended the stream ([DONE])
        self._started = False

    @property
    def content(self) -> str:
        return "".join(self._content)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._started:
            raise RuntimeError("a ChatStream can be read only once")
        self._started = True
        return self._events()

    async def _events(self) -> AsyncIterator[StreamEvent]:
        kind = self._response.headers.get("content-type", "")
        if not kind.startswith("text/event-stream"):
            # Open WebUI answers a turn it saves itself (chat_id and id, no session) with JSON.
            raise BadResponse(
                f"{self._response.request.url.path} answered {kind or 'no content type'}, not a "
                "stream: this server does not stream saved turns (a temporary completion may)"
            )
        try:
            async for data in sse_data(self._response.aiter_lines()):
                if data == DONE:
                    self.done = True
                    return
                try:
                    chunk = json.loads(data)
                except ValueError:
                    raise BadResponse(f"the answer stream had a bad event: {data[:80]!r}") from None
                if not self.model and isinstance(chunk, dict):
                    self.model = str(chunk.get("model") or "")
                for event in chunk_events(chunk):
                    self._absorb(event)
                    yield event
        except httpx.TransportError as exc:
            raise self._client.lost(exc) from None
        if not self.done:
            raise self._client.lost(httpx.RemoteProtocolError("the answer stopped before its end"))

    def _absorb(self, event: StreamEvent) -> None:
        match event:
            case ContentDelta(text=text):
                self._content.append(text)
            case ReasoningDelta(text=text):
                self._reasoning.append(text)
            case ToolCallsDelta(calls=calls):
                self.tool_calls.extend(calls)
            case ToolActivity(item=item):
                self.tool_items.append(item)
            case Finish(reason=reason):
                self.finish_reason = reason
            case Interrupted():
                self.interrupted = True
            case Usage(data=data):
                self.usage = data
            case Sources(items=items):
                self.sources.extend(items)
            case SelectedModel(model_id=model_id):
                self.model = model_id
            case StreamError(message=message):
                self.error = message

    async def aclose(self) -> None:
        """Hang up. A turn keeps generating on the daemon; a temporary completion stops."""
        await self._response.aclose()

    def summary(self) -> dict[str, Any]:
        """What `webui chat --json` prints: ids, model, content, usage (and what went wrong)."""
        out: dict[str, Any] = {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "model": self.model,
            "content": self.content,
            "usage": self.usage,
        }
        if self.reasoning:
            out["reasoning"] = self.reasoning
        if self.finish_reason:
            out["finish_reason"] = self.finish_reason
        if self.error:
            out["error"] = self.error
        if self.tool_items:
            out["tool_calls"] = tool_summary(self.tool_items)
        return out


class CompletionsMixin(BaseClient):
    """`/api/chat/completions`, turns and tasks (see the module docstring)."""

    @asynccontextmanager
    async def stream_turn(
        self,
        chat_id: str,
        content: str,
        model: str,
        *,
        parent_id: str | None,
        message_id: str | None = None,
        user_message_id: str | None = None,
        extra: dict[str, Any] | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> AsyncIterator[ChatStream]:
        """Ask `content` in chat `chat_id`, under `parent_id` (the current leaf; None at first).

        `extra` adds body keys (`params`, `files`, ...). Raises a RequestFailed before any
        event when the daemon refuses (400 "Model not found", the upstream's status, ...).
        """
        asked = user_message(content, model, parent_id, message_id=user_message_id, files=files)
        answer_id = message_id or new_id()
        body: dict[str, Any] = {
            **(extra or {}),
            "model": model,
            "stream": True,
            "chat_id": chat_id,
            "id": answer_id,
            "parent_id": asked["id"],
            "user_message": asked,
        }
        async with self.stream("POST", COMPLETIONS, body=body) as response:
            yield ChatStream(
                self,
                response,
                model=model,
                chat_id=chat_id,
                message_id=answer_id,
                user_message_id=asked["id"],
            )

    @asynccontextmanager
    async def stream_completion(
        self, model: str, messages: list[dict[str, Any]], **extra: Any
    ) -> AsyncIterator[ChatStream]:
        """A plain OpenAI streaming completion: nothing is saved (temporary chats)."""
        body = {**extra, "model": model, "messages": messages, "stream": True}
        async with self.stream("POST", COMPLETIONS, body=body) as response:
            yield ChatStream(self, response, model=model)

    async def complete(
        self, model: str, messages: list[dict[str, Any]], **extra: Any
    ) -> dict[str, Any]:
        """A non-streaming completion: the `chat.completion` object."""
        body = {**extra, "model": model, "messages": messages, "stream": False}
        data = await self.request("POST", COMPLETIONS, body=body)
        if not isinstance(data, dict):
            raise BadResponse(f"{COMPLETIONS} answered {type(data).__name__}, not an object")
        return data

    @asynccontextmanager
    async def attach(
        self, chat_id: str, message_id: str, *, model: str = ""
    ) -> AsyncIterator[ChatStream]:
        """Read a message's answer: all of it so far, then the live tokens (webui's route)."""
        path = f"/api/v1/chats/{chat_id}/messages/{message_id}/stream"
        async with self.stream("GET", path) as response:
            yield ChatStream(self, response, model=model, chat_id=chat_id, message_id=message_id)

    async def chat_tasks(self, chat_id: str) -> list[str]:
        """Ids of the assistant messages of `chat_id` still being generated."""
        return (await self._get(f"/api/tasks/chat/{chat_id}", TaskIds)).task_ids

    async def stop_chat(self, chat_id: str) -> bool:
        """Stop every generation in the chat; what arrived is saved, marked interrupted."""
        data = await self.request("POST", f"/api/tasks/chat/{chat_id}/stop")
        return bool(isinstance(data, dict) and data.get("status"))

    async def stop_message(self, message_id: str) -> bool:
        """Stop one generation; False when it was not running."""
        data = await self.request("POST", f"/api/tasks/stop/{message_id}")
        return bool(isinstance(data, dict) and data.get("status"))

    async def generations(self) -> list[GenerationOut]:
        """Running and waiting generations: yours, or everyone's for an admin (webui daemon)."""
        return await self._list("/api/webui/generations", _GENERATIONS)

    async def usage(self, *, user_id: str | None = None, since_days: int = 7) -> list[UsageOut]:
        """Requests and tokens per user, day and model (yours; admins: anyone's)."""
        params: dict[str, str | int] = {"since_days": since_days}
        if user_id:
            params["user_id"] = user_id
        return await self._list("/api/webui/usage", _USAGE, params=params)


def tool_summary(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The daemon's tool calls with their results: name, arguments, status, result."""
    calls: dict[str, dict[str, Any]] = {}
    for item in items:
        call_id = str(item.get("call_id") or "")
        if item.get("type") == "function_call":
            calls[call_id] = {
                "id": call_id,
                "name": item.get("name"),
                "arguments": item.get("arguments"),
                "status": item.get("status"),
                "result": None,
            }
        elif item.get("type") == "function_call_output" and call_id in calls:
            parts = item.get("output") or []
            calls[call_id]["result"] = "".join(
                str(p.get("text", "")) for p in parts if isinstance(p, dict)
            )
            calls[call_id]["status"] = item.get("status")
    return list(calls.values())
