"""Ollama's model administration through /ollama (spec 4.3): loaded models, pull, create, copy,
delete and unload, each on the node Open WebUI would pick.

`pull` and `create` go to the node `url_idx` (0 unless given) and stream Ollama's progress
lines back as they come; `copy` and `delete` go to the given node or the first one serving the
model; `unload` goes to every node serving it. Anything that changes what a node has drops the
cached model lists, so the next `/api/models` shows it.
"""

import asyncio
import logging
from typing import Any

from webui_daemon.providers.base import Connection, ProviderError, RawStream, UpstreamStatus
from webui_daemon.providers.catalog import Catalog, Route
from webui_daemon.providers.http import HttpClient, dumps, open_raw, request_bytes
from webui_daemon.providers.ollama import OllamaProvider
from webui_daemon.services import errors
from webui_daemon.services.completions.completions import upstream_error
from webui_daemon.services.models.connections import ConnectionService
from webui_daemon.services.models.models import MODEL_NOT_FOUND

log = logging.getLogger(__name__)

MISSING_MODEL = "Missing name of the model."


def model_name(body: dict[str, Any]) -> str:
    """`model`, or the older `name` (Ollama accepts both); 400 when neither is given."""
    name = body.get("model") or body.get("name")
    if not isinstance(name, str) or not name:
        raise errors.WebUIError(MISSING_MODEL)
    return name


def _failure(conn: Connection, exc: ProviderError) -> errors.UpstreamError:
    """The node's own error (status and body), or which node did not answer."""
    if isinstance(exc, UpstreamStatus):
        return upstream_error("ollama", exc)
    detail = f"Server Connection Error: Ollama node {conn.idx} ({conn.url}) did not answer."
    return errors.UpstreamError(500, {"detail": detail})


class OllamaAdmin:
    def __init__(
        self,
        http: HttpClient,
        ollama: OllamaProvider,
        catalog: Catalog,
        connections: ConnectionService,
    ) -> None:
        self._http = http
        self._ollama = ollama
        self._catalog = catalog
        self._connections = connections

    def _conn(self, url_idx: int) -> Connection:
        return self._connections.connection("ollama", url_idx)

    async def _routes(self, name: str) -> list[Route]:
        """The nodes serving `name` (as listed now), or 400 "Model not found"."""
        snapshot = await self._catalog.snapshot(allow_stale=True)
        model = snapshot.find(name)
        if model is None:
            snapshot = await self._catalog.snapshot(refresh=True)
            model = snapshot.find(name)
        if model is None or model.kind != "ollama" or not model.routes:
            raise errors.WebUIError(MODEL_NOT_FOUND)
        return model.routes

    async def _target(self, name: str, url_idx: int | None) -> tuple[Connection, str]:
        if url_idx is not None:
            conn = self._conn(url_idx)
            return conn, conn.unprefixed(name)
        route = (await self._routes(name))[0]
        return route.conn, route.upstream

    # ---- lists ------------------------------------------------------------------------------

    async def loaded(self) -> dict[str, Any]:
        """`/api/ps` of every enabled node, merged by model (`urls`: the nodes holding it).
        A node that does not answer in time is left out, as in Open WebUI."""
        conns = self._connections.enabled_connections("ollama")
        results = await asyncio.gather(
            *(self._ollama.running(c) for c in conns), return_exceptions=True
        )
        merged: dict[str, dict[str, Any]] = {}
        for conn, result in zip(conns, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, ProviderError):
                    raise result
                log.info("no /api/ps from %s: %s", conn.url, result)
                continue
            for raw in result:
                name = conn.prefixed(str(raw.get("model") or raw.get("name") or ""))
                if name in merged:
                    merged[name]["urls"].append(conn.idx)
                else:
                    merged[name] = {**raw, "model": name, "urls": [conn.idx]}
        return {"models": list(merged.values())}

    # ---- streamed changes -------------------------------------------------------------------

    async def _streamed(self, path: str, body: dict[str, Any], url_idx: int) -> RawStream:
        conn = self._conn(url_idx)
        try:
            raw = await open_raw(self._http, conn, path, body)
        except ProviderError as exc:
            raise _failure(conn, exc) from exc
        upstream_close = raw.close

        async def close() -> None:
            try:
                if upstream_close is not None:
                    await upstream_close()
            finally:
                self._catalog.invalidate()  # the node may have a new model now

        raw.close = close
        return raw

    async def pull(self, body: dict[str, Any], url_idx: int) -> RawStream:
        """Ollama's progress lines (NDJSON), or one JSON object with `"stream": false`."""
        name = model_name(body)
        # As Open WebUI: an admin may pull from any registry, TLS-checked or not.
        payload = {**body, "model": name, "insecure": True}
        return await self._streamed("/api/pull", payload, url_idx)

    async def create(self, body: dict[str, Any], url_idx: int) -> RawStream:
        name = model_name(body)
        return await self._streamed("/api/create", {**body, "model": name}, url_idx)

    # ---- single answers ---------------------------------------------------------------------

    async def _send(self, method: str, conn: Connection, path: str, body: dict[str, Any]) -> None:
        try:
            await request_bytes(
                self._http, method, f"{conn.url}{path}", headers=conn.headers(), body=dumps(body)
            )
        except ProviderError as exc:
            raise _failure(conn, exc) from exc
        finally:
            self._catalog.invalidate()

    async def copy(self, body: dict[str, Any], url_idx: int | None) -> bool:
        source, destination = body.get("source"), body.get("destination")
        if not isinstance(source, str) or not source:
            raise errors.WebUIError("Missing source model.")
        if not isinstance(destination, str) or not destination:
            raise errors.WebUIError("Missing destination model.")
        conn, upstream = await self._target(source, url_idx)
        payload = {"source": upstream, "destination": conn.unprefixed(destination)}
        await self._send("POST", conn, "/api/copy", payload)
        return True

    async def delete(self, body: dict[str, Any], url_idx: int | None) -> bool:
        conn, upstream = await self._target(model_name(body), url_idx)
        await self._send("DELETE", conn, "/api/delete", {"model": upstream})
        return True

    async def unload(self, body: dict[str, Any]) -> dict[str, Any]:
        """Ask every node serving the model to drop it from memory now (`keep_alive: 0`)."""
        failed = []
        for route in await self._routes(model_name(body)):
            payload = {"model": route.upstream, "keep_alive": 0, "prompt": "", "stream": False}
            try:
                await self._send("POST", route.conn, "/api/generate", payload)
            except errors.UpstreamError as exc:
                failed.append(f"node {route.conn.idx}: {exc.detail}")
        if failed:
            detail = f"Failed to unload the model on {len(failed)} node(s): " + "; ".join(failed)
            raise errors.UpstreamError(500, {"detail": detail})
        return {"status": True}
