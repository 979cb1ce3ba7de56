"""Password hashing with argon2id."""

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Accounts created from a local OS identity have no password; no argon2 hash starts with "!".
NO_PASSWORD = "!"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    if hashed == NO_PASSWORD:
        return False
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """Hashing costs 50-100 ms of CPU: run it off the event loop so other requests flow."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(hashed: str, password: str) -> bool:
    return await asyncio.to_thread(verify_password, hashed, password)
