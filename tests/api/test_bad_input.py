"""Bad input gets a 4xx with a `{"detail": ...}` body, never a 500, and leaves no traceback in
the daemon's log: malformed JSON, wrong types, missing fields, oversize bodies, unknown ids
and paths, and forged or expired tokens."""

import base64
import json
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.support import add_user, assert_error, assert_no_traceback, bearer, signup, tcp, unix

LIMIT = 4096
SECRET = "test-secret-key-for-webui-tests-0123456789"  # tests.daemon_proc.daemon_env's


daemon = daemon_fixture(
    env=lambda: {"WEBUI_MAX_BODY_BYTES": str(LIMIT), "WEBUI_SECRET_KEY": SECRET}, tmp="bad-input"
)


@pytest.fixture(scope="module")
def admin(daemon: DaemonProc) -> dict[str, Any]:
    with tcp(daemon) as c:
        return dict(signup(c, "Admin", "admin@example.com"))


@pytest.fixture(scope="module")
def client(daemon: DaemonProc, admin: dict[str, Any]) -> Iterator[httpx.Client]:
    with tcp(daemon, headers=bearer(admin["token"])) as c:
        yield c


@pytest.fixture(scope="module")
def group_id(client: httpx.Client) -> str:
    r = client.post("/api/v1/groups/create", json={"name": "g"})
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def _raw(client: httpx.Client, path: str, body: bytes, **headers: str) -> httpx.Response:
    return client.post(path, content=body, headers={"content-type": "application/json", **headers})


JSON_ROUTES = [
    "/api/v1/auths/signin",
    "/api/v1/auths/signup",
    "/api/v1/auths/add",
    "/api/v1/auths/update/profile",
    "/api/v1/auths/admin/config",
    "/api/v1/users/default/permissions",
    "/api/v1/groups/create",
]


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize(
    "body",
    [b"{bad", b'{"email": "a@b.c",}', b"", b"\xff\xfe\x00", b"[", b'{"a": NaN'],
    ids=["truncated", "trailing-comma", "empty", "not-utf8", "open-array", "nan"],
)
def test_malformed_json(client: httpx.Client, path: str, body: bytes) -> None:
    r = _raw(client, path, body)
    assert r.status_code in (400, 422), r.text
    assert_error(r, r.status_code)


@pytest.mark.parametrize("path", JSON_ROUTES)
@pytest.mark.parametrize("body", [[], "text", 5, None, True], ids=repr)
def test_json_that_is_not_an_object(client: httpx.Client, path: str, body: Any) -> None:
    assert_error(client.post(path, json=body), 422)


def test_deeply_nested_json(client: httpx.Client) -> None:
    depth = LIMIT // 2 - 10
    r = _raw(client, "/api/v1/groups/create", b"[" * depth + b"]" * depth)
    assert r.status_code in (400, 422), r.text
    assert_error(r, r.status_code)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auths/signin", b'{"email": "a@b.c", "password": 1e400}'),
        ("/api/v1/auths/signin", b'{"email": "a@b.c", "password": NaN}'),
        ("/api/v1/auths/signin", b'{"email": "a@b.c", "password": -Infinity}'),
        ("/api/v1/auths/signin", b'{"email": 1' + b"0" * 4000 + b', "password": "x"}'),
        ("/api/v1/groups/create", b'{"name": "g", "permissions": {"chat": {"edit": NaN}}}'),
    ],
)
def test_non_finite_and_huge_numbers(client: httpx.Client, path: str, body: bytes) -> None:
    # Python's JSON parser accepts these; the 422 that echoes them must still be valid JSON.
    detail = assert_error(_raw(client, path, body), 422)
    assert detail[0]["type"].endswith("_type")


def test_not_json_content_type(client: httpx.Client) -> None:
    r = client.post(
        "/api/v1/auths/signin",
        content=b'{"email": "admin@example.com", "password": "pw-123456"}',
        headers={"content-type": "text/plain"},
    )
    assert_error(r, 422)
    r = client.post("/api/v1/auths/signin", data={"email": "a", "password": "b"})
    assert_error(r, 422)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auths/signin", {"email": 5, "password": "x"}),
        ("/api/v1/auths/signin", {"email": ["a@b.c"], "password": "x"}),
        ("/api/v1/auths/signin", {"email": "a@b.c", "password": {"x": 1}}),
        ("/api/v1/auths/signin", {"email": "a@b.c", "password": None}),
        ("/api/v1/auths/signup", {"name": "", "email": "a@b.c", "password": "x"}),
        ("/api/v1/auths/signup", {"name": "n", "email": "a@b.c", "password": "x" * 2000}),
        ("/api/v1/auths/add", {"name": "n", "email": "a@b.c", "password": "x", "role": "root"}),
        ("/api/v1/auths/update/profile", {"name": None}),
        ("/api/v1/auths/update/password", {"password": 1, "new_password": ""}),
        (
            "/api/v1/auths/admin/config",
            {
                "ENABLE_SIGNUP": "perhaps",
                "DEFAULT_USER_ROLE": "user",
                "ENABLE_API_KEYS": True,
                "JWT_EXPIRES_IN": "4w",
            },
        ),
        (
            "/api/v1/auths/admin/config",
            {
                "ENABLE_SIGNUP": False,
                "DEFAULT_USER_ROLE": "superuser",
                "ENABLE_API_KEYS": True,
                "JWT_EXPIRES_IN": "4w",
            },
        ),
        ("/api/v1/users/default/permissions", {"chat": 5}),
        ("/api/v1/users/default/permissions", {"chat": {"edit": "maybe"}}),
        ("/api/v1/users/user/settings/update", {"ui": []}),
        ("/api/v1/groups/create", {"name": 5}),
        ("/api/v1/groups/create", {"name": ""}),
        ("/api/v1/groups/create", {"name": "g", "permissions": {"chat": {"x": "maybe"}}}),
        ("/api/v1/groups/create", {"name": "g", "data": ["not", "a", "dict"]}),
    ],
)
def test_wrong_types(client: httpx.Client, path: str, body: Any) -> None:
    assert_error(client.post(path, json=body), 422)


def test_wrong_types_on_routes_with_ids(
    client: httpx.Client, admin: dict[str, Any], group_id: str
) -> None:
    me = admin["id"]
    for body in ({"role": "root"}, {"name": ""}, {"email": 5}, {"password": ""}):
        assert_error(client.post(f"/api/v1/users/{me}/update", json=body), 422)
    for body in ({"user_ids": "abc"}, {"user_ids": [1, 2]}, {"user_ids": None}):
        assert_error(client.post(f"/api/v1/groups/id/{group_id}/users/add", json=body), 422)
        assert_error(client.post(f"/api/v1/groups/id/{group_id}/users/remove", json=body), 422)
    assert_error(client.post(f"/api/v1/groups/id/{group_id}/update", json={"name": ""}), 422)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auths/signin", {"email": "a@b.c"}),
        ("/api/v1/auths/signin", {"password": "x"}),
        ("/api/v1/auths/signup", {"email": "a@b.c", "password": "x"}),
        ("/api/v1/auths/add", {"name": "n", "password": "x"}),
        ("/api/v1/auths/update/profile", {"bio": "only"}),
        ("/api/v1/auths/update/password", {"password": "x"}),
        ("/api/v1/auths/admin/config", {"ENABLE_SIGNUP": True}),
        ("/api/v1/groups/create", {"description": "no name"}),
    ],
)
def test_missing_fields(client: httpx.Client, path: str, body: Any) -> None:
    detail = assert_error(client.post(path, json=body), 422)
    assert isinstance(detail, list) and detail[0]["type"] == "missing"


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "0"},
        {"page": "-1"},
        {"page": "1.5"},
        {"page": str(10**20)},
        {"query": "x" * 201},
        {"page": "9" * 5000},
    ],
)
def test_bad_query_parameters(client: httpx.Client, query: dict[str, str]) -> None:
    assert_error(client.get("/api/v1/users/", params=query), 422)
    assert_error(client.get("/api/v1/users/search", params=query), 422)


def test_odd_but_valid_query_parameters(client: httpx.Client) -> None:
    for params in (
        {"order_by": "password; DROP TABLE user", "direction": "sideways"},
        {"query": "%_\\'\""},
        {"page": str(10**9)},
    ):
        r = client.get("/api/v1/users/", params=params)
        assert r.status_code == 200, r.text
    assert client.get("/api/v1/users/", params={"query": "%"}).json()["total"] == 0


def _chunks(total: int, size: int = 512) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b" " * min(size, total - sent)
        sent += len(chunk)
        yield chunk


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_oversize_bodies(daemon: DaemonProc, admin: dict[str, Any], transport: str) -> None:
    make = tcp if transport == "tcp" else unix
    with make(daemon, headers=bearer(admin["token"])) as c:
        big = b'{"name": "' + b"x" * (LIMIT + 10) + b'"}'
        for path in ("/api/v1/auths/signin", "/api/v1/groups/create"):
            # With a Content-Length header: refused before the body is read.
            r = _raw(c, path, big)
            assert "too large" in assert_error(r, 413)
            # Chunked, without Content-Length: refused once the limit is crossed.
            r = c.post(
                path, content=_chunks(LIMIT * 4), headers={"content-type": "application/json"}
            )
            assert r.request.headers.get("transfer-encoding") == "chunked"
            assert "content-length" not in r.request.headers
            assert "too large" in assert_error(r, 413)
        # Exactly at the limit is accepted (then judged on its content).
        body = b'{"email": "nobody@example.com", "password": "'
        body += b"p" * (LIMIT - len(body) - 2) + b'"}'
        assert len(body) == LIMIT
        r = _raw(c, "/api/v1/auths/signup", body)
        assert r.status_code == 422  # password longer than 1024: a validation error, not 413
        # The daemon is fine afterwards.
        assert c.get("/api/v1/auths/").status_code == 200


def _raw_http(daemon: DaemonProc, request: bytes) -> tuple[int, Any]:
    """One request written by hand (httpx refuses to send a lying Content-Length)."""
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_content_length_over_the_limit_is_refused_before_the_body(daemon: DaemonProc) -> None:
    # Only the headers are sent: the answer must not wait for a body that never comes.
    status, body = _raw_http(
        daemon,
        b"POST /api/v1/auths/signin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\n" + f"Content-Length: {LIMIT + 1}\r\n\r\n".encode(),
    )
    assert status == 413 and "too large" in body["detail"]


def test_unknown_ids(client: httpx.Client) -> None:
    nobody = str(uuid.uuid4())
    # Open WebUI answers 400 "We could not find..." for users, 404 for groups.
    for method, path, body in (
        ("GET", f"/api/v1/users/{nobody}", None),
        ("GET", f"/api/v1/users/{nobody}/groups", None),
        ("GET", f"/api/v1/users/{nobody}/profile/image", None),
        ("POST", f"/api/v1/users/{nobody}/update", {"role": "user"}),
        ("DELETE", f"/api/v1/users/{nobody}", None),
        ("GET", "/api/v1/users/not-even-a-uuid", None),
        ("GET", "/api/v1/users/%00", None),
    ):
        assert "find" in assert_error(client.request(method, path, json=body), 400)
    for method, path, body in (
        ("GET", f"/api/v1/groups/id/{nobody}", None),
        ("POST", f"/api/v1/groups/id/{nobody}/update", {"name": "x"}),
        ("POST", f"/api/v1/groups/id/{nobody}/users/add", {"user_ids": []}),
        ("POST", f"/api/v1/groups/id/{nobody}/users/remove", {"user_ids": []}),
        ("DELETE", f"/api/v1/groups/id/{nobody}/delete", None),
    ):
        assert_error(client.request(method, path, json=body), 404)


def test_unknown_paths_and_methods(client: httpx.Client) -> None:
    for path in ("/nope", "/api/v1/nope", "/api/v1/users/a/b/c/d", "/api/v1/auths/signin/x"):
        assert assert_error(client.get(path), 404) == "Not Found"
    assert_error(client.delete("/health"), 405)
    assert_error(client.put("/api/v1/auths/signin", json={}), 405)
    assert_error(client.get("/api/v1/auths/signup"), 405)


def _forge(claims: dict[str, Any], secret: str = SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=alg)


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.filterwarnings("ignore:The HMAC key")  # HS512 with our 42-byte test secret
def test_forged_expired_and_odd_tokens(
    daemon: DaemonProc, client: httpx.Client, admin: dict[str, Any]
) -> None:
    now = int(time.time())
    bad_tokens = [
        _forge({"id": admin["id"], "jti": "x"}, secret="another-secret-0123456789abcdef0123"),
        _forge({"id": admin["id"], "jti": "x", "exp": now - 10}),
        _forge({"id": str(uuid.uuid4()), "jti": "x"}),  # no such user
        _forge({"id": 5, "jti": "x"}),
        _forge({"jti": "x"}),
        _forge({"id": admin["id"], "exp": "tomorrow"}),
        _unsigned({"id": admin["id"], "jti": "x"}),  # alg "none"
        jwt.encode({"id": admin["id"]}, SECRET, algorithm="HS512"),
        "sk-" + "0" * 32,  # well-formed but unknown API key
        "sk-",
        "x" * 4000,
        "a.b.c",
    ]
    with tcp(daemon) as c:
        for token in bad_tokens:
            assert_error(c.get("/api/v1/auths/", headers=bearer(token)), 401)
            assert_error(c.get("/api/v1/auths/", headers={"x-api-key": token}), 401)
        # Non-ASCII bytes in the header.
        r = c.get("/api/v1/auths/", headers={"Authorization": b"Bearer \xff\xfe"})
        assert_error(r, 401)
        # A token the daemon signed itself, still valid: accepted (the control).
        good = _forge({"id": admin["id"], "jti": str(uuid.uuid4()), "exp": now + 60})
        assert c.get("/api/v1/auths/", headers=bearer(good)).json()["id"] == admin["id"]


def test_odd_but_valid_text_is_stored_as_given(client: httpx.Client, admin: dict[str, Any]) -> None:
    name = "Zoë \u202e \x01\x7f 🚀 <script>"
    user = add_user(client, admin["token"], name, "odd@example.com", "user")
    assert client.get(f"/api/v1/users/{user['id']}").json()["name"] == name
    r = client.get(f"/api/v1/users/{user['id']}/profile/image")
    assert r.status_code == 200 and "<script>" not in r.text


# ---- text no route can store: NUL and unpaired surrogates (issue 10) ------------------------


def _bad_text(response: httpx.Response, where: str) -> None:
    detail = assert_error(response, 400)
    assert where in detail and "cannot be stored" in detail, detail


def test_nul_in_a_search_query_is_refused(client: httpx.Client) -> None:
    # It used to reach FTS5 (a C string: "unterminated string") and answer 500.
    _bad_text(client.get("/api/v1/chats/search", params={"text": "a\x00b"}), "NUL")
    _bad_text(client.get("/api/v1/chats/search?text=a%00b"), "query string")
    _bad_text(client.get("/api/v1/users/search", params={"query": "\x00"}), "NUL")
    # "%2500" is the text "%00", not a NUL.
    r = client.get("/api/v1/chats/search", params={"text": "a%00b"})
    assert r.status_code == 200 and r.json() == [], r.text


def test_profile_image_may_be_left_out_but_not_null(
    client: httpx.Client, admin: dict[str, Any]
) -> None:
    # null used to reach a NOT NULL column (500); Open WebUI requires a string (422).
    r = client.post("/api/v1/auths/update/profile", json={"name": "c", "profile_image_url": None})
    assert assert_error(r, 422)[0]["loc"] == ["body", "profile_image_url"]
    before = client.get("/api/v1/auths/").json()["profile_image_url"]
    r = client.post("/api/v1/auths/update/profile", json={"name": "Admin"})
    assert r.status_code == 200 and r.json()["profile_image_url"] == before, r.text


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"chat": {"title": "\\ud800"}}', "body.chat.title"),  # the request
        (b'{"chat": {"title": "x\\uDFFF"}}', "body.chat.title"),  # a lone low one, upper case
        (b'{"chat": {"title": "\\ud83d x"}}', "body.chat.title"),  # a high one, unpaired
        (b'{"chat": {"title": "\xed\xa0\x80"}}', "body.chat.title"),  # raw UTF-8 bytes of one
        (b'{"chat": {"title": "a\\u0000b"}}', "body.chat.title"),
        (b'{"chat": {"messages": [{"content": "ok"}, {"content": "\\u0000"}]}}', "[1].content"),
        (b'{"chat": {"\\u0000": 1}}', "a key in body.chat"),
        ('{"chat": {"title": "\ud800"}}'.encode("utf-16-le", "surrogatepass"), "body.chat"),
    ],
    ids=["issue", "low", "high", "raw-bytes", "nul", "nested-nul", "nul-key", "utf-16"],
)
def test_unpaired_surrogates_and_nul_in_bodies_are_refused(
    client: httpx.Client, body: bytes, where: str
) -> None:
    # A lone surrogate used to reach SQLite's UTF-8 encoding: UnicodeEncodeError, 500.
    _bad_text(_raw(client, "/api/v1/chats/new", body), where)


def test_the_guard_covers_every_route(client: httpx.Client, group_id: str) -> None:
    """One mechanism (api.text_guard) for every body, typed or read raw, on any route."""
    for method, path in (
        ("POST", "/api/v1/auths/signin"),
        ("POST", f"/api/v1/groups/id/{group_id}/update"),
        ("POST", "/api/chat/completions"),
        ("POST", "/ollama/v1/chat/completions"),  # reads its body itself
        ("POST", "/openai/some/path"),
        ("GET", "/api/v1/auths/"),  # a body the route does not even read
    ):
        r = client.request(
            method,
            path,
            content=b'{"name": "\\udc00", "model": "m", "messages": []}',
            headers={"content-type": "application/json"},
        )
        _bad_text(r, "body.name")


def test_json_in_a_form_field_is_checked_too(client: httpx.Client) -> None:
    # The upload's `metadata` is JSON in a multipart field, which the guard does not read: a
    # lone surrogate there used to be stored, then fail to serialize in the answer (500).
    files = {"file": ("a.txt", b"hello", "text/plain")}
    for metadata, where in (('{"a": "\\ud800"}', "metadata.a"), ('{"\\u0000": 1}', "metadata")):
        r = client.post(
            "/api/v1/files/", files=files, data={"metadata": metadata}, params={"process": "false"}
        )
        _bad_text(r, where)


def test_odd_but_valid_escapes_are_accepted(client: httpx.Client) -> None:
    # A surrogate pair (what json.dumps writes for 🚀), and the six characters "\u0000" and
    # "\ud800" (an escaped backslash): not bad text.
    body = b'{"chat": {"title": "\\ud83d\\ude80 \\\\u0000 \\\\ud800"}}'
    r = _raw(client, "/api/v1/chats/new", body)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "🚀 \\u0000 \\ud800"
    # Multipart uploads are not read as JSON: a NUL byte in a file is just a byte.
    files = {"file": ("nul.bin", b"a\x00b\\u0000", "application/octet-stream")}
    r = client.post("/api/v1/files/", files=files, params={"process": "false"})
    assert r.status_code == 200, r.text


def test_daemon_log_has_no_traceback(daemon: DaemonProc) -> None:
    """Last in this module: nothing above may have raised inside the daemon."""
    with tcp(daemon) as c:
        assert c.get("/health").status_code == 200
    assert_no_traceback(daemon)
