"""JWTs (HS256, claims `id`, `jti`, `iat`, `exp`) and `sk-` API keys, as Open WebUI issues them.

HS256 is an HMAC over two base64url JSON parts (RFC 7519), written here with the standard library:
PyJWT imports the `cryptography` package whenever it is installed (it is, for `mcp`): ~9 MB of the
daemon's idle memory and ~25 ms of its start, for asymmetric algorithms we never use. The tests
check this code against PyJWT both ways (tests/auth/test_tokens.py).
"""

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_API_KEY = re.compile(r"sk-[0-9a-f]{32}")


def parse_duration(text: str) -> float | None:
    """Open WebUI's duration strings ("4w", "1h30m"); "-1" or "" means no expiry."""
    text = text.strip()
    if text in ("-1", "", "0"):
        return None
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        raise ValueError(f"not a duration: {text!r} (use e.g. 4w, 12h, 30m or -1)")
    return sum(float(amount) * _UNITS[unit] for amount, unit in parts)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    jti: str | None
    expires_at: int | None


def issue_token(user_id: str, secret: str, lifetime_s: float | None) -> IssuedToken:
    now = int(time.time())
    jti = str(uuid.uuid4())
    claims: dict[str, Any] = {"id": user_id, "jti": jti, "iat": now}
    expires_at = None if lifetime_s is None else int(now + lifetime_s)
    if expires_at is not None:
        claims["exp"] = expires_at
    return IssuedToken(_encode(claims, secret), jti, expires_at)


_HEADER = {"alg": "HS256", "typ": "JWT"}
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(part: str) -> bytes:
    part = part.removesuffix("==").removesuffix("=")  # padded: accepted, as PyJWT does
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _sign(signing_input: str, secret: str) -> bytes:
    return hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()


def _is_time(value: object) -> bool:
    """A NumericDate: a finite number (JSON's Infinity and NaN parse as floats)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _encode(claims: dict[str, Any], secret: str) -> str:
    header = _b64(json.dumps(_HEADER, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{_b64(_sign(f'{header}.{payload}', secret))}"


def _verified_claims(token: str, secret: str) -> dict[str, Any] | None:
    """The claims of an HS256 token signed with `secret` whose time claims hold now."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        # The signature first: nothing of a token we did not sign is parsed.
        if not hmac.compare_digest(_unb64(parts[2]), _sign(f"{parts[0]}.{parts[1]}", secret)):
            return None
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeError, binascii.Error, RecursionError):
        return None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return None  # "none", another HMAC, anything asymmetric: refused
    if not isinstance(claims, dict):
        return None
    # As PyJWT (no leeway): expired at `exp`; not valid before `nbf`, nor issued in the future.
    now = time.time()
    times = {name: claims[name] for name in ("exp", "nbf", "iat") if name in claims}
    if not all(_is_time(t) for t in times.values()):
        return None
    if "exp" in times and times["exp"] <= now:
        return None
    if any(times[name] > now for name in ("nbf", "iat") if name in times):
        return None
    return claims


def decode_token(token: str, secret: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token we signed; None for anything else."""
    claims = _verified_claims(token, secret)
    if claims is None:
        return None
    user_id = claims.get("id")
    if not isinstance(user_id, str):
        return None
    exp = claims.get("exp")
    jti = claims.get("jti")
    return TokenClaims(
        user_id, jti if isinstance(jti, str) else None, exp if isinstance(exp, int) else None
    )


def new_api_key() -> str:
    return "sk-" + uuid.uuid4().hex


def looks_like_api_key(token: str) -> bool:
    return token.startswith("sk-")


def is_well_formed_api_key(token: str) -> bool:
    return _API_KEY.fullmatch(token) is not None


def new_secret_key() -> str:
    return secrets.token_urlsafe(48)
