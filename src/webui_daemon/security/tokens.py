"""JWTs (HS256, claims `id`, `jti`, `iat`, `exp`) and `sk-` API keys, as Open WebUI issues them."""

import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

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
    return IssuedToken(jwt.encode(claims, secret, algorithm="HS256"), jti, expires_at)


def decode_token(token: str, secret: str) -> TokenClaims | None:
    """The claims of a valid, unexpired token we signed; None for anything else."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.PyJWTError:
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
