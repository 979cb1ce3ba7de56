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
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import httpx

from webui_daemon.providers.http import CONTROL_EXTENSION, StreamControl

_MAX_IDLE_PER_HOST = 32
_LINE_LIMIT = 64 * 1024
_READ_SIZE = 256 * 1024
# Longest wait for the rest of a body whose reader already saw the answer's end.
_FINISH_S = 5.0


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()  # the peer sees the connection end at once


class _Body(httpx.AsyncByteStream):
    """A response body read from the connection as it arrives; the connection goes back to
    the pool once the body ended cleanly, and is closed otherwise.

    Each step yields everything that has arrived (all complete chunks of a chunked body
    joined). With a batch time (StreamControl.batch_s) the socket is then left unread for
    that long, so the tokens a model sends meanwhile arrive together: one wake-up and one
    block instead of one per token (see WEBUI_STREAM_BATCH_MS).

    A reader that stops at the answer's own end (Ollama's `done`, SSE's `[DONE]`) says so
    first (StreamControl.ended): closing then reads the rest of the body (the chunked
    terminator) in the background and keeps the connection, instead of closing it.
    """

    def __init__(
        self,
        transport: "LeanTransport",
        key: tuple[str, int],
        conn: _Conn,
        length: int | None,
        reusable: bool,
        control: StreamControl | None,
    ) -> None:
        self._transport, self._key, self._conn = transport, key, conn
        self._length = length  # None: chunked; -1: until the connection closes
        self._left = length or 0  # bytes still due of a Content-Length body
        self._buffer = b""  # received, not yet decoded (chunked)
        self._reusable = reusable and length != -1
        self._control = control
        self._paused = False
        self._done = False
        self._closed = False

    async def _pause(self, seconds: float) -> None:
        """Leave the socket unread for a while (the kernel keeps what arrives)."""
        # Not isinstance(asyncio.ReadTransport): uvloop's transports can pause but are not
        # registered as asyncio's.
        transport: Any = self._conn.writer.transport
        if not hasattr(transport, "pause_reading"):
            await asyncio.sleep(seconds)
            return
        transport.pause_reading()
        try:
            await asyncio.sleep(seconds)
        finally:
            if not transport.is_closing():
                transport.resume_reading()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._blocks():
                yield data
                control = self._control
                if control is not None and control.batch_s > 0 and not self._done:
                    # The first pause is short: a short answer (most of it right behind its
                    # first token) then ends almost at once instead of a whole window late.
                    await self._pause(control.batch_s if self._paused else control.batch_s / 5)
                    self._paused = True
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc

    async def _blocks(self) -> AsyncIterator[bytes]:
        try:
            if self._length is None:
                async for data in self._chunked():
                    yield data
            else:
                async for data in self._plain():
                    yield data
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            ) from exc

    async def _plain(self) -> AsyncIterator[bytes]:
        reader = self._conn.reader
        if self._length == -1:
            while data := await reader.read(_READ_SIZE):
                yield data
            self._done = True
            return
        while self._left:
            data = await reader.read(min(self._left, _READ_SIZE))
            if not data:
                raise asyncio.IncompleteReadError(b"", self._left)
            self._left -= len(data)
            self._done = not self._left
            yield data
        self._done = True

    async def _chunked(self) -> AsyncIterator[bytes]:
        """Chunked transfer decoding over whatever each read returns."""
        reader = self._conn.reader
        while not self._done:
            data = await reader.read(_READ_SIZE)
            if not data:
                raise asyncio.IncompleteReadError(self._buffer, None)
            buffer = self._buffer + data if self._buffer else data
            out: list[bytes] = []
            start = 0
            while True:
                eol = buffer.find(b"\r\n", start)
                if eol < 0:
                    if len(buffer) - start > _LINE_LIMIT:
                        raise ValueError("chunk size line too long")
                    break
                size = int(buffer[start:eol].split(b";", 1)[0], 16)
                if size == 0:
                    rest = buffer[eol:]  # optional trailers, then an empty line
                    while b"\r\n\r\n" not in rest:
                        more = await reader.read(_READ_SIZE)
                        if not more:
                            raise asyncio.IncompleteReadError(rest, None)
                        rest += more
                    self._done = True
                    break
                end = eol + 2 + size
                if len(buffer) < end + 2:
                    break
                out.append(buffer[eol + 2 : end])
                start = end + 2
            self._buffer = b"" if self._done else buffer[start:]
            if out:
                yield b"".join(out) if len(out) > 1 else out[0]

    async def _finish(self) -> None:
        """The rest of an answer whose reader stopped at its own end; then the connection is
        reused, or closed when the rest does not come in time or is not what it should be."""
        finished = False
        try:
            async with asyncio.timeout(_FINISH_S):
                async for _ in self._blocks():
                    pass
            finished = True
        except (TimeoutError, OSError, httpx.RemoteProtocolError):
            pass
        finally:
            if finished:
                self._transport._release(self._key, self._conn)
            else:
                self._conn.close()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._done and self._reusable:
            self._transport._release(self._key, self._conn)
        elif self._reusable and self._control is not None and self._control.ended:
            self._transport._later(self._finish())
        else:
            self._conn.close()


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, connect_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        self._idle: dict[tuple[str, int], list[_Conn]] = {}
        self._background: set[asyncio.Task[None]] = set()

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
        control = request.extensions.get(CONTROL_EXTENSION)
        if not isinstance(control, StreamControl):
            control = None
        stream = _Body(self, key, conn, length, reusable, control)
        extensions = {"http_version": b"HTTP/1.1"}
        return httpx.Response(status, headers=headers, stream=stream, extensions=extensions)

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
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        for idle in self._idle.values():
            for conn in idle:
                with contextlib.suppress(Exception):
                    conn.close()
        self._idle.clear()
