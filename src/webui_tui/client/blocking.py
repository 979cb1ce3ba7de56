"""A Unix-socket transport on the standard library's http.client: one blocking request at a
time, none of the ~40 ms of imports (httpcore, anyio, h11) httpx's own transport costs on its
first request. For shell completion, which runs `webui` on every Tab; not for streams or for
concurrent requests (each one holds up the event loop until its answer is in).
"""

import http.client
import socket
from pathlib import Path

import httpx


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("webui", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self._path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


class BlockingSocketTransport(httpx.AsyncBaseTransport):
    """One connection per request, closed after it; an OSError (refused, no socket file, timed
    out) is httpx's ConnectError, which the client words as "no webui daemon answers"."""

    def __init__(self, path: Path, timeout: float) -> None:
        self._path = path
        self._timeout = timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        headers = {k: v for k, v in request.headers.items() if k.lower() != "accept-encoding"}
        connection = _UnixConnection(self._path, self._timeout)
        try:
            connection.request(request.method, request.url.raw_path.decode(), body, headers)
            answer = connection.getresponse()
            content = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from None
        finally:
            connection.close()
        return httpx.Response(
            answer.status, headers=answer.getheaders(), content=content, request=request
        )
