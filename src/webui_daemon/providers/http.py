"""The daemon's one HTTP client for upstreams, and the request helpers every provider uses.

httpx is imported lazily: the first request to a provider imports it and loads the CA bundle
in a thread (about 0.1 s, once), so start-up, idle memory and /health stay small and no
request waits on the event loop meanwhile.
"""

import asyncio
import json
import logging
import urllib.request
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

from webui_daemon.providers.base import Connection, RawStream, UpstreamStatus, UpstreamUnreachable
from webui_daemon.providers.control import CONTROL_EXTENSION as CONTROL_EXTENSION
from webui_daemon.providers.control import StreamControl as StreamControl  # for the providers

if TYPE_CHECKING:
    import ssl

    import httpx

    from webui_daemon.providers.transport import LeanTransport

# Loopback hosts never go through an HTTP proxy taken from the environment: a local Ollama
# must keep working for someone whose HTTP(S)_PROXY points at a corporate proxy.
_LOOPBACK = ("127.0.0.1", "localhost", "::1")

# Which transport carries plain-HTTP provider requests (WEBUI_PROVIDER_TRANSPORT): "lean"
# (transport.py: batch windows, a few µs per chunk) or "httpx" (httpx's own, for everything).
TransportName = Literal["lean", "httpx"]


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _ssl_context() -> "ssl.SSLContext":
    import httpx

    return httpx.create_ssl_context()


class HttpClient:
    """Holds the shared httpx.AsyncClient (one connection pool per daemon). `transport`:
    "lean" sends plain-HTTP provider requests through transport.LeanTransport, "httpx"
    leaves every request to httpx's own transport (no batch windows then)."""

    def __init__(self, *, connect_timeout: float, transport: TransportName = "lean") -> None:
        self._connect_timeout = connect_timeout
        self._use_lean = transport == "lean"
        self._client: httpx.AsyncClient | None = None
        self._ssl: ssl.SSLContext | None = None
        self._lean: LeanTransport | None = None
        self._lean_all_http = False

    async def client(self) -> "httpx.AsyncClient":
        """The client; the first call imports httpx and loads the CA bundle in a thread."""
        if self._client is None:
            if self._ssl is None:
                self._ssl = await asyncio.to_thread(_ssl_context)
            return self.get()
        return self._client

    def get(self) -> "httpx.AsyncClient":
        if self._client is None:
            import httpx

            # One INFO line per upstream request is noise in the daemon's log (and costs time).
            logging.getLogger("httpx").setLevel(logging.WARNING)
            # Plain-HTTP providers (Ollama, local OpenAI-compatible servers) go through the
            # lean transport; https:// keeps httpx's. Loopback never goes through a proxy.
            lean: httpx.AsyncBaseTransport | None = None
            if self._use_lean:
                from webui_daemon.providers.transport import LeanTransport

                lean = self._lean = LeanTransport(connect_timeout=self._connect_timeout)
            mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
            for host in _LOOPBACK:
                pattern_host = f"[{host}]" if ":" in host else host
                mounts[f"http://{pattern_host}"] = lean  # None: httpx's own, no proxy
                mounts[f"https://{pattern_host}"] = None
            proxies = urllib.request.getproxies()
            self._lean_all_http = "http" not in proxies and "all" not in proxies
            if self._lean_all_http and lean is not None:
                mounts["http://"] = lean
            self._client = httpx.AsyncClient(
                verify=self._ssl if self._ssl is not None else True,
                # No read timeout: a model may think for minutes before its first token.
                timeout=httpx.Timeout(None, connect=self._connect_timeout, pool=30.0),
                limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
                mounts=mounts,
            )
        return self._client

    def lean_for(self, url: "httpx.URL") -> "LeanTransport | None":
        """The lean transport when it serves `url` (as the client's mounts route it)."""
        if self._lean is None or url.scheme != "http":
            return None
        if self._lean_all_http or url.host in _LOOPBACK:
            return self._lean
        return None

    async def send(self, request: "httpx.Request") -> "httpx.Response":
        """Send a request built with `client()`'s client; the response's body is unread."""
        lean = self.lean_for(request.url)
        if lean is None:
            return await self.get().send(request, stream=True)
        # Straight to the transport: AsyncClient.send's auth, redirect, cookie and hook
        # steps do nothing for a provider request but cost time before the first token.
        response = await lean.handle_async_request(request)
        response.request = request
        return response

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._lean is not None:
            await self._lean.aclose()
            self._lean = None


async def open_stream(
    http: HttpClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes | None = None,
    control: StreamControl | None = None,
) -> "httpx.Response":
    """Send a request and return the response with its body unread (`control`: see
    StreamControl).

    Raises UpstreamUnreachable when there is no answer and UpstreamStatus (body read, response
    closed) for an error status.
    """
    import httpx

    client = await http.client()
    if body is not None:
        headers = {"Content-Type": "application/json", **headers}
    extensions = {CONTROL_EXTENSION: control} if control is not None else None
    request = client.build_request(
        method, url, headers=headers, content=body, extensions=extensions
    )
    try:
        response = await http.send(request)
    except httpx.TransportError as exc:
        raise UpstreamUnreachable(f"{url}: {type(exc).__name__} {exc}".strip()) from exc
    if response.status_code >= 400:
        try:
            content = await response.aread()
        except httpx.TransportError:
            content = b""
        finally:
            await response.aclose()
        raise UpstreamStatus(response.status_code, content)
    return response


async def request_bytes(
    http: HttpClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes | None = None,
    wait_s: float | None = None,
) -> bytes:
    """One request whose whole answer is wanted at once (UpstreamStatus for an error status;
    UpstreamUnreachable when there is no answer, or none within `wait_s`)."""
    import httpx

    async def go() -> bytes:
        response = await open_stream(http, method, url, headers=headers, body=body)
        try:
            return await response.aread()
        except httpx.TransportError as exc:
            raise UpstreamUnreachable(f"{url}: {type(exc).__name__}") from exc
        finally:
            await response.aclose()

    if wait_s is None:
        return await go()
    try:
        async with asyncio.timeout(wait_s):
            return await go()
    except TimeoutError as exc:
        raise UpstreamUnreachable(f"{url}: no answer within {wait_s:g} s") from exc


async def request_json(
    http: HttpClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: Any = None,
    wait_s: float | None = None,
) -> Any:
    """One request whose answer is a JSON document (model lists, versions, non-streamed)."""
    content = await request_bytes(
        http,
        method,
        url,
        headers=headers,
        body=None if body is None else dumps(body),
        wait_s=wait_s,
    )
    try:
        return json.loads(content)
    except ValueError as exc:
        raise UpstreamStatus(502, content, retryable=True) from exc


def _body(response: "httpx.Response") -> AsyncIterator[bytes]:
    """The body as it arrives: the transport's own stream when there is nothing to decode.
    httpx's iterators around it cannot be closed from outside (closing the outer one leaves
    the inner ones to the event loop's finalizer), so they are used only for encoded bodies."""
    import httpx

    stream = response.stream
    if response.headers.get("content-encoding", "identity") == "identity" and isinstance(
        stream, httpx.AsyncByteStream
    ):
        return aiter(stream)
    return response.aiter_bytes()


async def iter_line_batches(response: "httpx.Response") -> AsyncGenerator[list[bytes], None]:
    """The non-empty lines of a streamed body (NDJSON and SSE are both line-based), as the
    lists that arrived together (see StreamControl for how they are grouped). Close it
    (`aclose`) when leaving early: it closes the body's iterators in turn."""
    buffer = b""
    chunks = _body(response)
    try:
        async for chunk in chunks:
            if buffer:
                chunk = buffer + chunk
            lines = chunk.split(b"\n")
            buffer = lines.pop()
            batch = [line for line in lines if line.strip()]
            if batch:
                yield batch
    finally:
        aclose = getattr(chunks, "aclose", None)  # async generators all have it
        if aclose is not None:
            await aclose()
    if buffer.strip():
        yield [buffer]


def parse_json_lines(lines: list[bytes]) -> list[Any]:
    """Each line parsed as JSON (None where a line is not JSON), in one parser call for the
    usual batch of good lines: per-call overhead is most of the cost of a short line."""
    if len(lines) > 1:
        try:
            parsed = json.loads((b"[" + b",".join(lines) + b"]").decode())
        except ValueError:
            pass
        else:
            if isinstance(parsed, list) and len(parsed) == len(lines):
                return parsed
    out: list[Any] = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append(None)
    return out


async def open_raw(
    http: HttpClient,
    conn: Connection,
    path: str,
    body: dict[str, Any] | bytes | None,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    empty_ok: bool = False,
) -> RawStream:
    """Send `body` (a JSON document, or bytes as they are) and hold the answer until its
    first bytes, so that a node failing before it says anything can still be replaced by
    another one. `headers` add to (and may override) the connection's own; `empty_ok`: an
    answer without a body is an answer (a DELETE's), not a failed node."""
    import httpx

    payload = dumps(body) if isinstance(body, dict) else body
    response = await open_stream(
        http,
        method,
        f"{conn.url}{path}",
        headers={**conn.headers(), **(headers or {})},
        body=payload,
    )
    chunks = response.aiter_raw()
    try:
        first = await anext(chunks, b"")
    except httpx.TransportError as exc:
        await response.aclose()
        raise UpstreamUnreachable(f"{conn.url}: {type(exc).__name__}") from exc
    except BaseException:
        await response.aclose()
        raise
    if not first and not empty_ok:
        await response.aclose()
        raise UpstreamUnreachable(f"{conn.url}: empty answer")
    content_type = response.headers.get("content-type", "application/json")
    return RawStream(
        status=response.status_code,
        content_type=content_type,
        first=first,
        rest=_relay_rest(chunks, content_type),
        close=response.aclose,
    )


async def _relay_rest(chunks: AsyncIterator[bytes], content_type: str) -> AsyncIterator[bytes]:
    """The remaining bytes; a cut in the middle ends with an error in the stream's own format."""
    import httpx

    try:
        async for chunk in chunks:
            yield chunk
    except httpx.TransportError:
        error = {"message": "Chat completion stream failed: the upstream connection was cut"}
        if "event-stream" in content_type:
            yield b"\n\ndata: " + dumps({"error": error}) + b"\n\n"
        else:
            yield b"\n" + dumps({"error": error["message"]}) + b"\n"
