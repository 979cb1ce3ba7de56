"""The one place domain errors become HTTP answers: `{"detail": ...}` with Open WebUI's codes."""

import logging
import math

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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
    return JSONResponse(
        {"detail": "Internal error in the webui daemon; details are in its log."},
        status_code=500,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(WebUIError, _domain_error)
    app.add_exception_handler(UpstreamError, _upstream)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
