"""OpenAIProvider: any OpenAI-compatible /v1 (models list, chat completions over SSE or JSON)."""

from collections.abc import AsyncGenerator
from typing import Any, Literal

from webui_daemon.providers.base import (
    Connection,
    RawStream,
    StreamBroken,
    UpstreamStatus,
    UpstreamUnreachable,
)
from webui_daemon.providers.http import (
    HttpClient,
    StreamControl,
    dumps,
    iter_line_batches,
    open_raw,
    open_stream,
    parse_json_lines,
    request_json,
)
from webui_daemon.providers.merge import merge_text_chunks

# On api.openai.com, models whose ids contain these are not chat models (Open WebUI drops them).
_NOT_CHAT = ("babbage", "dall-e", "davinci", "embedding", "tts", "whisper")
# Reasoning models take max_completion_tokens instead of max_tokens.
_REASONING = ("o1", "o3", "o4", "gpt-5")


def upstream_body(body: dict[str, Any], model: str, *, stream: bool) -> dict[str, Any]:
    payload = {**body, "model": model, "stream": stream}
    if not stream:
        payload.pop("stream_options", None)
    if model.lower().startswith(_REASONING) and "max_tokens" in payload:
        payload.setdefault("max_completion_tokens", payload.pop("max_tokens"))
    return payload


class OpenAIProvider:
    kind: Literal["openai"] = "openai"

    def __init__(self, http: HttpClient, *, list_timeout: float, batch_s: float = 0.0) -> None:
        self._http = http
        self._list_timeout = list_timeout
        self._batch_s = batch_s

    async def list_models(self, conn: Connection) -> list[dict[str, Any]]:
        if conn.model_ids:
            # Open WebUI lists the configured ids without asking the upstream.
            models: list[Any] = [
                {"id": model_id, "name": model_id, "owned_by": "openai"}
                for model_id in conn.model_ids
            ]
        else:
            data = await request_json(
                self._http,
                "GET",
                f"{conn.url}/models",
                headers=conn.headers(),
                wait_s=self._list_timeout,
            )
            listed = data.get("data") if isinstance(data, dict) else data
            models = listed if isinstance(listed, list) else []
        out = []
        for model in models:
            if not isinstance(model, dict) or not model.get("id"):
                continue
            model_id = str(model["id"])
            if "api.openai.com" in conn.url and any(word in model_id for word in _NOT_CHAT):
                continue
            entry = dict(model)
            entry["id"] = conn.prefixed(model_id)
            entry["connection_type"] = conn.connection_type
            if conn.tags:
                entry["tags"] = list(conn.tags)
            out.append(entry)
        return out

    async def verify(self, url: str, key: str, wait_s: float) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return await request_json(
            self._http, "GET", f"{url}/models", headers=headers, wait_s=wait_s
        )

    async def probe(self, conn: Connection, wait_s: float) -> bool:
        """Alive = answers below 500 (some OpenAI-compatible servers have no /models)."""
        try:
            await request_json(
                self._http, "GET", f"{conn.url}/models", headers=conn.headers(), wait_s=wait_s
            )
        except UpstreamStatus as exc:
            return exc.status < 500
        except UpstreamUnreachable:
            return False
        return True

    async def stream_chat(
        self, conn: Connection, body: dict[str, Any], model: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        import httpx

        control = StreamControl(self._batch_s)
        response = await open_stream(
            self._http,
            "POST",
            f"{conn.url}/chat/completions",
            headers=conn.headers(),
            body=dumps(upstream_body(body, model, stream=True)),
            control=control,
        )
        started = False
        batches = iter_line_batches(response)  # closed explicitly, as Ollama's (see there)
        try:
            async for lines in batches:
                chunks: list[dict[str, Any]] = []
                end = False
                # Comments, event names and retry hints are skipped; [DONE] ends the answer.
                payloads = [line[5:].strip() for line in lines if line.startswith(b"data:")]
                if not started and lines[0].startswith(b"error:"):
                    # llama.cpp's server once streamed a refusal as an `error:` field.
                    raise UpstreamStatus(500, lines[0][6:].strip())
                if b"[DONE]" in payloads:
                    payloads = payloads[: payloads.index(b"[DONE]")]
                    end = True
                    control.ended = True
                for data, chunk in zip(payloads, parse_json_lines(payloads), strict=True):
                    if not isinstance(chunk, dict):
                        continue
                    if "error" in chunk and "choices" not in chunk:
                        if not started and not chunks:
                            raise UpstreamStatus(500, data)
                        chunks.append(chunk)
                        end = True
                        break
                    chunks.append(chunk)
                started = started or bool(chunks)
                chunks = merge_text_chunks(chunks)
                control.shown(chunks)
                for chunk in chunks:
                    yield chunk
                if end:
                    return
            if not started:
                raise UpstreamUnreachable(f"{conn.url}: the answer ended before any token")
        except httpx.TransportError as exc:
            if not started:
                raise UpstreamUnreachable(f"{conn.url}: {type(exc).__name__}") from exc
            raise StreamBroken(f"{type(exc).__name__}: {exc}") from exc
        finally:
            await batches.aclose()
            await response.aclose()

    async def complete_chat(
        self, conn: Connection, body: dict[str, Any], model: str
    ) -> dict[str, Any]:
        data = await request_json(
            self._http,
            "POST",
            f"{conn.url}/chat/completions",
            headers=conn.headers(),
            body=upstream_body(body, model, stream=False),
        )
        if not isinstance(data, dict):
            raise UpstreamStatus(502, dumps(data), retryable=False)
        return data

    async def open_raw(self, conn: Connection, path: str, body: dict[str, Any]) -> RawStream:
        return await open_raw(self._http, conn, path, body)
