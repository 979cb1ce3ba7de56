"""LeanTransport: plain HTTP/1.1 for httpx on an asyncio protocol of its own, for provider streams.

httpx's default transport (httpcore + h11 + anyio) spends about 100 µs of Python per received
chunk; a model streams one chunk per token, so that alone was most of the daemon's CPU per
answer. This transport handles what providers on http:// need (keep-alive, Content-Length and
chunked bodies, a connect timeout) in a few µs per chunk. https:// URLs keep httpx's own
transport (TLS, HTTP/2, proxies).

It raises httpx's errors only, the ones httpx's own transport raises for the same fault, so
callers (`except httpx.TransportError`, failover) cannot tell the transports apart:
ConnectError / ConnectTimeout, WriteError, ReadError / ReadTimeout (the request's read
timeout, per read; the daemon sets none), RemoteProtocolError for anything that is not
HTTP/1.1 as h11 reads it (http11.py: status line, headers, lengths, chunk lines, a body cut
short or a response that never came) and UnsupportedProtocol for a URL that is not http://.
Interim 1xx responses (100 Continue, 103 Early Hints) are skipped; 101 is an error (no request
asks to switch). tests/providers/test_transport_conformance.py holds it to that, beside httpx's own.

A request whose reused keep-alive connection turns out closed before any byte of an answer
is sent again on another connection (the server closed it while it was idle). A batched
answer asks for `Connection: close` (see _Body); when it ends, a connection for the next one
is opened in the background, so that answers still start on an open connection.
WEBUI_PROVIDER_TRANSPORT=httpx turns this transport off (see http.HttpClient).
"""

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine
from typing import Any

import httpx

from webui_daemon.providers.control import CONTROL_EXTENSION, StreamControl
from webui_daemon.providers.http11 import (
    CHUNKED,
    HEAD_END,
    LINE_LIMIT,
    UNTIL_CLOSE,
    ResponseHead,
    body_length,
    keep_alive,
    parse_head,
    request_head,
    split_chunks,
    trailers_end,
)

_MAX_IDLE_PER_HOST = 32
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

    async def _wait_data(self, wait_s: float | None) -> None:
        """Until something arrives or the connection ends; httpx.ReadTimeout after `wait_s`."""
        if wait_s is None:
            await self._wait()
            return
        size = len(self.buffer)
        await self._wait(wait_s)
        if len(self.buffer) == size and not self.eof:
            raise httpx.ReadTimeout(f"nothing received for {wait_s:g} s")

    async def read(self, wait_s: float | None = None) -> bytes:
        """Everything that has arrived, after waiting for some (httpx.ReadTimeout after
        `wait_s` without any); b"" once the peer closed."""
        while not self.buffer and not self.eof:
            await self._wait_data(wait_s)
        if not self.buffer and self.error is not None:
            raise self.error
        data = bytes(self.buffer)
        self.buffer.clear()
        if self.transport is not None and not self.transport.is_reading():
            self.transport.resume_reading()
        return data

    async def read_head(self, limit: int, wait_s: float | None) -> bytes:
        """A response head, up to and with its empty line; the rest stays for `read`."""
        start = 0
        while (match := HEAD_END.search(self.buffer, start)) is None:
            if len(self.buffer) > limit:
                raise httpx.RemoteProtocolError("response head too large")
            if self.eof:
                if self.error is not None and not self.buffer:
                    raise self.error
                raise asyncio.IncompleteReadError(bytes(self.buffer), None)
            start = max(0, len(self.buffer) - 3)
            await self._wait_data(wait_s)
        head = bytes(self.buffer[: match.end()])
        del self.buffer[: match.end()]
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
        read_timeout: float | None,
    ) -> None:
        self._transport, self._key, self._conn = transport, key, conn
        self._length = length  # CHUNKED (None), UNTIL_CLOSE (-1) or the Content-Length
        self._left = length or 0  # bytes still due of a Content-Length body
        self._buffer = b""  # received, not yet decoded (chunked)
        self._reusable = reusable and length != UNTIL_CLOSE
        self._control = control
        self._timeout = read_timeout
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
        source = self._chunked() if self._length is CHUNKED else self._plain()
        try:
            async for data in source:
                yield data
        except asyncio.IncompleteReadError as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            ) from exc
        finally:
            await source.aclose()

    async def _plain(self) -> AsyncGenerator[bytes, None]:
        conn = self._conn
        if self._length == UNTIL_CLOSE:
            while data := await conn.read(self._timeout):
                yield data
            self._done = True
            return
        while self._left:
            data = await conn.read(self._timeout)
            if not data:
                raise asyncio.IncompleteReadError(b"", self._left)
            if len(data) > self._left:
                # More than the Content-Length: the body is what it said; the connection,
                # holding bytes that belong to no answer, is not reused.
                data = data[: self._left]
                self._reusable = False
            self._left -= len(data)
            self._done = not self._left
            yield data
        self._done = True

    async def _chunked(self) -> AsyncGenerator[bytes, None]:
        """Chunked transfer decoding over whatever each read returns."""
        conn = self._conn
        while not self._done:
            data = await conn.read(self._timeout)
            if not data:
                raise asyncio.IncompleteReadError(self._buffer, None)
            buffer = self._buffer + data if self._buffer else data
            out, start, last = split_chunks(buffer)
            if last:
                await self._trailers(buffer[start:])
                self._done = True
            self._buffer = b"" if self._done else buffer[start:]
            if out:
                yield b"".join(out) if len(out) > 1 else out[0]

    async def _trailers(self, rest: bytes) -> None:
        """Read past the trailer section that ends a chunked body (`rest`: from the last
        chunk's CRLF on); bytes after it belong to no answer: the connection is not reused."""
        while (end := trailers_end(rest)) < 0:
            if len(rest) > LINE_LIMIT:
                raise httpx.RemoteProtocolError("trailer section too large")
            more = await self._conn.read(self._timeout)
            if not more:
                raise asyncio.IncompleteReadError(rest, None)
            rest += more
        if len(rest) > end:
            self._reusable = False

    async def _finish(self) -> None:
        """The rest of an answer whose reader stopped at its own end; then the connection is
        reused, or closed when the rest does not come in time or is not what it should be."""
        finished = False
        try:
            async with asyncio.timeout(_FINISH_S), contextlib.aclosing(self._blocks()) as rest:
                async for _ in rest:
                    pass
            finished = self._reusable
        except (TimeoutError, OSError, httpx.TransportError):
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

    async def _connect(self, key: tuple[str, int], wait_s: float | None = None) -> _Wire:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout if wait_s is None else wait_s):
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
        if len(idle) < _MAX_IDLE_PER_HOST and not conn.closing() and not conn.buffer:
            idle.append(conn)
        else:
            conn.close()

    def _idle_conn(self, key: tuple[str, int]) -> _Wire | None:
        """A kept-alive connection to reuse: not one the server closed or sent to unasked."""
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not (conn.eof or conn.buffer or conn.closing()):
                return conn
            conn.close()
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"the lean transport speaks http:// only: {url}")
        key = (url.host, url.port or 80)
        timeouts = request.extensions.get("timeout") or {}
        read_timeout = timeouts.get("read")
        body = await request.aread()
        control = request.extensions.get(CONTROL_EXTENSION)
        if not isinstance(control, StreamControl):
            control = None
        # A batched answer ends with the provider closing the connection: seen at once, even
        # while a batch window leaves the socket unread (see _Body).
        closing = control is not None and control.batching
        data = request_head(request, body, closing) + body
        while True:
            conn = self._idle_conn(key)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(key, timeouts.get("connect"))
            try:
                try:
                    await conn.send(data)
                except OSError as exc:
                    if reused:
                        conn.close()
                        continue  # the server closed this idle connection: try another
                    raise httpx.WriteError(str(exc) or type(exc).__name__) from exc
                head = await self._read_final_head(conn, read_timeout)
            except (OSError, asyncio.IncompleteReadError) as exc:
                conn.close()
                partial = exc.partial if isinstance(exc, asyncio.IncompleteReadError) else b""
                if reused and not partial:
                    continue  # closed while idle, before any answer: try another connection
                if isinstance(exc, OSError):
                    raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
                if partial:
                    raise httpx.RemoteProtocolError(
                        "peer closed connection in the middle of the response head"
                    ) from exc
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response."
                ) from exc
            except BaseException:
                conn.close()
                raise
            break
        try:
            length = body_length(head, request.method)
        except BaseException:
            conn.close()
            raise
        reusable = not closing and keep_alive(head)
        stream = _Body(self, key, conn, length, reusable, control, read_timeout)
        extensions = {"http_version": b"HTTP/1.1" if head.http_11 else b"HTTP/1.0"}
        return httpx.Response(
            head.status, headers=head.headers, stream=stream, extensions=extensions
        )

    async def _read_final_head(self, conn: _Wire, read_timeout: float | None) -> ResponseHead:
        """The final response's head, after any interim (1xx) ones."""
        while True:
            head = parse_head(await conn.read_head(LINE_LIMIT, read_timeout))
            if head.status >= 200:
                return head
            if head.status == 101:
                raise httpx.RemoteProtocolError("101 Switching Protocols, which was not asked for")
            if head.status < 100:
                raise httpx.RemoteProtocolError(f"status {head.status} is not an HTTP status")
            # 100 Continue, 102 Processing, 103 Early Hints, ...: the final answer follows.

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        for idle in self._idle.values():
            for conn in idle:
                with contextlib.suppress(Exception):
                    conn.close()
        self._idle.clear()
