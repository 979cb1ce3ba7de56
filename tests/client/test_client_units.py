"""Client pieces that need no daemon: error bodies, discovery, the credential file fallback."""

import asyncio
import json
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring.backends import fail

from webui_daemon.settings import default_socket_path as daemon_default_socket
from webui_tui.client.credentials import CredentialStore, resolve_token
from webui_tui.client.discovery import default_socket_path, discover, normalize_url, url_target
from webui_tui.client.errors import (
    AuthFailed,
    Forbidden,
    NotFound,
    RequestFailed,
    ServerError,
    detail_text,
    error_for_status,
)
from webui_tui.client.tasks import both


def test_detail_text_reads_strings_and_validation_lists() -> None:
    assert detail_text({"detail": "Not authenticated"}) == "Not authenticated"
    problems = {
        "detail": [
            {"loc": ["body", "email"], "msg": "Field required", "type": "missing"},
            {"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"},
        ]
    }
    assert detail_text(problems) == "email: Field required; JSON decode error"
    assert detail_text({"detail": {"message": "upstream said no"}}) == "upstream said no"
    assert detail_text("Bad Gateway") == "Bad Gateway"


@pytest.mark.parametrize(
    ("status", "kind", "prefix"),
    [
        (401, AuthFailed, "not allowed: "),
        (403, Forbidden, "forbidden: "),
        (404, NotFound, "not found: "),
        (500, ServerError, "server error: "),
        (503, ServerError, "server error: "),
        (400, RequestFailed, ""),
        (422, RequestFailed, ""),
        (429, RequestFailed, ""),
    ],
)
def test_status_codes_map_to_typed_errors(status: int, kind: type, prefix: str) -> None:
    error = error_for_status(status, {"detail": "two\nlines"})
    assert type(error) is kind
    assert isinstance(error, RequestFailed)
    assert error.status == status and error.detail == "two lines"
    assert error.message.startswith(prefix) and "\n" not in error.message


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    own = runtime / "webui" / "webui.sock"
    assert default_socket_path() == own == daemon_default_socket()

    both = {"WEBUI_URL": "example.com:8080/", "WEBUI_SOCKET": "/x.sock"}
    assert discover(both) == url_target("http://example.com:8080", "WEBUI_URL")
    explicit = discover({"WEBUI_SOCKET": str(tmp_path / "x.sock")})
    assert explicit.socket == tmp_path / "x.sock" and not explicit.may_autostart

    shared = tmp_path / "shared.sock"
    default = discover({}, shared=shared)
    assert default.socket == own and default.source == "default" and default.may_autostart
    shared.touch()  # a --shared daemon runs and we have none of our own
    fallback = discover({}, shared=shared)
    assert fallback.socket == shared and not fallback.may_autostart
    own.parent.mkdir()
    own.touch()
    assert discover({}, shared=shared).socket == own


def test_normalize_url() -> None:
    assert normalize_url(" https://h.example/webui/ ") == "https://h.example/webui"
    assert normalize_url("localhost:8080") == "http://localhost:8080"
    for bad in ("ftp://h", "http://", ""):
        with pytest.raises(ValueError):
            normalize_url(bad)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """The backend of a headless box: every keyring call fails."""
    before: keyring.backend.KeyringBackend = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(before)


def test_credentials_fall_back_to_a_private_file(tmp_path: Path, no_keyring: None) -> None:
    notices: list[str] = []
    store = CredentialStore(tmp_path / "cfg" / "credentials.json", notice=notices.append)
    assert store.get("http://a") is None
    assert store.set("http://a", "tok-a") == "file"
    assert store.set("http://b", "tok-b") == "file"
    assert len(notices) == 1 and str(store.file) in notices[0]
    assert stat.S_IMODE(store.file.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.file.parent.stat().st_mode) == 0o700
    assert store.get("http://a") == "tok-a"
    assert store.delete("http://a") is True
    assert store.delete("http://a") is False
    assert store.get("http://a") is None and store.get("http://b") == "tok-b"

    target = url_target("http://b")
    assert resolve_token(target, store, env={}) == "tok-b"
    assert resolve_token(target, store, env={"WEBUI_TOKEN": "override"}) == "override"
    assert resolve_token(discover({"WEBUI_SOCKET": "/s"}), store, env={}) is None


def test_both_waits_for_the_other_call_before_raising() -> None:
    """`both`: when the first call fails, the second still ends inside the caller (with plain
    gather it would fail later, unretrieved, once the client had closed)."""
    ended: list[str] = []

    async def fails_now() -> int:
        raise ValueError("first")

    async def fails_later() -> str:
        await asyncio.sleep(0.05)
        ended.append("second")
        raise RuntimeError("second")

    async def main() -> None:
        with pytest.raises(ValueError, match="first"):
            await both(fails_now(), fails_later())
        assert ended == ["second"]
        assert await both(asyncio.sleep(0, "a"), asyncio.sleep(0, 1)) == ("a", 1)

    asyncio.run(main())


async def test_queue_comments_become_queued_events() -> None:
    from webui_tui.client.sse import ContentDelta, Queued, chunk_events, sse_data

    async def lines() -> AsyncIterator[str]:
        for line in [
            ': webui.queue {"position": 3, "eta_s": 19.6, "model": "llama3.1:70b", "node": "gpu"}',
            "",
            ": ping",
            "",
            ': webui.queue {"position": 1, "eta_s": null, "model": "llama3.1:70b", "node": ""}',
            'data: {"choices": [{"delta": {"content": "Hi"}}]}',
            "",
            "data: [DONE]",
            "",
        ]:
            yield line

    events = [
        e
        for data in [d async for d in sse_data(lines())]
        if data != "[DONE]"
        for e in chunk_events(json.loads(data))
    ]
    assert events == [
        Queued(3, 19.6, "llama3.1:70b", "gpu"),
        Queued(1, None, "llama3.1:70b", ""),
        ContentDelta("Hi"),
    ]
    assert events[0].line() == "waiting: 3rd in line for llama3.1:70b on gpu (≈ 20 s)"
    assert events[1].line() == "waiting: 1st in line for llama3.1:70b"
    assert [Queued(n, None, "", "").line() for n in (2, 11, 12, 13, 21, 22, 101)] == [
        f"waiting: {x} in line" for x in ("2nd", "11th", "12th", "13th", "21st", "22nd", "101st")
    ]
