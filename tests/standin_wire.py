"""The stand-ins' behaviour and records, Ollama's and OpenAI's answer formats, and HTTP/1.1."""

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["ollama", "openai"]
TOKEN = re.compile(r"\s*\S+\s*|\s+")


@dataclass
class Behaviour:
    models: list[str] | None = None  # default: ["standin:latest"] / ["standin-gpt"]
    reply: str = "Hello from the stand-in."
    tokens: int | None = None  # reply "tok0 tok1 ... tok{N-1} " instead of `reply`
    reply_fn: Callable[[dict[str, Any]], str] | None = None
    token_delay: float = 0.0
    first_token_delay: float = 0.0  # after the headers, before the first token
    header_delay: float = 0.0  # before the response headers (a node that hangs)
    fail_status: int | None = None  # answer chat/generate with this status instead
    fail_body: Any = None  # default: the provider's own error shape
    fail_times: int | None = None  # fail only this many requests, then answer normally
    # Send the failure after a 200 head, as the stream's first item (an SSE `data:` event or
    # an NDJSON line), the way some engines report an error once streaming has begun.
    fail_in_stream: bool = False
    cut_after: int | None = None  # drop the connection after this many tokens (0: at once)
    thinking: str | None = None  # Ollama `thinking` / OpenAI `reasoning_content` first
    # A tool-calling model (both wires, streamed or not): with `use_tools` and `tools` in the
    # body, or with `tool_calls` given, it calls tools until it has made `tool_rounds` rounds
    # of calls since the last user message, then answers `reply` with the tool results in it.
    # The calls: `tool_calls` ([{"name": ..., "arguments": {...} or a raw string}]), or one
    # call of the first tool offered with `tool_arguments`.
    tool_calls: list[dict[str, Any]] | None = None
    use_tools: bool = False
    tool_arguments: dict[str, Any] | str = field(default_factory=dict)
    tool_rounds: int = 1
    list_delay: float = 0.0  # delay on /api/tags, /api/ps and /v1/models
    list_status: int | None = None
    version: str = "0.6.5"
    api_key: str | None = None  # require "Authorization: Bearer <api_key>"
    # Generations at once (Ollama's OLLAMA_NUM_PARALLEL); more wait first come, first served
    # before their answer starts, as in Ollama. None: no limit.
    parallel: int | None = None


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float  # time.monotonic()
    first_token_at: float | None = None
    finished_at: float | None = None  # the answer was complete
    closed_at: float | None = None  # the client hung up before the answer was complete
    tokens_sent: int = 0

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("messages") or [])


class Form:
    """The provider's wire format for one answer."""

    def __init__(self, kind: Kind, path: str, model: str, body: dict[str, Any]) -> None:
        self.kind, self.path, self.model, self.body = kind, path, model, body
        self.id = f"chatcmpl-standin-{uuid.uuid4().hex[:12]}"
        self.created = int(time.time())

    def _usage(self, count: int) -> dict[str, int]:
        prompt = sum(
            len(str(m.get("content", "")).split()) for m in self.body.get("messages") or []
        )
        return {"prompt_tokens": prompt, "completion_tokens": count, "total_tokens": prompt + count}

    def _ollama_line(self, content: str, *, done: bool = False, **extra: Any) -> dict[str, Any]:
        line: dict[str, Any] = {"model": self.model, "created_at": iso()}
        if self.path == "/api/generate":
            line["response"] = content
        else:
            line["message"] = {"role": "assistant", "content": content, **extra}
        line["done"] = done
        return line

    def _final(self, count: int) -> dict[str, Any]:
        usage = self._usage(count)
        line = self._ollama_line("", done=True)
        line.update(
            done_reason="stop",
            total_duration=count * 1_000_000 + 5_000_000,
            load_duration=1_000_000,
            prompt_eval_count=usage["prompt_tokens"],
            prompt_eval_duration=2_000_000,
            eval_count=count,
            eval_duration=count * 1_000_000 or 1,
        )
        return line

    def _sse(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }

    def pieces(
        self, tokens: list[str], b: Behaviour, calls: list[dict[str, Any]] | None = None
    ) -> list[tuple[bytes, bool]]:
        """(bytes, is a token) in sending order; thinking counts as tokens too. `calls`: the
        tool calls the answer makes (Ollama: one line; OpenAI: deltas, arguments in pieces)."""
        think = TOKEN.findall(b.thinking or "")
        out: list[tuple[bytes, bool]] = []
        if self.kind == "ollama":
            nd = lambda obj: json.dumps(obj).encode() + b"\n"  # noqa: E731
            out += [(nd(self._ollama_line("", thinking=t)), True) for t in think]
            out += [(nd(self._ollama_line(t)), True) for t in tokens]
            if calls:
                wire = [{"function": c} for c in calls]
                out.append((nd(self._ollama_line("", tool_calls=wire)), False))
            out.append((nd(self._final(len(tokens))), False))
            return out
        ev = lambda obj: b"data: " + json.dumps(obj).encode() + b"\n\n"  # noqa: E731
        out.append((ev(self._sse({"role": "assistant", "content": ""})), False))
        out += [(ev(self._sse({"reasoning_content": t})), True) for t in think]
        out += [(ev(self._sse({"content": t})), True) for t in tokens]
        for index, call in enumerate(calls or []):
            head = {"index": index, "id": call_id(self.id, index), "type": "function"}
            head["function"] = {"name": call["name"], "arguments": ""}
            out.append((ev(self._sse({"tool_calls": [head]})), False))
            arguments = openai_arguments(call)
            for start in range(0, len(arguments), 7):
                piece = {"index": index, "function": {"arguments": arguments[start : start + 7]}}
                out.append((ev(self._sse({"tool_calls": [piece]})), False))
        out.append((ev(self._sse({}, "tool_calls" if calls else "stop")), False))
        if (self.body.get("stream_options") or {}).get("include_usage"):
            usage = {**self._sse({}), "choices": [], "usage": self._usage(len(tokens))}
            out.append((ev(usage), False))
        out.append((b"data: [DONE]\n\n", False))
        return out

    def whole(
        self, text: str, b: Behaviour, calls: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        count = len(TOKEN.findall(text))
        if self.kind == "ollama":
            line = self._final(count)
            if self.path == "/api/generate":
                line["response"] = text
            else:
                line["message"] = {"role": "assistant", "content": text}
                if b.thinking:
                    line["message"]["thinking"] = b.thinking
                if calls:
                    line["message"]["tool_calls"] = [{"function": c} for c in calls]
            return line
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if b.thinking:
            message["reasoning_content"] = b.thinking
        if calls:
            message["content"] = None
            message["tool_calls"] = [
                {
                    "id": call_id(self.id, index),
                    "type": "function",
                    "function": {"name": call["name"], "arguments": openai_arguments(call)},
                }
                for index, call in enumerate(calls)
            ]
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if calls else "stop",
                }
            ],
            "usage": self._usage(count),
        }


def call_id(answer_id: str, index: int) -> str:
    return f"call_{answer_id[-12:]}_{index}"


def openai_arguments(call: dict[str, Any]) -> str:
    arguments = call.get("arguments", {})
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def since_last_question(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    return messages[last_user + 1 :]


def planned_calls(body: dict[str, Any], b: Behaviour) -> list[dict[str, Any]] | None:
    """The tool calls this answer makes, or None (it answers in text)."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    if not b.tool_calls and not (b.use_tools and tools):
        return None
    rounds = sum(1 for m in since_last_question(body) if m.get("role") == "assistant")
    if rounds >= b.tool_rounds:
        return None
    if b.tool_calls:
        return b.tool_calls
    name = str((tools[0].get("function") or {}).get("name", ""))
    return [{"name": name, "arguments": b.tool_arguments}]


def tool_results(body: dict[str, Any]) -> list[str]:
    """The contents of the tool results the model was given since the last question."""
    return [str(m.get("content")) for m in since_last_question(body) if m.get("role") == "tool"]


# What engines answer when a request is wrong (not when they are down): (status, body) per
# engine and problem. llama.cpp's server (llama-server) and llama-cpp-python word a full
# context window differently; Ollama's errors are {"error": "text"}; OpenAI's are typed.
ENGINE_ERRORS: dict[tuple[str, str], tuple[int, Any]] = {
    ("llama.cpp", "context"): (
        400,
        {
            "error": {
                "code": 400,
                "message": "the request exceeds the available context size, try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 545,
                "n_ctx": 512,
            }
        },
    ),
    # llama-cpp-python's ValueError, as its server relays an error it has no formatter for.
    ("llama-cpp-python", "context"): (
        500,
        {
            "error": {
                "message": "Requested tokens (545) exceed context window of 512",
                "type": "internal_server_error",
                "param": None,
                "code": None,
            }
        },
    ),
    ("openai", "context"): (
        400,
        {
            "error": {
                "message": "This model's maximum context length is 512 tokens. However, your "
                "messages resulted in 545 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        },
    ),
    ("openai", "param"): (
        400,
        {
            "error": {
                "message": "Invalid value for 'temperature': must be between 0 and 2.",
                "type": "invalid_request_error",
                "param": "temperature",
                "code": "invalid_value",
            }
        },
    ),
    ("openai", "model"): (
        404,
        {
            "error": {
                "message": "The model `gone` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "param": None,
                "code": "model_not_found",
            }
        },
    ),
    ("ollama", "param"): (400, {"error": "invalid options: num_ctx must be a number"}),
    ("ollama", "model"): (404, {"error": 'model "gone" not found, try pulling it first'}),
}


def engine_error(engine: str, problem: str) -> dict[str, Any]:
    """Behaviour keywords making a stand-in answer chats as `engine` does for `problem`
    ("context", "param", "model"): `fail_status` and `fail_body`."""
    status, body = ENGINE_ERRORS[(engine, problem)]
    return {"fail_status": status, "fail_body": body}


def error_message(body: Any) -> str:
    """The human message inside one of ENGINE_ERRORS' bodies."""
    error = body.get("error") if isinstance(body, dict) else None
    return str(error.get("message") if isinstance(error, dict) else error)


def iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())


def tag(name: str) -> dict[str, Any]:
    family = name.split(":")[0]
    return {
        "name": name,
        "model": name,
        "modified_at": "2025-01-01T00:00:00Z",
        "size": 1_000_000,
        "digest": uuid.uuid5(uuid.NAMESPACE_DNS, name).hex,
        "details": {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "1B",
            "quantization_level": "Q4_0",
        },
    }


def show(name: str) -> dict[str, Any]:
    return {
        "modelfile": f"FROM {name}",
        "parameters": "stop <|end|>",
        "template": "{{ .Prompt }}",
        "details": tag(name)["details"],
        "model_info": {"general.architecture": "standin"},
        "capabilities": ["completion"],
    }


# ---- HTTP/1.1, just enough ------------------------------------------------------------------


async def read_request(
    reader: asyncio.StreamReader, prefix: bytes = b""
) -> tuple[str, str, dict[str, str], bytes] | None:
    line = prefix + await reader.readline()
    if not line.strip():
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                break
            body += await reader.readexactly(size)
            await reader.readline()
        return method, target.split("?")[0], headers, bytes(body)
    length = int(headers.get("content-length", "0") or 0)
    raw = await reader.readexactly(length) if length else b""
    return method, target.split("?")[0], headers, raw


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def head(status: int, media: str, framing: str) -> bytes:
    return f"HTTP/1.1 {status} X\r\nContent-Type: {media}\r\n{framing}\r\n\r\n".encode()


async def send_head(writer: asyncio.StreamWriter, status: int, media: str) -> None:
    writer.write(head(status, media, "Transfer-Encoding: chunked"))
    await writer.drain()


async def send(writer: asyncio.StreamWriter, status: int, body: bytes, media: str) -> None:
    writer.write(head(status, media, f"Content-Length: {len(body)}") + body)
    await writer.drain()


async def send_json(writer: asyncio.StreamWriter, status: int, obj: Any) -> None:
    await send(writer, status, json.dumps(obj).encode(), "application/json")
