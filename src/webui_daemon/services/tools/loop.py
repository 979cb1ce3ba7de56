"""The tool loop the daemon runs for a completion with `tool_ids` (webui runs it for every
caller; Open WebUI 0.12 only for its web page).

model asks → the daemon calls the tools (calls.call: timeout, size limit, short errors) → the
results go back → the model answers; at most `max_rounds` rounds of calls, then the model is
asked once more without tools, so that it answers in text.

With an `ask` (params.tool_approval_mode "ask"), each call is yielded again with status
"pending" and waits for its user's answer; a call that is not approved is not run, its
result is 0.12's refusal (status "rejected") and the answer goes on.

Streamed: the model's text passes as it comes; its raw tool calls do not (the daemon runs
them). Each call and each result is yielded as `{TOOL_KEY: item}` (0.12's `function_call` /
`function_call_output` output items), which api.streaming sends as `: webui.tool` comments
and turns save in the message's `output`. Not streamed: the reply gets `output` (the items).
"""

import json
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from webui_daemon.schemas.tools import TOOL_KEY
from webui_daemon.services.tools.approvals import NOT_APPROVED, REJECTED, Ask
from webui_daemon.services.tools.calls import CallLimits, call
from webui_daemon.services.tools.servers import ToolSet

if TYPE_CHECKING:
    import httpx

Stream = Callable[[dict[str, Any]], AsyncGenerator[dict[str, Any], None]]
Complete = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def item_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def call_item(call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": call_id,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def result_item(call_id: str, text: str, status: str) -> dict[str, Any]:
    return {
        "type": "function_call_output",
        "id": item_id("fco"),
        "call_id": call_id,
        "output": [{"type": "input_text", "text": text}],
        "status": status,
        "completed_at": time.time(),
    }


def message_item(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id("msg"),
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    }


def _arguments_text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    return json.dumps(raw if raw is not None else {}, ensure_ascii=False)


class ToolLoop:
    def __init__(
        self,
        toolset: ToolSet,
        http: "httpx.AsyncClient",
        limits: CallLimits,
        max_rounds: int,
        ask: Ask | None = None,
    ) -> None:
        self.toolset = toolset
        self._http = http
        self._limits = limits
        self._max_rounds = max_rounds
        # `tool_approval_mode: "ask"`: each call waits for its user's yes (services.tools.approvals)
        self._ask = ask
        self.output: list[dict[str, Any]] = []

    def first_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "tools": self.toolset.specs()}

    def _last_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in ("tools", "tool_choice")}

    async def _run_calls(
        self, body: dict[str, Any], text: str, calls: list[dict[str, Any]]
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Run one round's calls, yielding their items; the messages go onto `body`."""
        if text:
            self.output.append(message_item(text))
        asked: list[dict[str, Any]] = []
        for raw in calls:
            function = raw.get("function") or {}
            call_id = str(raw.get("id") or item_id("call"))
            name = str(function.get("name") or "")
            arguments = _arguments_text(function.get("arguments"))
            asked.append(
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            )
            item = call_item(call_id, name, arguments, "queued" if self._ask else "in_progress")
            self.output.append(item)
            yield {TOOL_KEY: dict(item)}
        messages = list(body.get("messages") or [])
        messages.append({"role": "assistant", "content": text or None, "tool_calls": asked})
        for entry in asked:
            name = str(entry["function"]["name"])
            item = next(
                i
                for i in self.output
                if i.get("call_id") == entry["id"] and i["type"] == "function_call"
            )
            refusal = None
            if self._ask is not None:
                item["status"] = "pending"  # asked: the client shows it and answers
                question = self._ask(str(entry["id"]))  # waits before the client knows
                try:
                    yield {TOOL_KEY: dict(item)}
                    approved = await question.answer()
                finally:
                    question.close()
                if approved is True:
                    item["status"] = "in_progress"
                    yield {TOOL_KEY: dict(item)}
                else:
                    refusal = REJECTED if approved is False else NOT_APPROVED
            if refusal is not None:
                status, result = "rejected", refusal
            else:
                status, result = await call(
                    self.toolset.tools.get(name),
                    name,
                    entry["function"]["arguments"],
                    self._http,
                    self._limits,
                )
            item["status"] = status
            out = result_item(str(entry["id"]), result, status)
            self.output.append(out)
            yield {TOOL_KEY: out}
            messages.append(
                {"role": "tool", "tool_call_id": entry["id"], "name": name, "content": result}
            )
        body["messages"] = messages

    async def stream(
        self, body: dict[str, Any], open_: Stream
    ) -> AsyncGenerator[dict[str, Any], None]:
        body = self.first_body(body)
        for round_ in range(self._max_rounds + 1):
            if round_ == self._max_rounds:
                body = self._last_body(body)
            text: list[str] = []
            calls: dict[int, dict[str, Any]] = {}
            async for chunk in open_(body):
                choices = chunk.get("choices")
                if not choices:
                    if not (calls and chunk.get("usage")):
                        yield chunk  # queue places, sources, errors; usage of the last round
                    continue
                choice = choices[0]
                delta = choice.get("delta") or {}
                for piece in delta.get("tool_calls") or []:
                    _merge(calls, piece)
                if delta.get("content"):
                    text.append(str(delta["content"]))
                if calls and (choice.get("finish_reason") or "tool_calls" in delta):
                    rest = {k: v for k, v in delta.items() if k != "tool_calls"}
                    if rest.get("content") or rest.get("reasoning_content"):
                        yield _with_delta(chunk, rest)
                    continue
                yield chunk
            if not calls:
                if self.output and text:
                    self.output.append(message_item("".join(text)))
                return
            async for event in self._run_calls(
                body, "".join(text), [calls[i] for i in sorted(calls)]
            ):
                yield event

    async def complete(self, body: dict[str, Any], run: Complete) -> dict[str, Any]:
        body = {**self.first_body(body), "stream": False}
        texts: list[str] = []
        reply: dict[str, Any] = {}
        for round_ in range(self._max_rounds + 1):
            if round_ == self._max_rounds:
                body = self._last_body(body)
            reply = await run(body)
            message = ((reply.get("choices") or [{}])[0] or {}).get("message") or {}
            text = str(message.get("content") or "")
            calls = message.get("tool_calls") or []
            if text:
                texts.append(text)
            if not calls:
                if self.output and text:
                    self.output.append(message_item(text))
                break
            async for _ in self._run_calls(body, text, calls):
                pass
        choices = reply.get("choices") or [{}]
        first = dict(choices[0] or {})
        first["message"] = {"role": "assistant", "content": "".join(texts)}
        if first.get("finish_reason") == "tool_calls":
            first["finish_reason"] = "stop"  # the calls were run: what is left is the text
        return {**reply, "choices": [first], "output": self.output}


def _merge(calls: dict[int, dict[str, Any]], piece: Any) -> None:
    """One streamed `tool_calls` item into the call it belongs to (by index)."""
    if not isinstance(piece, dict):
        return
    index = piece.get("index", len(calls))
    index = index if isinstance(index, int) else len(calls)
    slot = calls.setdefault(index, {"id": "", "function": {"name": "", "arguments": ""}})
    if piece.get("id"):
        slot["id"] = piece["id"]
    function = piece.get("function") or {}
    if function.get("name") and not slot["function"]["name"]:
        slot["function"]["name"] = str(function["name"])
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        slot["function"]["arguments"] += arguments
    elif arguments is not None:
        slot["function"]["arguments"] = arguments


def _with_delta(chunk: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    choice = {**chunk["choices"][0], "delta": delta, "finish_reason": None}
    return {**chunk, "choices": [choice]}
