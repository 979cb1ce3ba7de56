"""Domain errors, mapped to Open WebUI-style `{"detail": ...}` bodies in one place (api.errors).

WebUIError                      400  generic bad request
├── Unauthorized                401  no or bad credentials; also Open WebUI's "not allowed"
│   └── AccessProhibited        401  role too low (Open WebUI answers 401, not 403)
├── Forbidden                   403  refused on purpose (primary admin, disabled feature)
├── NotFound                    404  unknown resource, where Open WebUI answers 404
├── Conflict                    400  already exists (Open WebUI answers 400)
├── TooLarge                    413  over a size limit (an upload, a note); names the limit
├── RateLimited                 429  too many attempts or waiting requests (+ Retry-After)
├── Unavailable                 503  a disabled provider (Open WebUI answers 503)
└── UpstreamError               any  a provider's error before the first token: its status and
                                     body are passed through as they came (spec 1)
"""

from typing import Any, ClassVar


class WebUIError(Exception):
    status: ClassVar[int] = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthorized(WebUIError):
    status = 401


class AccessProhibited(Unauthorized):
    pass


class Forbidden(WebUIError):
    status = 403


class NotFound(WebUIError):
    status = 404


class Conflict(WebUIError):
    status = 400


class TooLarge(WebUIError):
    status = 413


class RateLimited(WebUIError):
    status = 429

    def __init__(self, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after  # seconds, sent as Retry-After


class Unavailable(WebUIError):
    status = 503


class UpstreamError(WebUIError):
    """A provider failed before the first token (after every node serving the model was tried).

    `upstream_status` and `body` (JSON-able: the provider's own error document, or
    {"detail": ...} when it gave none) are what the API answers with.
    """

    status = 500

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(_message(body) or f"The provider answered {status}.")
        self.upstream_status = status if 400 <= status <= 599 else 502
        self.body = body


def _message(body: Any) -> str:
    """The human message inside a provider's error document, whatever its shape."""
    if isinstance(body, dict):
        for key in ("detail", "error", "message"):
            value = body.get(key)
            if isinstance(value, str):
                return value
            if isinstance(value, dict):
                return _message(value)
    return body if isinstance(body, str) else ""


# Open WebUI's wording, kept so scripts that match on messages keep working.
NOT_AUTHENTICATED = "Not authenticated"
INVALID_TOKEN = "Your session has expired or the token is invalid. Please sign in again."
ACCESS_PROHIBITED = (
    "You do not have permission to access this resource. "
    "Please contact your administrator for assistance."
)
# Open WebUI's wording when a permission (not the role) is missing, e.g. workspace.models_export.
UNAUTHORIZED = "401 Unauthorized"
INVALID_CRED = "The email or password provided is incorrect. Please check for typos and try again."
EMAIL_TAKEN = (
    "Uh-oh! This email is already registered. "
    "Sign in with your existing account or choose another email to start anew."
)
INVALID_EMAIL = "Invalid email format. Please use a valid email address (e.g. name@example.com)."
USER_NOT_FOUND = "We could not find what you're looking for :/"
API_KEYS_DISABLED = "Use of API key is not enabled in the environment."
API_KEY_CREATION_NOT_ALLOWED = "API key creation is not allowed in the environment."
RATE_LIMITED = (
    "Too many sign-in attempts for this account. Please wait a few minutes and try again."
)
