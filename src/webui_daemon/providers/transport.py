"""LeanTransport: plain HTTP/1.1 for httpx on an asyncio protocol of its own, for provider streams.

httpx's default transport (httpcore + h11 + anyio) spends about 100 µs of Python per received
chunk; a model streams one chunk per token, so that alone was most of the daemon's CPU per
answer. This transport handles what providers on http:// need (keep-alive, Content-Length and
chunked bodies, a connect timeout) in a few µs per chunk. https:// URLs keep httpx's own
transport (TLS, HTTP/2, proxies).

Errors are httpx's (ConnectError, ConnectTimeout, ReadError, RemoteProtocolError), so callers
cannot tell the transports apart. A request on a reused keep-alive connection that the server
had closed meanwhile is sent again once on a fresh connection, as httpcore does. A batched
answer asks for `Connection: close` (see _Body); when it ends, a connection for the next one
is opened in the background, so that answers still start on an open connection.
"""

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine
from typing import Any

import httpx

from webui_daemon.providers.http import CONTROL_EXTENSION, StreamControl

_MAX_IDLE_PER_HOST = 32
_LINE_LIMIT = 64 * 1024
_READ_SIZE = 256 * 1024
# Unread bytes at which the connection stops reading until the reader catches up.
_BUFFER_LIMIT = 4 * _READ_SIZE
# The receive low-water mark during a batch window: far above what a model sends in one.
_WINDOW_LOWAT = 1 << 20
# Longest wait for the rest of a body whose reader already saw the answer's end.
_FINISH_S = 5.0


class _Wire(asyncio.Protocol):
    """One connection to a provider: what arrived, whether it ended, and the waits on it.

    Our own protocol rather than asyncio's streams, for `window`: a wait that the provider
    closing the connection ends at once, with the kernel holding back the tokens meanwhile.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None

    # ---- asyncio.Protocol ----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > _BUFFER_LIMIT and self.transport is not None:
            self.transport.pause_reading()  # a slow reader: the provider waits, not our memory
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # nothing more to say to a peer that is done: close

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # ---- use ----

    def closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()  # the peer sees the connection end at once

    async def send(self, data: bytes) -> None:
        assert self.transport is not None
        if self.closing():
            raise ConnectionResetError("connection closed")
        self.transport.write(data)
        if self._writable is not None:
            await self._writable
        if self.error is not None:
            raise self.error

    async def _wait(self, seconds: float | None = None) -> None:
        """Until something arrives or the connection ends (or `seconds` pass)."""
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = None if seconds is None else loop.call_later(seconds, _done, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    async def read(self) -> bytes:
        """Everything that has arrived, after waiting for some; b"" once the peer closed."""
        while not self.buffer and not self.eof:
            await self._wait()
        if not self.buffer and self.error is not None:
            raise self.error
        data = bytes(self.buffer)
        self.buffer.clear()
        if self.transport is not None and not self.transport.is_reading():
            self.transport.resume_reading()
        return data

    async def read_until(self, separator: bytes, limit: int) -> bytes:
        """Up to and with `separator` (the response head); the rest stays for `read`."""
        start = 0
        while (end := self.buffer.find(separator, start)) < 0:
            if len(self.buffer) > limit:
                raise httpx.RemoteProtocolError("response head too large")
            if self.eof:
                if self.error is not None:
                    raise self.error
                raise asyncio.IncompleteReadError(bytes(self.buffer), None)
            start = max(0, len(self.buffer) - len(separator) + 1)
            await self._wait()
        end += len(separator)
        head = bytes(self.buffer[:end])
        del self.buffer[:end]
        return head

    async def window(self, seconds: float) -> None:
        """Leave what the provider sends in the kernel for `seconds`, then take it in one read.

        The socket's receive low-water mark is raised meanwhile, so the tokens that arrive
        wake nobody; the provider closing the connection (the end of an answer asked for
        with `Connection: close`) or a burst of data ends the wait at once.
        """
        if self.eof or self.closing():
            return  # the answer's end is here already: nothing to wait for
        sock = None if self.transport is None else self.transport.get_extra_info("socket")
        if sock is None:
            await asyncio.sleep(seconds)
            return
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, _WINDOW_LOWAT)
        except OSError:  # no low-water mark here: read as data comes
            await asyncio.sleep(seconds)
            return
        try:
            await self._wait(seconds)
        finally:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
        if self.buffer or self.eof or self.closing():
            return
        # Straight from the socket, without a trip through the event loop's selector (the
        # low-water mark is 1 again: what comes after this read wakes the loop as usual).
        try:
            data = os.read(sock.fileno(), _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.connection_lost(exc)
            self.close()
            return
        if data:
            self.buffer += data
        else:
            self.eof = True


def _done(waiter: "asyncio.Future[None]") -> None:
    if not waiter.done():
        waiter.set_result(None)


class _Body(httpx.AsyncByteStream):
    """A response body read from the connection as it arrives; the connection goes back to
    the pool once the body ended cleanly, and is closed otherwise.

    Each step yields everything that has arrived (all complete chunks of a chunked body
    joined). With a batch time (StreamControl.batch_s) the next read waits that long
    (`_Wire.window`), so the tokens a model sends meanwhile arrive together: one wake-up and
    one block instead of one per token (see WEBUI_STREAM_BATCH_MS). Such answers are asked
    for with `Connection: close`: the provider closing the connection at the answer's end
    ends the wait at once, so batching delays no answer's end.

    A reader that stops at the answer's own end (Ollama's `done`, SSE's `[DONE]`) on a
    kept-alive connection says so first (StreamControl.ended): closing then reads the rest
    of the body (the chunked terminator) in the background and keeps the connection.
    """

    def __init__(
        self,
        transport: "LeanTransport",
        key: tuple[str, int],
        conn: _Wire,
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
        self._waited = False
        self._done = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # Each generator closes the one it reads (see iter_line_batches).
        blocks = self._blocks()
        try:
            async for data in blocks:
                yield data
                control = self._control
                if control is not None and control.batch_s > 0 and not self._done:
                    # The first window is short: a short answer (most of it right behind its
                    # first token) then ends almost at once instead of a whole window late.
                    await self._conn.window(
                        control.batch_s if self._waited else control.batch_s / 5
                    )
                    self._waited = True
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        finally:
            await blocks.aclose()

    async def _blocks(self) -> AsyncGenerator[bytes, None]:
        source = self._chunked() if self._length is None else self._plain()
        try:
            async for data in source:
                yield data
        except (asyncio.IncompleteReadError, ValueError) as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            ) from exc
        finally:
            await source.aclose()

    async def _plain(self) -> AsyncGenerator[bytes, None]:
        conn = self._conn
        if self._length == -1:
            while data := await conn.read():
                yield data
            self._done = True
            return
        while self._left:
            data = await conn.read()
            if not data:
                raise asyncio.IncompleteReadError(b"", self._left)
            if len(data) > self._left:  # more than this body: not HTTP/1.1 as we know it
                raise ValueError("more bytes than the Content-Length")
            self._left -= len(data)
            self._done = not self._left
            yield data
        self._done = True

    async def _chunked(self) -> AsyncGenerator[bytes, None]:
        """Chunked transfer decoding over whatever each read returns."""
        conn = self._conn
        while not self._done:
            data = await conn.read()
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
                        more = await conn.read()
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
            async with asyncio.timeout(_FINISH_S), contextlib.aclosing(self._blocks()) as rest:
                async for _ in rest:
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
            control = self._control
            if control is not None and control.batching and (self._done or control.ended):
                # A batched answer's connection ends with it (Connection: close): the next
                # answer's is opened now, off that answer's path to its first token. Not
                # after an answer that broke off: its provider may be gone.
                self._transport._later(self._transport._spare(self._key))


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, connect_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        self._idle: dict[tuple[str, int], list[_Wire]] = {}
        self._background: set[asyncio.Task[None]] = set()

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _connect(self, key: tuple[str, int]) -> _Wire:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, conn = await loop.create_connection(_Wire, *key)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"no connection to {key[0]}:{key[1]}") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return conn

    async def _spare(self, key: tuple[str, int]) -> None:
        """One connection opened ahead per answer that ended with its own (up to the pool's
        size): a burst of answers finds as many open as the last one left."""
        if len(self._idle.get(key, ())) >= _MAX_IDLE_PER_HOST:
            return
        try:
            conn = await self._connect(key)
        except httpx.TransportError:
            return  # the next request connects (and reports the error) itself
        self._release(key, conn)

    def _release(self, key: tuple[str, int], conn: _Wire) -> None:
        idle = self._idle.setdefault(key, [])
        if len(idle) < _MAX_IDLE_PER_HOST and not conn.closing():
            idle.append(conn)
        else:
            conn.close()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.host, url.port or 80)
        target = url.raw_path.decode("ascii")
        body = await request.aread()
        control = request.extensions.get(CONTROL_EXTENSION)
        if not isinstance(control, StreamControl):
            control = None
        # A batched answer ends with the provider closing the connection: seen at once, even
        # while a batch window leaves the socket unread (see _Body).
        closing = control is not None and control.batching
        lines = [f"{request.method} {target} HTTP/1.1"]
        lines += [
            f"{name}: {value}"
            for name, value in request.headers.items()
            if not (closing and name.lower() == "connection")
        ]
        if closing:
            lines.append("Connection: close")
        if body and "content-length" not in request.headers:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        while True:
            idle = self._idle.get(key)
            reused = bool(idle)
            conn = idle.pop() if idle else await self._connect(key)
            try:
                await conn.send(head + body if body else head)
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
        reusable = not closing and not any(
            k == b"connection" and b"close" in v.lower() for k, v in headers
        )
        stream = _Body(self, key, conn, length, reusable, control)
        extensions = {"http_version": b"HTTP/1.1"}
        return httpx.Response(status, headers=headers, stream=stream, extensions=extensions)

    async def _read_head(self, conn: _Wire) -> tuple[int, list[tuple[bytes, bytes]]]:
        raw = await conn.read_until(b"\r\n\r\n", _LINE_LIMIT)
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
