"""Server-sent events of a chat completion (spec 5.2), read into typed events.

    async for data in sse_data(response.aiter_lines()):   # each `data:` payload
        if data == DONE:                                  # the server's end of the answer
            break
        for event in chunk_events(json.loads(data)):      # ContentDelta, Usage, ...
            ...

One chunk may carry several events (the last chunk of an Ollama answer has both a finish
reason and usage). Objects without `choices` are read only for `sources`,
`selected_model_id` and `error`, as Open WebUI's clients do.

webui's queue extension: while a request waits for a slot on a busy provider node, the daemon
sends SSE comment lines `: webui.queue {"position": 3, "eta_s": 20.0, "model": ..., "node":
...}` (comments, so every other SSE reader ignores them). They become `Queued` events here.
Likewise the daemon's tool loop sends `: webui.tool {item}` for each tool call and each result
(Open WebUI 0.12's `function_call` / `function_call_output` items): `ToolActivity` events.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from webui_daemon.schemas.tools import TOOL_COMMENT, TOOL_KEY

DONE = "[DONE]"


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """The next piece of the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """The next piece of the model's reasoning (`reasoning_content`, Ollama's thinking)."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallsDelta:
    """Tool calls as the provider streamed them (OpenAI `delta.tool_calls` items)."""

    calls: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Finish:
    """The model ended its answer: "stop", "length", "tool_calls", ..."""

    reason: str


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The answer was stopped (by a client or the daemon stopping): what arrived is partial
    and saved as such (webui's `interrupted: true` on the last chunk)."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts and timings (the provider's usage object, as the daemon passes it)."""

    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Sources:
    """Retrieval citations, sent before the first token (spec 5.2 `sources` items)."""

    items: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class SelectedModel:
    """Arena models: the model that was picked to answer."""

    model_id: str


@dataclass(frozen=True, slots=True)
class Queued:
    """The request waits for a busy node: `position` 1 is served next (webui extension)."""

    position: int
    eta_s: float | None
    model: str
    node: str

    def line(self) -> str:
        """ "waiting: 3rd in line for llama3.1:70b on gpu-box (≈ 20 s)"."""
        where = f" for {self.model}" if self.model else ""
        where += f" on {self.node}" if self.node else ""
        eta = f" (≈ {max(1, round(self.eta_s))} s)" if self.eta_s is not None else ""
        return f"waiting: {ordinal(self.position)} in line{where}{eta}"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True, slots=True)
class ToolActivity:
    """The daemon called a tool (`function_call`) or got its result (`function_call_output`)."""

    item: dict[str, Any]

    def line(self, calls: dict[str, str] | None = None) -> str:
        """`→ get_forecast(city="Oslo")` for a call; `  ← <result, on one line>` for a result."""
        item = self.item
        if item.get("type") == "function_call":
            try:
                arguments = json.loads(item.get("arguments") or "{}")
            except ValueError:
                arguments = None
            if isinstance(arguments, dict):
                shown = ", ".join(
                    f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items()
                )
            else:
                shown = str(item.get("arguments"))
            return f"→ {item.get('name', '?')}({shown})"
        parts = item.get("output") or []
        text = " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
        text = " ".join(text.split())
        text = text if len(text) <= 100 else text[:99] + "…"
        mark = "✗" if item.get("status") in ("failed", "rejected") else "←"
        return f"  {mark} {text}"


@dataclass(frozen=True, slots=True)
class StreamError:
    """The answer failed after it started; what arrived before stays valid."""

    message: str


StreamEvent = (
    ContentDelta
    | ReasoningDelta
    | ToolCallsDelta
    | Finish
    | Interrupted
    | Usage
    | Sources
    | SelectedModel
    | Queued
    | ToolActivity
    | StreamError
)

QUEUE_COMMENT = ": webui.queue "


async def sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The `data:` payloads of an SSE body, up to and including `[DONE]`.

    A body that ends without `[DONE]` was cut short. Multi-line data is joined by newlines.
    """
    parts: list[str] = []
    async for line in lines:
        if not line:
            if parts:
                data = "\n".join(parts)
                parts.clear()
                yield data
                if data == DONE:
                    return
            continue
        if line.startswith("data:"):
            value = line[5:]
            parts.append(value[1:] if value.startswith(" ") else value)
        elif line.startswith(QUEUE_COMMENT):
            yield json.dumps({"webui_queue": _json(line[len(QUEUE_COMMENT) :])})
        elif line.startswith(TOOL_COMMENT):
            yield json.dumps({TOOL_KEY: _json(line[len(TOOL_COMMENT) :])})
        # Other fields (event:, id:, retry:) and comments (": ping") say nothing we use.
    if parts:
        yield "\n".join(parts)


def chunk_events(chunk: Any) -> list[StreamEvent]:
    """The events in one decoded `data:` object."""
    if not isinstance(chunk, dict):
        return []
    events: list[StreamEvent] = []
    error = chunk.get("error")
    if error is not None and "choices" not in chunk:
        return [StreamError(_error_message(error))]
    if "choices" not in chunk:
        queued = _queued(chunk.get("webui_queue"))
        if queued is not None:
            return [queued]
        tool = chunk.get(TOOL_KEY)
        if isinstance(tool, dict):
            return [ToolActivity(tool)]
        sources = chunk.get("sources")
        if isinstance(sources, list):
            events.append(Sources(tuple(s for s in sources if isinstance(s, dict))))
        selected = chunk.get("selected_model_id")
        if isinstance(selected, str) and selected:
            events.append(SelectedModel(selected))
    for choice in chunk.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta") or choice.get("message") or {}
        if isinstance(delta, dict):
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                events.append(ReasoningDelta(reasoning))
            content = delta.get("content")
            if isinstance(content, str) and content:
                events.append(ContentDelta(content))
            calls = delta.get("tool_calls")
            if isinstance(calls, list) and calls:
                events.append(ToolCallsDelta(tuple(c for c in calls if isinstance(c, dict))))
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            events.append(Finish(reason))
    usage = chunk.get("usage")
    if isinstance(usage, dict) and usage:
        events.append(Usage(usage))
    if chunk.get("interrupted") is True:
        events.append(Interrupted())
    return events


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _queued(data: Any) -> Queued | None:
    if not isinstance(data, dict) or not isinstance(data.get("position"), int):
        return None
    eta = data.get("eta_s")
    return Queued(
        position=data["position"],
        eta_s=float(eta) if isinstance(eta, int | float) else None,
        model=str(data.get("model") or ""),
        node=str(data.get("node") or ""),
    )


def _error_message(error: Any) -> str:
    if isinstance(error, dict):
        for key in ("message", "detail"):
            if isinstance(error.get(key), str) and error[key]:
                return str(error[key])
    if isinstance(error, str) and error:
        return error
    return "the answer failed"
