"""The auth matrix, built from the app's own route table: who may call what, checked against a
real daemon over TCP.

Each route is classified by the dependencies it declares (admin, verified, any signed-in user,
or none); then every route is called without credentials, with a `user` token and with a
`pending` token. A new route that forgets its dependency shows up as public and fails here.
"""

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.support import add_user, bearer, signup, tcp
from webui_daemon.api.deps import get_admin_user, get_current_user, get_verified_user
from webui_daemon.app import create_app
from webui_daemon.services.errors import ACCESS_PROHIBITED, INVALID_TOKEN, NOT_AUTHENTICATED
from webui_daemon.settings import Settings

# Callable without credentials (spec 2.1, 8, and FastAPI's documentation pages).
PUBLIC = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/health/db"),
        ("GET", "/ready"),
        ("GET", "/api/version"),
        ("GET", "/api/config"),
        ("POST", "/api/v1/auths/signin"),
        ("POST", "/api/v1/auths/signup"),
        ("GET", "/api/v1/auths/signout"),
        ("POST", "/api/v1/auths/signout"),
        ("GET", "/docs"),
        ("GET", "/docs/oauth2-redirect"),
        ("GET", "/openapi.json"),
        ("GET", "/redoc"),
    }
)
# These must exist, so the allow-list above cannot be satisfied by an empty table.
MUST_BE_PUBLIC = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/api/version"),
        ("GET", "/api/config"),
        ("POST", "/api/v1/auths/signin"),
        ("POST", "/api/v1/auths/signup"),
    }
)


# Routes that check the role themselves, past a plain sign-in: classified at the level they
# enforce. The shutdown route admits admins and the daemon's own OS account on the socket.
SELF_GATED = {("POST", "/api/webui/shutdown"): "admin"}
# Not called as an admin: it would stop the daemon under test (tests/cli/test_cli_daemon.py does).
NOT_AS_ADMIN = frozenset({("POST", "/api/webui/shutdown")})

# What a refusal for want of credentials or role says (as opposed to a 401 "not found").
AUTH_REFUSALS = frozenset({NOT_AUTHENTICATED, INVALID_TOKEN, ACCESS_PROHIBITED})


# Like conftest's, with model providers pointed at a closed local port: routes that ask a
# provider fail fast instead of waiting on a network.
daemon = daemon_fixture(
    env={
        "DEFAULT_USER_ROLE": "user",
        "OLLAMA_BASE_URL": "http://127.0.0.1:9",
        "OPENAI_API_BASE_URL": "http://127.0.0.1:9/v1",
    },
    tmp="matrix",
)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    level: str  # "admin" | "verified" | "current" | "public"
    in_schema: bool = True

    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), self.path)


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    found: set[Callable[..., Any]] = set()
    stack = [dependant]
    while stack:
        node = stack.pop()
        if node.call is not None:
            found.add(node.call)
        stack.extend(node.dependencies)
    return found


def _walk(
    routes: Sequence[BaseRoute], prefix: str = "", inherited: tuple[Dependant, ...] = ()
) -> Iterator[tuple[str, BaseRoute, tuple[Dependant, ...]]]:
    """Every route with its full path and the dependencies added where its router was included.

    Older FastAPI copies included routes into the app; newer versions keep each included router
    as one nested entry (with `original_router` and `include_context`): handle both.
    """
    for route in routes:
        nested = getattr(route, "original_router", None)
        if isinstance(route, APIRoute | Route):
            yield prefix + route.path, route, inherited
        elif nested is not None:
            context = route.include_context  # type: ignore[attr-defined]
            extra = tuple(
                get_dependant(path="", call=d.dependency)
                for d in context.dependencies
                if d.dependency is not None
            )
            yield from _walk(nested.routes, prefix + context.prefix, inherited + extra)
        else:
            raise AssertionError(f"route of an unknown kind, cannot classify: {route!r}")


def route_table(tmp: Path) -> list[Endpoint]:
    app = create_app(Settings(DATA_DIR=tmp / "unused", WEBUI_SECRET_KEY="x"))  # not started
    table: list[Endpoint] = []
    for full_path, route, inherited in _walk(app.routes):
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", full_path)  # as OpenAPI names `{path:path}`
        if isinstance(route, APIRoute):
            calls = _calls(route.dependant)
            for dependant in inherited:
                calls |= _calls(dependant)
            if get_admin_user in calls:
                level = "admin"
            elif get_verified_user in calls:
                level = "verified"
            elif get_current_user in calls:
                level = "current"
            else:
                level = "public"
            table += [
                Endpoint(m, path, SELF_GATED.get((m, path), level), route.include_in_schema)
                for m in sorted(route.methods)
            ]
        else:
            assert isinstance(route, Route)
            methods = route.methods or {"GET"}
            table += [Endpoint(m, path, "public", False) for m in sorted(methods) if m != "HEAD"]
    return table


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> list[Endpoint]:
    endpoints = route_table(tmp_path_factory.mktemp("routes"))
    assert endpoints, "the route table is empty"
    return endpoints


def _level(table: list[Endpoint], *levels: str) -> list[Endpoint]:
    chosen = [e for e in table if e.level in levels]
    assert chosen, f"no route at level {levels}: the matrix would pass vacuously"
    return chosen


@pytest.fixture(scope="module")
def tokens(daemon: DaemonProc) -> dict[str, str]:
    with tcp(daemon) as c:
        admin = signup(c, "Admin", "admin@example.com")
        assert admin["role"] == "admin"
        user = add_user(c, admin["token"], "User", "user@example.com", "user")
        pending = add_user(c, admin["token"], "Pending", "pending@example.com", "pending")
    return {"admin": admin["token"], "user": user["token"], "pending": pending["token"]}


def _call(client: httpx.Client, endpoint: Endpoint, token: str | None) -> httpx.Response:
    headers = bearer(token) if token else {}
    if endpoint.method in ("POST", "PUT", "PATCH"):
        return client.request(endpoint.method, endpoint.url(), headers=headers, json={})
    return client.request(endpoint.method, endpoint.url(), headers=headers)


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


def _check_all(
    daemon: DaemonProc,
    endpoints: list[Endpoint],
    token: str | None,
    refused_with: str | None,
) -> None:
    """Call every endpoint. `refused_with`: each must answer 401 with that detail. None: none
    may be refused for lack of credentials or role (a 401 "not found", Open WebUI's answer for
    someone else's chat, is fine), and nothing may fail with a 5xx."""
    wrong: list[str] = []
    with tcp(daemon) as c:
        for endpoint in endpoints:
            r = _call(c, endpoint, token)
            if refused_with is not None:
                ok = r.status_code == 401 and _detail(r) == refused_with
            else:
                ok = r.status_code < 500 and not (
                    r.status_code in (401, 403) and _detail(r) in AUTH_REFUSALS
                )
            if not ok:
                wrong.append(f"{endpoint.method} {endpoint.path} -> {r.status_code} {r.text[:120]}")
    assert not wrong, "\n".join(wrong)


def test_route_table_is_classified(table: list[Endpoint]) -> None:
    public = {(e.method, e.path) for e in table if e.level == "public"}
    assert public <= PUBLIC, f"routes without an auth dependency: {sorted(public - PUBLIC)}"
    assert public >= MUST_BE_PUBLIC
    for level in ("admin", "verified", "current"):
        _level(table, level)
    # Spot checks, so the classification itself is tested, not only trusted.
    levels = {(e.method, e.path): e.level for e in table}
    assert levels[("GET", "/api/v1/users/")] == "admin"
    assert levels[("POST", "/api/v1/groups/create")] == "admin"
    assert levels[("GET", "/api/v1/users/permissions")] == "verified"
    assert levels[("GET", "/api/v1/auths/")] == "current"
    assert levels[("POST", "/api/v1/auths/api_key")] == "current"


def test_running_daemon_serves_the_same_table(daemon: DaemonProc, table: list[Endpoint]) -> None:
    with tcp(daemon) as c:
        spec = c.get("/openapi.json").json()
    served = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    built = {(e.method, e.path) for e in table if e.in_schema}
    assert served == built


def test_every_protected_route_needs_credentials(daemon: DaemonProc, table: list[Endpoint]) -> None:
    _check_all(daemon, _level(table, "admin", "verified", "current"), None, NOT_AUTHENTICATED)


def test_public_routes_answer_without_credentials(
    daemon: DaemonProc, table: list[Endpoint]
) -> None:
    _check_all(daemon, _level(table, "public"), None, None)


def test_user_role_gets_401_on_every_admin_route(
    daemon: DaemonProc, table: list[Endpoint], tokens: dict[str, str]
) -> None:
    _check_all(daemon, _level(table, "admin"), tokens["user"], ACCESS_PROHIBITED)
    # Control: the same token passes the verified and any-user routes.
    _check_all(daemon, _level(table, "verified", "current"), tokens["user"], None)


def test_pending_role_gets_401_on_every_verified_or_admin_route(
    daemon: DaemonProc, table: list[Endpoint], tokens: dict[str, str]
) -> None:
    _check_all(daemon, _level(table, "admin", "verified"), tokens["pending"], ACCESS_PROHIBITED)
    _check_all(daemon, _level(table, "current"), tokens["pending"], None)


def test_admin_passes_every_gate(
    daemon: DaemonProc, table: list[Endpoint], tokens: dict[str, str]
) -> None:
    """Control for the tests above: their 401s come from the role gates, not from bad tokens
    or made-up ids."""
    endpoints = _level(table, "admin", "verified", "current")
    calls = [e for e in endpoints if (e.method, e.path) not in NOT_AS_ADMIN]
    assert len(calls) == len(endpoints) - len(NOT_AS_ADMIN)  # each one exists
    _check_all(daemon, calls, tokens["admin"], None)


def test_daemon_log_has_no_traceback(daemon: DaemonProc) -> None:
    """Last: none of the calls above raised inside the daemon."""
    assert "Traceback" not in daemon.log(), daemon.log()
