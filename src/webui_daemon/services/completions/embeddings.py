"""`POST /api/embeddings` (spec 5.6): an OpenAI embeddings body for any model the caller may use.

An OpenAI-compatible model gets the body as it is (the model renamed to its upstream name) and
its answer is passed back; an Ollama model is asked through Ollama's /api/embed and the answer
turned into OpenAI's shape, base64 included when the body asks for it (the official `openai`
client does by default). Nodes are picked and failed over as for completions.
"""

import base64
import struct
from typing import Any

from webui_daemon.providers.catalog import Route
from webui_daemon.providers.http import HttpClient, request_json
from webui_daemon.services import errors
from webui_daemon.services.completions.completions import CompletionService
from webui_daemon.services.models.models import MODEL_NOT_FOUND, ModelService
from webui_daemon.storage.rows import UserRow

# Keys of an OpenAI embeddings body that Ollama's /api/embed takes as they are.
_OLLAMA_KEYS = ("truncate", "options", "keep_alive", "dimensions")


def _encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding != "base64":
        return vector
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def openai_from_ollama(data: Any, model: str, encoding: str = "float") -> dict[str, Any]:
    """Ollama's `{"embeddings": [[...], ...]}` (or the older `{"embedding": [...]}`) in
    OpenAI's list form."""
    if not isinstance(data, dict):
        data = {}
    vectors = data.get("embeddings")
    if vectors is None and isinstance(data.get("embedding"), list):
        vectors = [data["embedding"]]
    tokens = data.get("prompt_eval_count")
    tokens = tokens if isinstance(tokens, int) else 0
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "embedding": _encode(list(vector), encoding), "index": i}
            for i, vector in enumerate(vectors or [])
        ],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


class EmbeddingService:
    def __init__(
        self, models: ModelService, completions: CompletionService, http: HttpClient
    ) -> None:
        self._models = models
        self._completions = completions
        self._http = http

    async def embed(self, user: UserRow, body: dict[str, Any]) -> Any:
        model_id = body.get("model")
        if not isinstance(model_id, str) or not model_id:
            raise errors.WebUIError(MODEL_NOT_FOUND)
        text = body.get("input")
        if not isinstance(text, str | list) or not text:
            raise errors.WebUIError("`input` must be a string or a non-empty list.")
        resolved = await self._models.resolve(user, model_id)
        kind = resolved.base.kind
        encoding = str(body.get("encoding_format") or "float")

        async def ask(route: Route) -> Any:
            conn = route.conn
            if kind == "openai":
                url, payload = f"{conn.url}/embeddings", {**body, "model": route.upstream}
                return await request_json(
                    self._http, "POST", url, headers=conn.headers(), body=payload
                )
            payload = {"model": route.upstream, "input": text}
            payload.update({k: body[k] for k in _OLLAMA_KEYS if k in body})
            data = await request_json(
                self._http, "POST", f"{conn.url}/api/embed", headers=conn.headers(), body=payload
            )
            return openai_from_ollama(data, model_id, encoding)

        answer, lease = await self._completions.attempt(resolved.base, ask)
        lease.release()
        return answer
