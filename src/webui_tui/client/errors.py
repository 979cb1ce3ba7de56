"""Typed client errors, each with a one-line `.message` for people.

WebUIClientError                 base: `.message` is one line, fit for `webui: <message>`
├── DaemonUnreachable            nobody answers on the socket or URL (or it hung up)
├── BadResponse                  the server answered with something we cannot read
├── AnswerFailed                 a streamed answer failed midway (what arrived stays valid)
└── RequestFailed                the server answered with an error (`.status`, `.detail`)
    ├── AuthFailed               401: no, bad or expired credentials; also Open WebUI's
    │                            "no permission", which it answers with 401
    ├── Forbidden                403: refused on purpose (primary admin, disabled feature)
    ├── NotFound                 404: no such resource (or route: not this kind of server)
    └── ServerError              5xx: the server failed; its log says why

`RequestFailed` itself covers every other 4xx (400 bad input, 422 validation, 429 rate limit).
"""

from typing import Any


class WebUIClientError(Exception):
    """Base of every error the client raises; `message` is one line for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = one_line(message)


class DaemonUnreachable(WebUIClientError):
    """Nobody answers where we looked; `hint` says what to do about it, if we know."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(f"{message} ({hint})" if hint else message)
        self.hint = hint


class BadResponse(WebUIClientError):
    """The server answered, but not with the JSON shape we expected."""


class AnswerFailed(WebUIClientError):
    """A streamed answer ended with an error event (the provider failed after it started)."""


class RequestFailed(WebUIClientError):
    """The server answered with an error status; `detail` is its `{"detail": ...}` text."""

    def __init__(self, status: int, detail: str, method: str = "", path: str = "") -> None:
        self.status = status
        self.detail = one_line(detail) or f"HTTP {status}"
        self.method = method
        self.path = path
        super().__init__(self._wording())

    def _wording(self) -> str:
        return f"{self.detail} (HTTP {self.status})"


class AuthFailed(RequestFailed):
    def _wording(self) -> str:
        return f"not allowed: {self.detail}"


class Forbidden(RequestFailed):
    def _wording(self) -> str:
        return f"forbidden: {self.detail}"


class NotFound(RequestFailed):
    def _wording(self) -> str:
        return f"not found: {self.detail}"


class ServerError(RequestFailed):
    def _wording(self) -> str:
        return f"server error: {self.detail} (HTTP {self.status})"


def one_line(text: str) -> str:
    """Collapse whitespace so a message never spans lines."""
    return " ".join(text.split())


def detail_text(body: Any) -> str:
    """The human text of an error body: `{"detail": str}`, pydantic's list of problems, or a
    provider's own error passed through (`{"error": str}` as Ollama, `{"error": {"message":
    str}}` as OpenAI and llama.cpp)."""
    detail = body.get("detail") if isinstance(body, dict) else body
    if detail is None and isinstance(body, dict) and "error" in body:
        detail = body["error"]
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(_problem(item) for item in detail) or "invalid request"
    if isinstance(detail, dict) and isinstance(detail.get("message"), str):
        return str(detail["message"])
    return "" if detail is None else str(detail)


def _problem(item: Any) -> str:
    if not isinstance(item, dict):
        return str(item)
    # loc is e.g. ["body", "email"]; "body" says nothing to a person.
    loc = [str(part) for part in item.get("loc", ()) if part not in ("body", "query", "path")]
    msg = str(item.get("msg", "invalid"))
    return f"{'.'.join(loc)}: {msg}" if loc else msg


def error_for_status(status: int, body: Any, method: str = "", path: str = "") -> RequestFailed:
    """The typed error for an HTTP error answer."""
    detail = detail_text(body)
    kinds: dict[int, type[RequestFailed]] = {401: AuthFailed, 403: Forbidden, 404: NotFound}
    kind = ServerError if status >= 500 else kinds.get(status, RequestFailed)
    return kind(status, detail, method, path)
