"""The one place domain errors become HTTP answers: `{"detail": ...}` with Open WebUI's codes
(and are listed in the OpenAPI document: api.openapi)."""

import logging
import math

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from webui_daemon.api import openapi
from webui_daemon.services.errors import RateLimited, UpstreamError, WebUIError

log = logging.getLogger(__name__)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WebUIError)
    headers = None
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        headers = {"Retry-After": str(exc.retry_after)}
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)


def _finite(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, except that the echoed inputs may hold NaN or Infinity (Python's JSON
    parser accepts them), which strict JSON cannot encode: that used to turn the 422 into a 500."""
    assert isinstance(exc, RequestValidationError)
    detail = jsonable_encoder(exc.errors(), custom_encoder={float: _finite})
    return JSONResponse({"detail": detail}, status_code=422)


async def _upstream(request: Request, exc: Exception) -> JSONResponse:
    # Provider errors keep the provider's status and body (spec 1), not a {"detail"} rewrite.
    assert isinstance(exc, UpstreamError)
    return JSONResponse(exc.body, status_code=exc.upstream_status)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _internal_error()


def _internal_error() -> JSONResponse:
    return JSONResponse(
        {"detail": "Internal error in the webui daemon; details are in its log."},
        status_code=500,
    )


class _KeepConnectionOn500:
    """Answers an unexpected exception with the 500 above from inside the app. Starlette's
    outermost handler (`_unexpected`) re-raises after answering, and uvicorn then closes the
    connection: a client's next request on it failed with ECONNRESET (issue 10). `send` is not
    wrapped (every streamed chunk goes through it): when the response had already started,
    sending another start fails, and the exception goes on to Starlette's handler as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope["type"] != "http":
                raise
            try:
                await _internal_error()(scope, receive, send)
            except RuntimeError:  # the response had started: there is nothing left to say
                raise exc from None
            request = Request(scope)
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(WebUIError, _domain_error)
    app.add_exception_handler(UpstreamError, _upstream)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
    # Added before the other middleware (app.py): the innermost, next to the routes.
    app.add_middleware(_KeepConnectionOn500)
    openapi.install(app)
