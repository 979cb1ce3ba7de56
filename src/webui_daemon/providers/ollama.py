"""OllamaProvider: /api/tags, /api/version, /api/chat (NDJSON) and raw relays to Ollama."""

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, Literal

from webui_daemon.providers.base import (
    Connection,
    RawStream,
    StreamBroken,
    UpstreamStatus,
    UpstreamUnreachable,
)
from webui_daemon.providers.convert import ChunkConverter, body_to_ollama, completion_from_ollama
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


class OllamaProvider:
    kind: Literal["ollama"] = "ollama"

    def __init__(self, http: HttpClient, *, list_timeout: float, batch_s: float = 0.0) -> None:
        self._http = http
        self._list_timeout = list_timeout
        self._batch_s = batch_s

    async def list_models(self, conn: Connection) -> list[dict[str, Any]]:
        tags, ps = await asyncio.gather(
            request_json(
                self._http,
                "GET",
                f"{conn.url}/api/tags",
                headers=conn.headers(),
                wait_s=self._list_timeout,
            ),
            self._loaded(conn),
        )
        models = [m for m in (tags or {}).get("models") or [] if isinstance(m, dict)]
        if conn.model_ids:
            models = [m for m in models if m.get("model", m.get("name")) in conn.model_ids]
        out = []
        for model in models:
            name = str(model.get("model") or model.get("name") or "")
            entry = {**model, "name": conn.prefixed(str(model.get("name", name)))}
            entry["model"] = conn.prefixed(name)
            entry["connection_type"] = conn.connection_type
            if conn.tags:
                entry["tags"] = list(conn.tags)
            if name in ps:
                entry["expires_at"] = ps[name]
            out.append(entry)
        return out

    async def running(self, conn: Connection) -> list[dict[str, Any]]:
        """The node's own /api/ps entries: the models it holds in memory (names unprefixed)."""
        url, wait_s = f"{conn.url}/api/ps", self._list_timeout
        data = await request_json(self._http, "GET", url, headers=conn.headers(), wait_s=wait_s)
        models = data.get("models") if isinstance(data, dict) else None
        return [m for m in models or [] if isinstance(m, dict)]

    async def _loaded(self, conn: Connection) -> dict[str, int | None]:
        """Models loaded in memory (/api/ps), with expires_at in epoch seconds; {} on failure."""
        try:
            running = await self.running(conn)
        except (UpstreamStatus, UpstreamUnreachable):
            return {}
        loaded: dict[str, int | None] = {}
        for model in running:
            expires: int | None = None
            with contextlib.suppress(ValueError):
                expires = int(datetime.fromisoformat(str(model.get("expires_at"))).timestamp())
            loaded[str(model.get("model") or model.get("name"))] = expires
        return loaded

    async def version(self, conn: Connection, wait_s: float) -> str:
        data = await request_json(
            self._http, "GET", f"{conn.url}/api/version", headers=conn.headers(), wait_s=wait_s
        )
        return str((data or {}).get("version", ""))

    async def verify(self, url: str, key: str, wait_s: float) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return await request_json(
            self._http, "GET", f"{url}/api/version", headers=headers, wait_s=wait_s
        )

    async def probe(self, conn: Connection, wait_s: float) -> bool:
        """Alive = lists its models in time (a node that hangs on that stays out)."""
        try:
            await request_json(
                self._http, "GET", f"{conn.url}/api/tags", headers=conn.headers(), wait_s=wait_s
            )
        except (UpstreamStatus, UpstreamUnreachable):
            return False
        return True

    async def stream_chat(
        self, conn: Connection, body: dict[str, Any], model: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        import httpx

        payload = dumps(body_to_ollama(body, model, stream=True))
        control = StreamControl(self._batch_s)
        response = await open_stream(
            self._http,
            "POST",
            f"{conn.url}/api/chat",
            headers=conn.headers(),
            body=payload,
            control=control,
        )
        converter = ChunkConverter(model)
        # Closed explicitly: dropped at the answer's `done`, an open generator chain would be
        # closed later by the event loop (a task and a wake-up per generator).
        batches = iter_line_batches(response)
        try:
            async for lines in batches:
                datas = [d for d in parse_json_lines(lines) if isinstance(d, dict)]
                end: dict[str, Any] | None = None
                for index, data in enumerate(datas):
                    if "error" in data:
                        if converter.first and not index:  # nothing sent: this node failed
                            raise UpstreamStatus(500, dumps(data))
                        end = {"error": {"message": f"Ollama: {data['error']}"}}
                        datas = datas[:index]
                        break
                    if data.get("done"):
                        end = {}
                        control.ended = True
                        datas = datas[: index + 1]
                        break
                chunks = converter.convert_batch(datas)
                control.shown(chunks)
                for chunk in chunks:
                    yield chunk
                if end is not None:
                    if end:
                        yield end
                    return
            if converter.first:
                raise UpstreamUnreachable(f"{conn.url}: the answer ended before any token")
            raise StreamBroken("the upstream ended the answer before it was done")
        except httpx.TransportError as exc:
            if converter.first:
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
            f"{conn.url}/api/chat",
            headers=conn.headers(),
            body=body_to_ollama(body, model, stream=False),
        )
        if isinstance(data, dict) and "error" in data:
            raise UpstreamStatus(500, dumps(data))
        return completion_from_ollama(data, model)

    async def open_raw(self, conn: Connection, path: str, body: dict[str, Any]) -> RawStream:
        return await open_raw(self._http, conn, path, body)
