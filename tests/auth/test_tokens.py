"""The daemon's HS256 tokens (security/tokens.py, standard library only) against PyJWT, the
library Open WebUI signs and checks its tokens with: each accepts the other's tokens, and both
refuse the same forged, expired, malformed and wrongly signed ones."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from webui_daemon.security.tokens import decode_token, issue_token

SECRET = "t0p-secret-of-the-test-daemon-0123456789abcdef"


def _part(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signed(header: Any, claims: Any, secret: str = SECRET) -> str:
    """A token with any header and claims, signed HS256 with `secret` (what PyJWT won't make)."""
    head, body = _part(header), _part(claims)
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_part(mac)}"


def _pyjwt_accepts(token: str) -> bool:
    try:
        jwt.decode(token, SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    return True


def test_our_tokens_are_pyjwt_tokens() -> None:
    issued = issue_token("user-1", SECRET, 3600)
    claims = jwt.decode(issued.token, SECRET, algorithms=["HS256"])
    assert claims["id"] == "user-1" and claims["jti"] == issued.jti
    assert claims["exp"] == issued.expires_at and abs(claims["iat"] - time.time()) < 5
    assert jwt.get_unverified_header(issued.token) == {"alg": "HS256", "typ": "JWT"}
    # No lifetime: no exp claim, and still valid.
    forever = issue_token("user-1", SECRET, None)
    assert "exp" not in jwt.decode(forever.token, SECRET, algorithms=["HS256"])
    assert decode_token(forever.token, SECRET) is not None


def test_pyjwt_tokens_are_ours() -> None:
    now = int(time.time())
    token = jwt.encode({"id": "u", "jti": "j", "iat": now, "exp": now + 60}, SECRET, "HS256")
    claims = decode_token(token, SECRET)
    assert claims is not None
    assert (claims.user_id, claims.jti, claims.expires_at) == ("u", "j", now + 60)
    # A padded signature (base64url with its '='): PyJWT takes it, so do we.
    padded = jwt.encode({"id": "u"}, SECRET, "HS256") + "="
    assert _pyjwt_accepts(padded) and decode_token(padded, SECRET) is not None


def _bad_tokens() -> dict[str, str]:
    now = int(time.time())
    ok = {"id": "u", "jti": "j"}
    good = jwt.encode(ok, SECRET, "HS256")
    head, body, sig = good.split(".")
    other = _part({**ok, "id": "admin"})
    return {
        "another secret": jwt.encode(ok, "another-secret-0123456789abcdef012345", "HS256"),
        "expired": jwt.encode({**ok, "exp": now - 1}, SECRET, "HS256"),
        "expires now": jwt.encode({**ok, "exp": now}, SECRET, "HS256"),
        "not yet valid (nbf)": jwt.encode({**ok, "nbf": now + 60}, SECRET, "HS256"),
        "issued in the future": jwt.encode({**ok, "iat": now + 60}, SECRET, "HS256"),
        "exp not a number": _signed({"alg": "HS256"}, {**ok, "exp": "tomorrow"}),
        "exp null": _signed({"alg": "HS256"}, {**ok, "exp": None}),
        "exp Infinity": _signed({"alg": "HS256"}, b'{"id":"u","exp":Infinity}'),
        "iat a list": _signed({"alg": "HS256"}, {**ok, "iat": [1]}),
        "alg none": f"{_part({'alg': 'none'})}.{body}.",
        "alg none, our signature": f"{_part({'alg': 'none'})}.{body}.{sig}",
        "HS512": jwt.encode(ok, SECRET + "-long-enough-for-hs512-0123456789", "HS512"),
        "HS256 header says HS512": _signed({"alg": "HS512"}, ok),
        "no alg": _signed({"typ": "JWT"}, ok),
        "header not an object": _signed(["HS256"], ok),
        "claims not an object": _signed({"alg": "HS256"}, ["u"]),
        "claims not JSON": _signed({"alg": "HS256"}, b"not json"),
        "claims not UTF-8": _signed({"alg": "HS256"}, b"\xff\xfe"),
        "payload swapped": f"{head}.{other}.{sig}",
        "signature cut": f"{head}.{body}.{sig[:-2]}",
        "signature empty": f"{head}.{body}.",
        "not base64url": f"{head}.{body}.{sig[:-1]}+",
        "two parts": f"{head}.{body}",
        "four parts": f"{good}.{sig}",
        "empty": "",
        "dots": "...",
        "a.b.c": "a.b.c",
    }


@pytest.mark.filterwarnings("ignore:The HMAC key")
@pytest.mark.parametrize("case", list(_bad_tokens()))
def test_both_refuse_the_same_tokens(case: str) -> None:
    token = _bad_tokens()[case]
    assert decode_token(token, SECRET) is None
    assert not _pyjwt_accepts(token)


def test_refused_without_being_parsed() -> None:
    """JSON nested beyond the recursion limit, signed: refused, not a crash (and unsigned, never
    parsed at all)."""
    deep = b"[" * 100_000 + b"]" * 100_000
    assert decode_token(_signed({"alg": "HS256"}, deep), SECRET) is None
    assert decode_token(_signed(deep, {"id": "u"}), SECRET) is None
    assert decode_token(_signed(deep, {"id": "u"}, secret="x" * 40), SECRET) is None


def test_claims_the_daemon_needs() -> None:
    # A valid signature is not enough: the user id must be a string.
    for claims in ({"id": 5}, {"jti": "j"}, {"id": None}):
        assert decode_token(_signed({"alg": "HS256", "typ": "JWT"}, claims), SECRET) is None
    # Odd but valid: no typ, float exp in the future, extra claims.
    token = _signed({"alg": "HS256"}, {"id": "u", "exp": time.time() + 60.5, "role": "x"})
    claims = decode_token(token, SECRET)
    assert claims is not None and claims.user_id == "u" and claims.expires_at is None
