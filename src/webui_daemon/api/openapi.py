"""Each operation's error answers in the OpenAPI document, derived from the route rather than
written on each one (FastAPI by itself lists only 200 and 422).

What a route can answer follows from its shape and the error tree (services.errors):
  401, 403  it authenticates (deps.get_current_user among its dependencies): no, bad or expired
            credentials, or a role too low (AccessProhibited, Open WebUI's 401); an API key
            while API keys are disabled, or a missing permission (Forbidden)
  404       its path, an id in its query or in its body names something that may not exist
            (NotFound)
  400       it takes input (a body, a path or query parameter): a domain rule refused it
            (WebUIError, Conflict), or it holds text no route can store (api.text_guard)
  413       it takes a body (api.limits.BodySizeLimit)
  429, 5xx  the relays to a provider (by tag, _RELAY_TAGS): too many of the caller's requests
            waiting for a node (QueueFull), no node answered (500, as Open WebUI), the
            provider's own error passed through (UpstreamError), or the provider is disabled
            (503)
Anything else a route answers is declared on the route or its router
(`responses=error_answers(...)`), e.g. 429 on sign-in. Every error body is {"detail": str}
(schemas.errors.ErrorDetail), except a provider's error passed through as it came and FastAPI's
422.
"""

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel

from webui_daemon.api import deps
from webui_daemon.schemas.errors import ErrorDetail

DESCRIPTIONS = {
    400: "Bad request: a rule refused it, or it holds text that cannot be stored (NUL, an "
    "unpaired surrogate)",
    401: "Not authenticated, a bad or expired token, or a role too low for this route",
    403: "Refused: an API key while API keys are disabled, or a permission is missing",
    404: "Not found (or not visible to the caller)",
    413: "Request body too large",
    429: "Too many attempts, or too many requests waiting; wait and try again (Retry-After)",
    500: "No provider node answered (Open WebUI's status), or a provider's own 500",
    502: "A provider's answer could not be used",
    503: "Unavailable: the provider (or the database) is disabled or not answering",
}

_RELAY_TAGS = frozenset({"completions", "ollama", "openai"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REF = "#/components/schemas/ErrorDetail"


def error_answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router that answers statuses its shape does not tell."""
    return {status: {"description": DESCRIPTIONS[status]} for status in statuses}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _names_a_thing(name: str) -> bool:
    return name in ("id", "url_idx") or name.endswith(("_id", "_ids"))


def _body_names_a_thing(route: Any) -> bool:
    """Whether the body (a model) has a field that names something by id (`file_id`, ...)."""
    model = route.body_field.field_info.annotation if route.body_field is not None else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return False
    return any(_names_a_thing(name) for name in model.model_fields)


def route_errors(route: Any, method: str) -> set[int]:
    """The error statuses a route's shape implies (see the module docstring)."""
    dependant: Dependant = route.dependant
    found: set[int] = set()
    if deps.get_current_user in set(_calls(dependant)):
        found |= {401, 403}
    path, query = dependant.path_params, dependant.query_params
    if path or any(_names_a_thing(p.name) for p in query) or _body_names_a_thing(route):
        found.add(404)
    # A route that takes the Request may read the body itself (the relays do).
    has_body = route.body_field is not None or (
        dependant.request_param_name is not None and method in _BODY_METHODS
    )
    if has_body:
        found |= {400, 413}
    if path or query:
        found.add(400)
    if _RELAY_TAGS.intersection(str(tag) for tag in route.tags or ()):
        found |= {400, 404, 429, 500, 502, 503}
    return found


def document_errors(schema: dict[str, Any], routes: list[Any]) -> None:
    """Add each operation's error answers to a generated OpenAPI document (in place); what a
    route declares itself (`responses=`) stays as declared, with the error body added."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorDetail"] = ErrorDetail.model_json_schema()
    paths = schema.get("paths", {})
    for route in routing.iter_route_contexts(routes):
        if not isinstance(route.original_route, routing.APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(route_errors(route, method)):
                responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
            for status, answer in responses.items():
                if status.startswith(("4", "5")) and status != "422" and "content" not in answer:
                    answer["content"] = {"application/json": {"schema": {"$ref": _REF}}}
            operation["responses"] = dict(sorted(responses.items()))


def install(app: FastAPI) -> None:
    """Document the error answers the first time the OpenAPI document is built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_errors(build(), app.routes)
        return build()

    app.openapi = openapi  # type: ignore[method-assign]
