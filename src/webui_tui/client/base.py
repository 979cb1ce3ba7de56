"""BaseClient: the connection pool, JSON requests and streaming responses, errors made typed.

The resource methods live in mixins (`chats.ChatsMixin`, `models.ModelsMixin`, ...) that
`api.WebUIClient` combines; each builds on the plumbing here.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from webui_daemon.schemas.system import DaemonInfo
from webui_tui.client.discovery import Target
from webui_tui.client.errors import BadResponse, DaemonUnreachable, NotFound, error_for_status

# For the module-level TypeAdapters of the client: their validators are built when first used,
# not when the module is imported (each command uses few of them; CLI start-up time).
LATER = ConfigDict(defer_build=True)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Method = Literal["GET", "POST", "DELETE"]
Params = dict[str, str | int | bool]
Json = BaseModel | dict[str, Any] | list[Any]


class BaseClient:
    """One connection pool to one server; use as `async with WebUIClient(target) as client`.

    Every method returns the daemon's wire schema or raises a `client.errors` error.
    """

    def __init__(
        self,
        target: Target,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        on_socket = target.socket is not None
        if transport is None:
            transport = socket_transport(target.socket) if target.socket else None
            transport = transport or httpx.AsyncHTTPTransport()
        self._http = httpx.AsyncClient(
            transport=transport,
            base_url="http://webui" if on_socket else str(target.url),
            timeout=timeout,
            headers={"Accept": "application/json"},
            # No proxy applies to a Unix socket (and building proxy transports costs time).
            trust_env=not on_socket,
        )
        self.token = token
        self._webui: asyncio.Task[bool] | None = None

    @property
    def token(self) -> str | None:
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        self._token = value
        if value:
            self._http.headers["Authorization"] = f"Bearer {value}"
        else:
            self._http.headers.pop("Authorization", None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- plumbing ---

    # --- which server this is ---

    async def daemon_info(self) -> DaemonInfo | None:
        """webui's own `/api/webui/info`; None when the server is not a webui daemon."""
        try:
            return await self._get("/api/webui/info", DaemonInfo)
        except (NotFound, BadResponse):
            # Open WebUI has no such route: a 404, or its web app's index page.
            return None

    async def is_webui_daemon(self) -> bool:
        """Whether the server is a webui daemon (not Open WebUI); asked once per client, and
        callers asking at the same time share the one request."""
        if self.target.socket is not None:
            return True  # only a webui daemon listens on a Unix socket; a URL may be Open WebUI
        if self._webui is None:

            async def ask() -> bool:
                return await self.daemon_info() is not None

            self._webui = asyncio.ensure_future(ask())
        return await asyncio.shield(self._webui)

    async def request(
        self,
        method: Method,
        path: str,
        *,
        body: Json | None = None,
        params: Params | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON, or raise a typed error."""
        payload = _payload(body)
        try:
            response = await self._http.request(method, path, json=payload, params=params)
        except httpx.TransportError as exc:
            raise self._transport_error(exc) from None
        finally:
            # Identity comes from the token we hold (or the socket), never from a stray cookie.
            self._http.cookies.clear()
        if response.status_code >= 400:
            raise error_for_status(response.status_code, _json_or_text(response), method, path)
        try:
            return response.json()
        except ValueError:
            if response.headers.get("content-type", "").startswith("text/html"):
                # Open WebUI answers a path its API does not have with its web app's page.
                raise NotFound(
                    404,
                    f"{self.target.address} does not serve {method} {path} (a web page answered)",
                    method,
                    path,
                ) from None
            raise BadResponse(
                f"{self.target.address} answered {method} {path} with something that is not JSON"
            ) from None

    @asynccontextmanager
    async def stream(
        self,
        method: Method,
        path: str,
        *,
        body: Json | None = None,
        read_timeout: float | None = None,
        accept: str = "text/event-stream",
    ) -> AsyncIterator[httpx.Response]:
        """An open streaming response (status already checked); closed on leaving the block.

        `read_timeout` None waits for the next byte as long as it takes: a model may think
        (or load) for minutes before its first token.
        """
        timeout = httpx.Timeout(self._http.timeout.connect, read=read_timeout)
        request = self._http.build_request(
            method,
            path,
            json=_payload(body),
            timeout=timeout,
            headers={"Accept": accept},
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self._transport_error(exc) from None
        finally:
            self._http.cookies.clear()
        try:
            if response.status_code >= 400:
                try:
                    await response.aread()
                except httpx.TransportError as exc:
                    raise self._transport_error(exc) from None
                raise error_for_status(response.status_code, _json_or_text(response), method, path)
            yield response
        finally:
            await response.aclose()

    def _transport_error(self, exc: httpx.TransportError) -> DaemonUnreachable:
        if isinstance(exc, httpx.ConnectError):
            return self._unreachable(exc)
        if isinstance(exc, httpx.TimeoutException):
            return DaemonUnreachable(f"{self.target.address} did not answer in time")
        return DaemonUnreachable(f"lost the connection to {self.target.address}: {exc}")

    def lost(self, exc: httpx.TransportError) -> DaemonUnreachable:
        """The error for a connection that broke while a stream was being read."""
        return self._transport_error(exc)

    def _unreachable(self, exc: httpx.ConnectError) -> DaemonUnreachable:
        if self.target.socket is not None:
            return DaemonUnreachable(
                f"no webui daemon answers on {self.target.socket}", "start one with `webui serve`"
            )
        return DaemonUnreachable(
            f"cannot connect to {self.target.url}: {exc}", "is the server running?"
        )

    async def _get(self, path: str, model: type[M], **params: str | int | bool) -> M:
        return parse(model, await self.request("GET", path, params=params or None), path)

    async def _post(self, path: str, model: type[M], body: Json | None = None) -> M:
        return parse(model, await self.request("POST", path, body=body), path)

    async def _list(
        self,
        path: str,
        adapter: TypeAdapter[list[T]],
        *,
        method: Method = "GET",
        body: Json | None = None,
        params: Params | None = None,
    ) -> list[T]:
        data = await self.request(method, path, body=body, params=params)
        try:
            return adapter.validate_python(data)
        except ValidationError as exc:
            raise bad_answer(path, exc) from None

    async def _bool(self, method: Method, path: str, body: Json | None = None) -> bool:
        data = await self.request(method, path, body=body)
        if not isinstance(data, bool):
            raise BadResponse(f"{path} answered {data!r} where true or false was expected")
        return data


def socket_transport(path: Path) -> httpx.AsyncHTTPTransport:
    """A Unix-socket transport. No TLS ever runs on it, so no certificates are loaded:
    loading them is ~40 ms of a command's start."""
    return httpx.AsyncHTTPTransport(uds=str(path), verify=False)


def _payload(body: Json | None) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_none=True)
    return body


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        text = response.text.strip()
        # A proxy's or web app's HTML error page is no message for a terminal.
        short = len(text) <= 200 and "<" not in text
        return text if short and text else response.reason_phrase


def parse(model: type[M], data: Any, path: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_answer(path, exc) from None


def bad_answer(path: str, exc: ValidationError) -> BadResponse:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return BadResponse(f"unexpected answer from {path}: {where}: {first['msg']}")
