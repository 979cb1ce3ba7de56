"""The OpenAPI document lists each route's error answers (api.openapi), with the error body."""

from typing import Any

import pytest

from tests.daemon_proc import DaemonProc
from tests.support import tcp


@pytest.fixture(scope="module")
def document(daemon: DaemonProc) -> dict[str, Any]:
    with tcp(daemon) as c:
        r = c.get("/openapi.json")
        assert r.status_code == 200, r.text
        return dict(r.json())


def statuses(document: dict[str, Any], method: str, path: str) -> set[str]:
    return set(document["paths"][path][method]["responses"])


def test_error_body_is_documented(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["ErrorDetail"]
    assert schema["required"] == ["detail"] and schema["properties"]["detail"]["type"] == "string"
    answer = document["paths"]["/api/v1/users/{user_id}"]["get"]["responses"]["404"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorDetail"
    }
    # 422 keeps FastAPI's own body.
    answer = document["paths"]["/api/v1/auths/signin"]["post"]["responses"]["422"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("HTTPValidationError")


def test_statuses_follow_from_each_route(document: dict[str, Any]) -> None:
    # Admin only, no input: authentication errors and nothing else.
    assert statuses(document, "get", "/api/v1/auths/admin/config") == {"200", "401", "403"}
    # A path id: not found (and a bad request), besides authentication.
    assert {"401", "403", "404", "400"} <= statuses(document, "get", "/api/v1/users/{user_id}")
    assert "404" in statuses(document, "delete", "/api/v1/chats/{chat_id}")
    # An id in the query or in the body names something too.
    assert "404" in statuses(document, "get", "/api/v1/models/model")
    assert "404" in statuses(document, "post", "/api/v1/retrieval/process/file")
    # A body: bad requests, too large, invalid.
    assert {"400", "413", "422"} <= statuses(document, "post", "/api/v1/chats/new")
    # Query parameters: the text guard's 400.
    assert "400" in statuses(document, "get", "/api/v1/chats/search")
    # No authentication, no input: only 200.
    assert statuses(document, "get", "/health") == {"200"}
    assert "401" not in statuses(document, "post", "/api/v1/auths/signin")
    # Declared on the route: what its shape does not tell.
    assert "429" in statuses(document, "post", "/api/v1/auths/signin")
    assert "503" in statuses(document, "get", "/health/db")
    # The relays to a provider: its errors (500 when no node answers, as Open WebUI), 503.
    assert {"429", "500", "503"} <= statuses(document, "post", "/api/chat/completions")
    assert {"500", "503"} <= statuses(document, "post", "/ollama/api/chat")


def test_every_operation_documents_its_errors(document: dict[str, Any]) -> None:
    without_errors = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if not any(s.startswith("4") for s in operation["responses"])
    }
    # Public, and taking no input: nothing to refuse.
    assert without_errors == {
        "GET /health",
        "GET /health/db",
        "GET /ready",
        "GET /api/version",
        "GET /api/config",
        "GET /api/v1/auths/signout",
    }


def test_only_public_routes_leave_out_401(document: dict[str, Any]) -> None:
    public = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "401" not in operation["responses"]
    }
    assert public == {
        "GET /health",
        "GET /health/db",
        "GET /ready",
        "GET /api/version",
        "GET /api/config",
        "POST /api/v1/auths/signup",
        "POST /api/v1/auths/signin",
        "GET /api/v1/auths/signout",
        "POST /api/v1/auths/signout",
    }
