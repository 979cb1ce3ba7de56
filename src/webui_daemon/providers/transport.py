"""LeanTransport: plain-HTTP/1.1 for httpx, built on asyncio streams, for streaming from providers.

httpx's default transport (httpcore + h11 + anyio) spends about 100 µs of Python per received
chunk; a model streams one chunk per token, so that alone was most of the daemon's CPU per
answer. This transport handles what providers on http:// need (keep-alive, Content-Length and
chunked bodies, a connect timeout) in a few µs per chunk. https:// URLs keep httpx's own
transport (TLS, HTTP/2, proxies).

Errors are httpx's (ConnectError, ConnectTimeout, ReadError, RemoteProtocolError), so callers
cannot tell the transports apart. A request on a reused keep-alive connection that the server
had closed meanwhile is sent again once on a fresh connection, as httpcore does.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx

_MAX_IDLE_PER_HOST = 32
_LINE_LIMIT = 64 * 1024


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()  # the peer sees the connection end at once


class _Body(httpx.AsyncByteStream):
    """A response body read from the connection as it arrives; the connection goes back to
    the pool once the body ended cleanly, and is closed otherwise."""

    def __init__(
        self,
        transport: "LeanTransport",
        key: tuple[str, int],
        conn: _Conn,
        length: int | None,
        reusable: bool,
    ) -> None:
        self._transport, self._key, self._conn = transport, key, conn
        self._length = length  # None: chunked; -1: until the connection closes
        self._reusable = reusable and length != -1
        self._done = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        reader = self._conn.reader
        try:
            if self._length is None:
                while True:
                    line = await reader.readuntil(b"\r\n")
                    size = int(line.split(b";", 1)[0], 16)
                    if size == 0:
                        while await reader.readuntil(b"\r\n") != b"\r\n":
                            pass  # trailers
                        break
                    data = await reader.readexactly(size + 2)
                    yield data[:-2]
            elif self._length >= 0:
                left = self._length
                while left:
                    data = await reader.read(min(left, 65536))
                    if not data:
                        raise asyncio.IncompleteReadError(b"", left)
                    left -= len(data)
                    yield data
            else:
                while data := await reader.read(65536):
                    yield data
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            ) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        self._done = True

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._done and self._reusable:
            self._transport._release(self._key, self._conn)
        else:
            self._conn.close()


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, connect_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        self._idle: dict[tuple[str, int], list[_Conn]] = {}

    async def _connect(self, key: tuple[str, int]) -> _Conn:
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(*key, limit=_LINE_LIMIT)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"no connection to {key[0]}:{key[1]}") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Conn(reader, writer)

    def _release(self, key: tuple[str, int], conn: _Conn) -> None:
        idle = self._idle.setdefault(key, [])
        if len(idle) < _MAX_IDLE_PER_HOST and not conn.writer.transport.is_closing():
            idle.append(conn)
        else:
            conn.close()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.host, url.port or 80)
        target = url.raw_path.decode("ascii")
        body = await request.aread()
        lines = [f"{request.method} {target} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        if body and "content-length" not in request.headers:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        while True:
            idle = self._idle.get(key)
            reused = bool(idle)
            conn = idle.pop() if idle else await self._connect(key)
            try:
                conn.writer.write(head + body if body else head)
                await conn.writer.drain()
                status, headers = await self._read_head(conn)
            except (OSError, asyncio.IncompleteReadError, httpx.RemoteProtocolError) as exc:
                conn.close()
                if reused:
                    continue  # the server closed this idle connection: try a fresh one
                if isinstance(exc, httpx.RemoteProtocolError):
                    raise
                raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
            except BaseException:
                conn.close()
                raise
            break
        length: int | None = -1
        if any(k == b"transfer-encoding" and b"chunked" in v.lower() for k, v in headers):
            length = None
        else:
            for name, value in headers:
                if name == b"content-length":
                    length = int(value)
        if request.method == "HEAD" or status in (204, 304):
            length = 0
        reusable = not any(k == b"connection" and b"close" in v.lower() for k, v in headers)
        stream = _Body(self, key, conn, length, reusable)
        return httpx.Response(
            status, headers=headers, stream=stream, extensions={"http_version": b"HTTP/1.1"}
        )

    async def _read_head(self, conn: _Conn) -> tuple[int, list[tuple[bytes, bytes]]]:
        try:
            raw = await conn.reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as exc:
            raise httpx.RemoteProtocolError("response head too large") from exc
        status_line, *header_lines = raw[:-4].split(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise httpx.RemoteProtocolError(f"not an HTTP/1.1 answer: {status_line[:60]!r}")
        headers = []
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers.append((name.strip().lower(), value.strip()))
        return int(parts[1]), headers

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                with contextlib.suppress(Exception):
                    conn.close()
        self._idle.clear()
