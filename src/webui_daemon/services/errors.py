"""Domain errors, mapped to Open WebUI-style `{"detail": ...}` bodies in one place (api.errors).

WebUIError                      400  generic bad request
├── Unauthorized                401  no or bad credentials; also Open WebUI's "not allowed"
│   └── AccessProhibited        401  role too low (Open WebUI answers 401, not 403)
├── Forbidden                   403  refused on purpose (primary admin, disabled feature)
├── NotFound                    404  unknown resource, where Open WebUI answers 404
├── Conflict                    400  already exists (Open WebUI answers 400)
└── RateLimited                 429  too many attempts
"""

from typing import ClassVar


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


class RateLimited(WebUIError):
    status = 429


# Open WebUI's wording, kept so scripts that match on messages keep working.
NOT_AUTHENTICATED = "Not authenticated"
INVALID_TOKEN = "Your session has expired or the token is invalid. Please sign in again."
ACCESS_PROHIBITED = (
    "You do not have permission to access this resource. "
    "Please contact your administrator for assistance."
)
INVALID_CRED = "The email or password provided is incorrect. Please check for typos and try again."
EMAIL_TAKEN = (
    "Uh-oh! This email is already registered. "
    "Sign in with your existing account or choose another email to start anew."
)
INVALID_EMAIL = "Invalid email format. Please use a valid email address (e.g. name@example.com)."
USER_NOT_FOUND = "We could not find what you're looking for :/"
API_KEYS_DISABLED = "Use of API key is not enabled in the environment."
RATE_LIMITED = (
    "Too many sign-in attempts for this account. Please wait a few minutes and try again."
)
