"""Fixture factories: one daemon per test module, a client on it, and its signed-up users.

    daemon = daemon_fixture(env={"DEFAULT_USER_ROLE": "user"})
    daemon = daemon_fixture(env=lambda standin: provider_env(ollama=[standin]), tmp="tui-chat")
    client = client_fixture(timeout=60)
    users = users_fixture("alice", "bob")

A callable `env` (or `setup`, or `tmp`) names the fixtures it needs by its parameters, as a
test does (`request` is the fixture request); the fixture made depends on them, so pytest starts
them first and stops them after the daemon. The daemon is always stopped, even when `setup`
fails.
"""

import inspect
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc, start_daemon
from tests.support import add_user, signup, tcp, unix

Env = Mapping[str, str] | Callable[..., Mapping[str, str]] | None
Users = dict[str, dict[str, Any]]

_BUILTIN = ("request", "tmp_path_factory")


def _names(fn: Callable[..., Any], skip: int = 0) -> list[str]:
    """The fixture names a callable asks for: its parameters (after the first `skip`)."""
    return list(inspect.signature(fn).parameters)[skip:]


def _call(fn: Callable[..., Any], fixtures: dict[str, Any], *first: Any) -> Any:
    return fn(*first, **{name: fixtures[name] for name in _names(fn, len(first))})


def daemon_fixture(
    env: Env = None,
    *,
    tmp: str | Callable[..., Path] = "daemon",
    setup: Callable[..., None] | None = None,
    scope: Any = "module",
    params: list[Any] | None = None,
    **start: Any,
) -> Any:
    """A fixture that starts `python -m webui_daemon` with `env` in a fresh temporary folder
    (`tmp` names it, or is a callable giving the folder), runs `setup(daemon, ...)` (seed data),
    yields the DaemonProc and stops it. `start` goes to `start_daemon` (args, timeout, ...)."""
    wanted = [
        *(_names(env) if callable(env) else []),
        *(_names(tmp) if callable(tmp) else []),
        *(_names(setup, 1) if setup else []),
    ]
    extra = [name for name in dict.fromkeys(wanted) if name not in _BUILTIN]

    def fixture(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, **fixtures: Any
    ) -> Iterator[DaemonProc]:
        fixtures |= {"request": request, "tmp_path_factory": tmp_path_factory}
        values = _call(env, fixtures) if callable(env) else env
        folder = _call(tmp, fixtures) if callable(tmp) else tmp_path_factory.mktemp(tmp)
        proc = start_daemon(folder, env=dict(values or {}), **start)
        try:
            if setup is not None:
                _call(setup, fixtures, proc)
            yield proc
        finally:
            proc.stop()

    keyword = inspect.Parameter.KEYWORD_ONLY
    fixture.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            inspect.Parameter("tmp_path_factory", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *(inspect.Parameter(name, keyword) for name in extra),
        ]
    )
    return pytest.fixture(scope=scope, params=params)(fixture)


def client_fixture(*, via: str = "tcp", timeout: float = 10, scope: Any = "module") -> Any:
    """A cookie-free client on the module's `daemon`, over loopback TCP (`via="tcp"`, every
    request carries only the credentials it is given) or the Unix socket (`via="unix"`, where
    the socket's own account is the admin)."""
    connect = {"tcp": tcp, "unix": unix}[via]

    @pytest.fixture(scope=scope)
    def fixture(daemon: DaemonProc) -> Iterator[httpx.Client]:
        with connect(daemon, timeout=timeout) as c:
            yield c

    return fixture


def sign_up(
    client: httpx.Client,
    *names: str,
    admin: str = "admin@example.com",
    email: str = "{name}@example.com",
    role: str = "user",
) -> Users:
    """The first sign-up on a fresh daemon (the admin, email `admin`), then each of `names`
    added by the admin with `role`: each user's answer (id, token, role, ...) by lowercase
    name, the admin's under "admin"."""
    out = {"admin": signup(client, "Admin", admin)}
    for name in names:
        key = name.lower()
        address = email.format(name=key)
        out[key] = add_user(client, out["admin"]["token"], name.title(), address, role)
    return out


def users_fixture(*names: str, scope: Any = "module", **options: str) -> Any:
    """`sign_up(client, *names, **options)` once for the module, on its `client` fixture."""

    @pytest.fixture(scope=scope)
    def fixture(client: httpx.Client) -> Users:
        return sign_up(client, *names, **options)

    return fixture
