"""The one place domain errors become HTTP answers: `{"detail": ...}` with Open WebUI's codes."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from webui_daemon.services.errors import WebUIError

log = logging.getLogger(__name__)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WebUIError)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"detail": "Internal error in the webui daemon; details are in its log."},
        status_code=500,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(WebUIError, _domain_error)
    app.add_exception_handler(Exception, _unexpected)
