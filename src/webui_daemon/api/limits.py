"""ASGI middleware that refuses request bodies over a size limit with 413, before they are read.

One limit for every route, and larger ones for given paths (uploads): `path_limits` maps an
exact request path to its own limit, a number or a function asked on each request (a limit an
admin can change at run time).
"""

import json
from collections.abc import Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(HTTPException):
    """Raised while the body streams in; FastAPI's body parser re-raises HTTPExceptions."""


class BodySizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        path_limits: dict[str, int | Callable[[], int]] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def _reject(self, send: Send, limit: int) -> None:
        body = json.dumps({"detail": f"Request body too large (limit {limit} bytes)."}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        limit = chosen() if callable(chosen) else chosen
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(send, limit)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(413, f"Request body too large (limit {limit} bytes).")
            return message

        try:
            # `send` is passed as it is (every streamed chunk goes through it): a body is
            # read before a response starts, so a refusal never meets a started response.
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._reject(send, limit)
