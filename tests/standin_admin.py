"""The stand-ins' model administration and embeddings, as Ollama and OpenAI answer them.

Ollama: /api/ps's list (the models a chat loaded, until a `keep_alive: 0` request unloads
them), POST /api/pull and /api/create (NDJSON progress, then the model is listed; a name starting
with "missing" gets Ollama's error line instead), POST /api/copy,
DELETE /api/delete, POST /api/embed and /api/embeddings. OpenAI-compatible (the OpenAI stand-in,
and Ollama's own /v1): POST /embeddings. Vectors are made from the text (sha256), so the same
text always gets the same vector and different texts differ.
"""

import asyncio
import base64
import hashlib
import json
import struct
from typing import TYPE_CHECKING, Any

from tests.standin_wire import chunk, send_head, send_json, tag

if TYPE_CHECKING:
    from tests.standins import StandIn

DIMENSIONS = 8


def vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round(byte / 255, 6) for byte in digest[:DIMENSIONS]]


def _texts(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


async def _progress(writer: asyncio.StreamWriter, lines: list[dict[str, Any]]) -> None:
    await send_head(writer, 200, "application/x-ndjson")
    for line in lines:
        writer.write(chunk(_nd(line)))
        await writer.drain()
        await asyncio.sleep(0.005)  # a pull reports over time
    writer.write(b"0\r\n\r\n")
    await writer.drain()


def _nd(obj: Any) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def loaded_models(s: "StandIn") -> dict[str, Any]:
    """/api/ps: what a chat or an embedding loaded and no `keep_alive: 0` unloaded."""
    return {
        "models": [
            {**tag(m), "expires_at": "2099-01-01T00:00:00Z", "size_vram": 1_000_000}
            for m in s.models
            if m in s.loaded
        ]
    }


async def answer_admin(
    s: "StandIn", method: str, path: str, body: dict[str, Any], writer: asyncio.StreamWriter
) -> bool:
    """Answer one of the routes above; False when `path` is none of them."""
    name = body.get("model") or body.get("name")
    if s.kind == "openai" or path.startswith("/v1/"):
        if (method, path.removeprefix("/v1")) != ("POST", "/embeddings"):
            return False
        await _openai_embeddings(s, body, writer)
        return True
    if (method, path) in (("POST", "/api/pull"), ("POST", "/api/create")):
        if not name:
            await send_json(writer, 400, {"error": "model is required"})
            return True
        steps = ["pulling manifest", "verifying sha256 digest", "writing manifest", "success"]
        lines: list[dict[str, Any]] = [{"status": step} for step in steps]
        layer = {"status": "pulling abc", "digest": "sha256:abc", "total": 100, "completed": 100}
        lines.insert(1, layer)
        if str(name).startswith("missing"):  # as Ollama answers a name no registry has
            error = {"error": "pull model manifest: file does not exist"}
            await _progress(writer, [lines[0], error])
            return True
        s.add_model(str(name))
        if body.get("stream") is False:
            await send_json(writer, 200, {"status": "success"})
        else:
            await _progress(writer, lines)
    elif (method, path) == ("POST", "/api/copy"):
        if body.get("source") not in s.models:
            await send_json(writer, 404, {"error": f"model '{body.get('source')}' not found"})
        else:
            s.add_model(str(body["destination"]))
            await _empty(writer)
    elif (method, path) == ("DELETE", "/api/delete"):
        if name not in s.models:
            await send_json(writer, 404, {"error": f"model '{name}' not found"})
        else:
            s.remove_model(str(name))
            await _empty(writer)
    elif (method, path) in (("POST", "/api/embed"), ("POST", "/api/embeddings")):
        await _ollama_embeddings(s, path, body, writer)
    else:
        return False
    return True


async def _empty(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()


async def _ollama_embeddings(
    s: "StandIn", path: str, body: dict[str, Any], writer: asyncio.StreamWriter
) -> None:
    model = body.get("model")
    if model not in s.models:
        await send_json(writer, 404, {"error": f'model "{model}" not found, try pulling it first'})
        return
    s.loaded.add(str(model))
    if path == "/api/embeddings":  # the older form: one prompt, one vector
        await send_json(writer, 200, {"embedding": vector(str(body.get("prompt", "")))})
        return
    texts = _texts(body.get("input"))
    if texts is None:
        await send_json(writer, 400, {"error": "invalid input type"})
        return
    answer = {
        "model": model,
        "embeddings": [vector(t) for t in texts],
        "total_duration": 1_000_000,
        "load_duration": 1_000,
        "prompt_eval_count": sum(len(t.split()) for t in texts),
    }
    await send_json(writer, 200, answer)


async def _openai_embeddings(
    s: "StandIn", body: dict[str, Any], writer: asyncio.StreamWriter
) -> None:
    model = body.get("model")
    texts = _texts(body.get("input"))
    if model not in s.models:
        message = f"The model `{model}` does not exist or you do not have access to it."
        await send_json(
            writer, 404, {"error": {"message": message, "type": "invalid_request_error"}}
        )
        return
    if texts is None:
        await send_json(writer, 400, {"error": {"message": "'input' is required"}})
        return
    base64_wanted = body.get("encoding_format") == "base64"
    data = []
    for index, text in enumerate(texts):
        values = vector(text)
        encoded: Any = values
        if base64_wanted:
            encoded = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
        data.append({"object": "embedding", "embedding": encoded, "index": index})
    tokens = sum(len(t.split()) for t in texts)
    answer = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    await send_json(writer, 200, answer)
