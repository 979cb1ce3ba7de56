"""OpenAI <-> Ollama conversion: request bodies one way, answers and stream chunks the other.

Spec 5.1/5.2: OpenAI sampling fields become Ollama `options` (max_tokens -> num_predict;
format, keep_alive and think stay at the top level); every NDJSON line becomes an OpenAI
`chat.completion.chunk` with one id for the whole stream, the role in the first delta, Ollama's
`thinking` as `reasoning_content`, and a final chunk carrying finish_reason and usage.
"""

import json
import time
import uuid
from typing import Any

from webui_daemon.providers.merge import merge_text_chunks

# The keys of a streamed message that only adds text.
_PLAIN_MESSAGE = frozenset({"role", "content"})
# Body fields that Ollama reads at the top level rather than in `options`.
_TOP_LEVEL = frozenset({"format", "keep_alive", "think", "tools", "template", "raw", "suffix"})
# OpenAI fields with no Ollama meaning (or handled separately): never copied into options.
_NOT_OPTIONS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "options",
        "max_tokens",
        "max_completion_tokens",
        "response_format",
        "n",
        "user",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "tool_choice",
        "parallel_tool_calls",
        "metadata",
        "reasoning_effort",
        "store",
        "modalities",
        "prediction",
        "service_tier",
    }
)


def _text_and_images(content: Any) -> tuple[str, list[str]]:
    if not isinstance(content, list):
        return ("" if content is None else str(content)), []
    texts, images = [], []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            texts.append(str(part.get("text", "")))
        elif part.get("type") == "image_url":
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, dict) else url
            url = url if isinstance(url, str) else ""
            # Ollama takes bare base64; a data URL carries it after the comma.
            images.append(url.split(",", 1)[1] if url.startswith("data:") else url)
    return "\n".join(texts), images


def _ollama_tool_calls(calls: list[Any]) -> list[dict[str, Any]]:
    out = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        function = function if isinstance(function, dict) else {}
        arguments = function.get("arguments", {})
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments else {}
            except ValueError:
                arguments = {}
        out.append({"function": {"name": function.get("name", ""), "arguments": arguments}})
    return out


def messages_to_ollama(messages: list[Any]) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        text, images = _text_and_images(message.get("content"))
        converted: dict[str, Any] = {"role": message.get("role", "user"), "content": text}
        if images:
            converted["images"] = images
        if message.get("tool_calls"):
            converted["tool_calls"] = _ollama_tool_calls(message["tool_calls"])
        if message.get("name") and converted["role"] == "tool":
            converted["tool_name"] = message["name"]
        out.append(converted)
    return out


def body_to_ollama(body: dict[str, Any], model: str, *, stream: bool) -> dict[str, Any]:
    """An OpenAI chat body as an Ollama /api/chat body."""
    payload: dict[str, Any] = {
        "model": model,
        "messages": messages_to_ollama(body.get("messages") or []),
        "stream": stream,
    }
    given = body.get("options")
    options: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    for key, value in body.items():
        if value is None:
            continue
        if key in _TOP_LEVEL:
            payload[key] = value
        elif key not in _NOT_OPTIONS:
            options.setdefault(key, value)
    max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
    if max_tokens is not None:
        options.setdefault("num_predict", max_tokens)
    if "max_tokens" in options:
        options.setdefault("num_predict", options.pop("max_tokens"))
    if options:
        payload["options"] = options
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and "format" not in payload:
        if response_format.get("type") == "json_schema":
            spec = response_format.get("json_schema")
            schema = spec.get("schema") if isinstance(spec, dict) else None
            payload["format"] = schema if schema else "json"
        elif response_format.get("type") == "json_object":
            payload["format"] = "json"
    return payload


def usage_from_ollama(data: dict[str, Any]) -> dict[str, Any]:
    """Ollama's counters in OpenAI's usage shape, plus Open WebUI's extra keys."""
    prompt = int(data.get("prompt_eval_count") or 0)
    completion = int(data.get("eval_count") or 0)
    eval_ns = data.get("eval_duration") or 0
    prompt_ns = data.get("prompt_eval_duration") or 0
    total_ns = int(data.get("total_duration") or 0)
    seconds = total_ns // 1_000_000_000
    return {
        "response_token/s": round(completion / (eval_ns / 1e9), 2) if eval_ns else "N/A",
        "prompt_token/s": round(prompt / (prompt_ns / 1e9), 2) if prompt_ns else "N/A",
        "total_duration": total_ns,
        "load_duration": data.get("load_duration", 0),
        "prompt_eval_count": prompt,
        "prompt_eval_duration": prompt_ns,
        "eval_count": completion,
        "eval_duration": eval_ns,
        "approximate_total": f"{seconds // 3600}h{seconds % 3600 // 60}m{seconds % 60}s",
        "input_tokens": prompt,
        "output_tokens": completion,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def openai_tool_calls(calls: list[Any]) -> list[dict[str, Any]]:
    out = []
    for index, call in enumerate(calls):
        function = (call or {}).get("function") or {}
        arguments = function.get("arguments", {})
        out.append(
            {
                "index": index,
                "id": call.get("id") or f"call_{uuid.uuid4().hex[:24]}",
                "type": "function",
                "function": {
                    "name": function.get("name", ""),
                    "arguments": arguments
                    if isinstance(arguments, str)
                    else json.dumps(arguments, ensure_ascii=False),
                },
            }
        )
    return out


class ChunkConverter:
    """Turns the NDJSON lines of one Ollama stream into OpenAI chunks."""

    __slots__ = ("created", "first", "id", "model", "saw_tools")

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4()}"
        self.created = int(time.time())
        self.model = model
        self.first = True
        self.saw_tools = False

    def _chunk(
        self, delta: dict[str, Any], finish: str | None = None, usage: Any = None
    ) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if usage is not None:
            chunk["usage"] = usage
        return chunk

    def convert(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Chunks for one NDJSON line (usually one; two for a final line that has text)."""
        message = data.get("message") or {}
        if "response" in data and not message:  # /api/generate lines
            message = {"content": data.get("response", ""), "thinking": data.get("thinking")}
        delta: dict[str, Any] = {}
        if self.first:
            delta = {"role": "assistant", "content": message.get("content") or ""}
            self.first = False
        elif message.get("content"):
            delta["content"] = message["content"]
        if message.get("thinking"):
            delta["reasoning_content"] = message["thinking"]
        if message.get("tool_calls"):
            delta["tool_calls"] = openai_tool_calls(message["tool_calls"])
            self.saw_tools = True
        out = []
        done = bool(data.get("done"))
        if delta and (not done or len(delta) > 1 or delta.get("content")):
            out.append(self._chunk(delta))
        if done:
            finish = "tool_calls" if self.saw_tools else (data.get("done_reason") or "stop")
            out.append(self._chunk({}, finish, usage_from_ollama(data)))
        return out

    def convert_batch(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Chunks for the NDJSON lines that arrived together: a run of plain text lines is
        joined before it becomes one chunk (one dict instead of one per token)."""
        out: list[dict[str, Any]] = []
        text: list[str] = []
        for data in lines:
            message = data.get("message")
            if (
                not self.first
                and type(message) is dict
                and _PLAIN_MESSAGE.issuperset(message)
                and not data.get("done")
            ):
                content = message.get("content")
                if isinstance(content, str) and content:
                    text.append(content)
                continue
            if text:
                out.append(self._chunk({"content": "".join(text)}))
                text = []
            out += self.convert(data)
        if text:
            out.append(self._chunk({"content": "".join(text)}))
        return merge_text_chunks(out)


def completion_from_ollama(data: dict[str, Any], model: str) -> dict[str, Any]:
    """A non-streamed Ollama chat answer as an OpenAI `chat.completion`."""
    message = data.get("message") or {}
    out_message: dict[str, Any] = {"role": "assistant", "content": message.get("content", "")}
    if message.get("thinking"):
        out_message["reasoning_content"] = message["thinking"]
    finish = data.get("done_reason") or "stop"
    if message.get("tool_calls"):
        out_message["tool_calls"] = openai_tool_calls(message["tool_calls"])
        finish = "tool_calls"
    return {
        "id": f"chatcmpl-{uuid.uuid4()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": data.get("model") or model,
        "choices": [
            {"index": 0, "message": out_message, "logprobs": None, "finish_reason": finish}
        ],
        "usage": usage_from_ollama(data),
    }
