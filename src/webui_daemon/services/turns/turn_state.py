"""A turn's state: what has arrived, who listens, and how it reads as a chat.completion."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from webui_daemon.schemas.tools import TOOL_KEY
from webui_daemon.services import errors

TurnStatus = Literal["running", "done", "interrupted", "error"]


@dataclass(frozen=True, slots=True)
class TurnEvent:
    """One item a subscriber receives: a chunk, a failure before any token, or the end."""

    kind: Literal["chunk", "failed", "end"]
    chunk: dict[str, Any] | None = None
    error: errors.WebUIError | None = None


@dataclass(eq=False)
class Turn:
    user_id: str
    chat_id: str
    message_id: str
    model: str
    started_at: float = field(default_factory=time.time)
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    sources: list[dict[str, Any]] | None = None
    # 0.12's `output` items once the daemon ran a tool: messages, calls and their results.
    output: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None
    status: TurnStatus = "running"
    error: dict[str, Any] | None = None
    # The provider's refusal when it failed before any token (its status goes to the caller).
    failure: errors.WebUIError | None = None
    chunk_id: str | None = None
    subscribers: list[asyncio.Queue[TurnEvent]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    stop_requested: bool = False

    @property
    def text(self) -> str:
        return "".join(self.content)

    def snapshot_chunk(self) -> dict[str, Any]:
        """What a re-attaching client receives first: everything so far, as one chunk."""
        delta: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.reasoning:
            delta["reasoning_content"] = "".join(self.reasoning)
        return {
            "id": self.chunk_id or f"chatcmpl-{self.message_id}",
            "object": "chat.completion.chunk",
            "created": int(self.started_at),
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
        }

    def snapshot_chunks(self) -> list[dict[str, Any]]:
        """What a re-attaching client receives first: the text so far as one chunk or, once
        tools ran, the text and tool items in the order they came (as they streamed)."""
        if not self.output:
            return [self.snapshot_chunk()] if self.content or self.reasoning else []
        head = self.snapshot_chunk()
        reasoning = head["choices"][0]["delta"].get("reasoning_content")
        return output_chunks(head, self.output, reasoning)

    def publish(self, event: TurnEvent) -> None:
        for queue in self.subscribers:
            queue.put_nowait(event)


def output_chunks(
    head: dict[str, Any], output: list[dict[str, Any]], reasoning: str | None = None
) -> list[dict[str, Any]]:
    """A message's `output` as the stream that made it: a content chunk (like `head`) per
    text item and a tool event ({TOOL_KEY: item}) per call and result; the reasoning first."""
    chunks: list[dict[str, Any]] = []

    def text_chunk(delta: dict[str, Any]) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}
        return {**head, "choices": [choice]}

    start: dict[str, Any] = {"role": "assistant", "content": ""}
    if reasoning:
        start["reasoning_content"] = reasoning
    chunks.append(text_chunk(start))
    for item in output:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            text = "".join(
                str(part.get("text", ""))
                for part in item.get("content") or []
                if isinstance(part, dict)
            )
            if text:
                chunks.append(text_chunk({"content": text}))
        elif item.get("type") in ("function_call", "function_call_output"):
            chunks.append({TOOL_KEY: dict(item)})
    return chunks


def closing_chunk(turn: Turn) -> dict[str, Any]:
    """The last chunk of a turn that was stopped: `interrupted: true` (webui extension) tells
    a client the answer is partial without reading the chat again."""
    chunk = turn.snapshot_chunk()
    chunk["choices"] = [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]
    chunk["interrupted"] = True
    return chunk


def turn_reply(turn: Turn) -> dict[str, Any]:
    """A finished turn as a chat.completion object (non-streaming callers)."""
    message: dict[str, Any] = {"role": "assistant", "content": turn.text}
    if turn.reasoning:
        message["reasoning_content"] = "".join(turn.reasoning)
    reply: dict[str, Any] = {
        "id": turn.chunk_id or f"chatcmpl-{turn.message_id}",
        "object": "chat.completion",
        "created": int(turn.started_at),
        "model": turn.model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": turn.finish_reason or "stop"}
        ],
    }
    if turn.usage is not None:
        reply["usage"] = turn.usage
    if turn.sources:
        reply["sources"] = turn.sources
    if turn.output:
        reply["output"] = turn.output
    if turn.error is not None:
        reply["error"] = {"message": turn.error.get("content", "")}
    return reply


def absorb_tool_item(turn: Turn, item: dict[str, Any]) -> None:
    """A tool call or result of the daemon's loop, into the turn's `output` (an item seen
    again, with its new status, replaces the one before)."""
    if not turn.output and turn.content:
        turn.output.append(_message_item(turn.text))  # what the model said before its calls
    if item.get("type") == "function_call_output":  # the result settles its call's status
        for known in turn.output:
            if known.get("type") == "function_call" and known.get("call_id") == item["call_id"]:
                known["status"] = item.get("status", "completed")
    for index, known in enumerate(turn.output):
        if known.get("id") == item.get("id"):
            turn.output[index] = item
            return
    turn.output.append(item)


def _message_item(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    }


def absorb(turn: Turn, chunk: dict[str, Any]) -> None:
    """Fold one chunk into the turn: text, reasoning, finish reason, usage, sources."""
    turn.chunk_id = turn.chunk_id or chunk.get("id")
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        if delta.get("content"):
            turn.content.append(str(delta["content"]))
            if turn.output:
                last = turn.output[-1]
                if last.get("type") != "message":
                    last = _message_item("")
                    turn.output.append(last)
                last["content"][0]["text"] += str(delta["content"])
        if delta.get("reasoning_content"):
            turn.reasoning.append(str(delta["reasoning_content"]))
        if choice.get("finish_reason"):
            turn.finish_reason = str(choice["finish_reason"])
    if chunk.get("usage"):
        turn.usage = chunk["usage"]
    if isinstance(chunk.get("sources"), list):
        turn.sources = chunk["sources"]


def error_content(error: Any) -> dict[str, Any]:
    if isinstance(error, dict):
        return {"content": str(error.get("message") or error.get("detail") or error)}
    return {"content": str(error)}
