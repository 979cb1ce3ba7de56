"""Authentication: signup, signin, tokens, API keys and local (socket peer) identities."""

import logging
import re
import time
import uuid
from dataclasses import replace

from webui_daemon.schemas.auths import AdminConfig, Role
from webui_daemon.security import passwords, tokens
from webui_daemon.security.peer import os_user_name
from webui_daemon.security.permissions import (
    LOCAL_TRUSTED,
    Permissions,
    effective,
    everything,
    merge_defaults,
)
from webui_daemon.security.ratelimit import SlidingWindowLimiter
from webui_daemon.services import errors
from webui_daemon.services.accounts.runtime_config import ConfigService
from webui_daemon.storage.config import ConfigRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.rows import UserRow
from webui_daemon.storage.users import AuthRepo, UserRepo

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
PRIMARY_ADMIN_KEY = "primary_admin_id"
# How long a token's (or a uid's) user is reused without asking the database again.
CACHE_TTL_S = 5.0
CACHE_MAX = 4096


def _normalise_email(email: str) -> str:
    return email.strip().lower()


class AuthService:
    def __init__(
        self,
        db: Database,
        users: UserRepo,
        auth: AuthRepo,
        groups: GroupRepo,
        config_repo: ConfigRepo,
        config: ConfigService,
        *,
        secret: str,
        webui_auth: bool,
        daemon_uid: int,
        local_user_role: Role,
        rate_limiter: SlidingWindowLimiter,
        trust_local_users: bool = False,
    ) -> None:
        self._db = db
        self._users = users
        self._auth = auth
        self._groups = groups
        self._config_repo = config_repo
        self.config = config
        self._secret = secret
        self._webui_auth = webui_auth
        self._daemon_uid = daemon_uid
        self._local_role = local_user_role
        self.trust_local_users = trust_local_users
        self._limiter = rate_limiter
        self._cache: dict[tuple[str, str | int], tuple[float, UserRow]] = {}

    # ---- creating users -------------------------------------------------------------------

    async def _create_user(
        self,
        *,
        name: str,
        email: str,
        password_hash: str,
        role: str,
        profile_image_url: str | None = None,
        os_uid: int | None = None,
        first_user_rule: bool = False,
    ) -> UserRow:
        now = int(time.time())
        user_id = str(uuid.uuid4())
        row = UserRow(
            id=user_id,
            email=email,
            name=name,
            role=role,
            profile_image_url=profile_image_url or f"/api/v1/users/{user_id}/profile/image",
            last_active_at=now,
            created_at=now,
            updated_at=now,
            os_uid=os_uid,
        )
        async with self._db.transaction() as conn:
            if await self._users.email_exists(conn, email):
                raise errors.Conflict(errors.EMAIL_TAKEN)
            await self._users.insert(conn, row, password_hash)
            # First-user rule, checked after the insert so two racing signups cannot both win.
            if first_user_rule and await self._users.count(conn) == 1:
                await self._users.update(conn, user_id, role="admin")
                row = _with_role(row, "admin")
        if first_user_rule and row.role == "admin":
            await self.config.update(enable_signup=False)
        if row.role == "admin" and await self._config_repo.get(PRIMARY_ADMIN_KEY) is None:
            await self._config_repo.set_many({PRIMARY_ADMIN_KEY: row.id})
        log.info("created user %s (%s, role %s)", row.id, row.email, row.role)
        return row

    async def signup(
        self, name: str, email: str, password: str, profile_image_url: str | None
    ) -> UserRow:
        email = _normalise_email(email)
        if not _EMAIL.fullmatch(email):
            raise errors.WebUIError(errors.INVALID_EMAIL)
        has_users = await self._users.count() > 0
        if has_users and (not self.config.current.enable_signup or not self._webui_auth):
            raise errors.Forbidden(errors.ACCESS_PROHIBITED)
        return await self._create_user(
            name=name.strip(),
            email=email,
            password_hash=await passwords.hash_password_async(password),
            role=self.config.current.default_user_role,
            profile_image_url=profile_image_url,
            first_user_rule=True,
        )

    async def add_user(
        self, name: str, email: str, password: str, role: str, profile_image_url: str | None
    ) -> UserRow:
        email = _normalise_email(email)
        if not _EMAIL.fullmatch(email):
            raise errors.WebUIError(errors.INVALID_EMAIL)
        return await self._create_user(
            name=name.strip(),
            email=email,
            password_hash=await passwords.hash_password_async(password),
            role=role,
            profile_image_url=profile_image_url,
        )

    async def ensure_admin_from_env(self, email: str, password: str) -> None:
        """WEBUI_ADMIN_EMAIL / WEBUI_ADMIN_PASSWORD: create that admin when no user exists."""
        if email and password and await self._users.count() == 0:
            await self._create_user(
                name="Admin",
                email=_normalise_email(email),
                password_hash=await passwords.hash_password_async(password),
                role="admin",
            )

    async def local_user(self, uid: int) -> UserRow:
        """The webui user linked to an OS account, created on first contact over the socket."""
        user = await self._users.get_by_os_uid(uid)
        if user is not None:
            return user
        name = os_user_name(uid)
        role = "admin" if uid in (0, self._daemon_uid) else self._local_role
        email = f"{name}@localhost"
        if await self._users.get_by_email(email) is not None:
            email = f"{name}+{uid}@localhost"
        try:
            return await self._create_user(
                name=name,
                email=email,
                password_hash=passwords.NO_PASSWORD,
                role=role,
                os_uid=uid,
            )
        except errors.Conflict:
            # Two first requests from the same account raced; the other one created it.
            user = await self._users.get_by_os_uid(uid)
            if user is None:
                raise
            return user

    # ---- sessions ---------------------------------------------------------------------------

    async def signin(self, email: str, password: str) -> UserRow:
        if not self._webui_auth:
            return await self._no_auth_admin()
        email = _normalise_email(email)
        if not self._limiter.allow(email):
            raise errors.RateLimited(errors.RATE_LIMITED)
        user = await self._users.get_by_email(email)
        hashed = await self._auth.password_hash(user.id) if user else None
        # Verify against a throwaway hash for unknown emails so timing does not reveal them.
        ok = await passwords.verify_password_async(hashed or await _dummy_hash(), password)
        if user is None or hashed is None or not ok:
            raise errors.WebUIError(errors.INVALID_CRED)
        return user

    async def _no_auth_admin(self) -> UserRow:
        """WEBUI_AUTH=False: everyone is admin@localhost (spec 2.5)."""
        user = await self._users.get_by_email("admin@localhost")
        if user is not None:
            return user
        if await self._users.count() > 0:
            raise errors.Forbidden("WEBUI_AUTH=False is only allowed while no users exist.")
        return await self._create_user(
            name="User",
            email="admin@localhost",
            password_hash=await passwords.hash_password_async("admin"),
            role="admin",
        )

    def issue(self, user: UserRow) -> tokens.IssuedToken:
        return tokens.issue_token(user.id, self._secret, self.config.current.token_lifetime_s)

    async def signout(self, token: str | None) -> None:
        if token and not tokens.looks_like_api_key(token):
            claims = tokens.decode_token(token, self._secret)
            if claims is not None and claims.jti:
                await self._auth.revoke(claims.jti, claims.expires_at)
                self.invalidate()

    async def authenticate(self, token: str | None, peer_uid: int | None) -> UserRow:
        """The caller: a token wins; without one, the socket peer's OS account; else 401.

        Answers are kept for CACHE_TTL_S: every request authenticates, and the lookups (two or
        three SQLite round trips) were the largest part of the daemon's time to first token.
        Any change to users, keys, groups or permissions empties the cache (`invalidate`).
        """
        if token:
            key: tuple[str, str | int] = ("token", token)
        elif peer_uid is not None:
            key = ("uid", peer_uid)
        else:
            raise errors.Unauthorized(errors.NOT_AUTHENTICATED)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        user = await (self._from_token(token) if token else self.local_user(int(key[1])))
        if len(self._cache) >= CACHE_MAX:
            self._cache.clear()
        self._cache[key] = (now + CACHE_TTL_S, user)
        return user

    def invalidate(self) -> None:
        """Forget cached identities (after any write that could change who may do what)."""
        self._cache.clear()

    async def touch(self, user: UserRow) -> None:
        """Record activity at most once a minute per user."""
        now = int(time.time())
        if user.last_active_at >= now - 60:
            return
        await self._users.touch(user.id)
        fresh = replace(user, last_active_at=now)
        for key, (expires, cached) in list(self._cache.items()):
            if cached.id == user.id:
                self._cache[key] = (expires, fresh)

    async def _from_token(self, token: str) -> UserRow:
        if tokens.looks_like_api_key(token):
            if not self.config.current.enable_api_keys:
                raise errors.Forbidden(errors.API_KEYS_DISABLED)
            user = await self._users.get_by_api_key(token)
            if user is None:
                raise errors.Unauthorized(errors.INVALID_TOKEN)
            await self._check_api_keys_allowed(user)
            return user
        claims = tokens.decode_token(token, self._secret)
        if claims is None or (claims.jti and await self._auth.is_revoked(claims.jti)):
            raise errors.Unauthorized(errors.INVALID_TOKEN)
        user = await self._users.get(claims.user_id)
        if user is None:
            raise errors.Unauthorized(errors.INVALID_TOKEN)
        return user

    def is_trusted_local(self, user: UserRow) -> bool:
        """A plain user known by their uid on the socket, while local users are trusted."""
        return self.trust_local_users and user.os_uid is not None and user.role == "user"

    async def permissions(self, user: UserRow) -> Permissions:
        defaults = self.config.current.default_permissions
        if user.role == "admin":
            return everything(defaults)
        groups = [g.permissions for g in await self._groups.for_user(user.id)]
        if self.is_trusted_local(user):
            groups.append(LOCAL_TRUSTED)
        return effective(defaults, groups)

    # ---- profile, password, API keys ----------------------------------------------------------

    async def update_profile(self, user: UserRow, **fields: str | None) -> UserRow:
        async with self._db.transaction() as conn:
            await self._users.update(conn, user.id, **fields)
        self.invalidate()
        updated = await self._users.get(user.id)
        if updated is None:
            raise errors.Unauthorized(errors.INVALID_TOKEN)
        return updated

    async def update_password(self, user: UserRow, password: str, new_password: str) -> None:
        hashed = await self._auth.password_hash(user.id)
        # A local (socket) account has no password yet: its OS identity already proves who it is.
        if hashed != passwords.NO_PASSWORD and not await passwords.verify_password_async(
            hashed or "", password
        ):
            raise errors.WebUIError("Incorrect password")
        new_hash = await passwords.hash_password_async(new_password)
        async with self._db.transaction() as conn:
            await self._auth.set_password(conn, user.id, new_hash)

    async def _check_api_keys_allowed(self, user: UserRow) -> None:
        if not self.config.current.enable_api_keys:
            raise errors.Forbidden(errors.API_KEYS_DISABLED)
        if user.role != "admin" and not (await self.permissions(user))["features"].get(
            "api_keys", False
        ):
            raise errors.Forbidden(errors.API_KEYS_DISABLED)

    async def create_api_key(self, user: UserRow) -> str:
        if user.role == "pending":
            # Not yet approved: a key would outlive the approval it is waiting for.
            raise errors.Forbidden(errors.API_KEY_CREATION_NOT_ALLOWED)
        await self._check_api_keys_allowed(user)
        key = tokens.new_api_key()
        await self._auth.set_api_key(user.id, key)
        self.invalidate()  # the replaced key must stop working at once
        return key

    async def get_api_key(self, user: UserRow) -> str:
        key = await self._auth.api_key(user.id)
        if key is None:
            raise errors.NotFound("API key not found")
        return key

    async def delete_api_key(self, user: UserRow) -> bool:
        deleted = await self._auth.delete_api_key(user.id)
        self.invalidate()
        return deleted

    # ---- admin config ---------------------------------------------------------------------

    def admin_config(self) -> AdminConfig:
        c = self.config.current
        return AdminConfig(
            ENABLE_SIGNUP=c.enable_signup,
            DEFAULT_USER_ROLE=c.default_user_role,
            ENABLE_API_KEYS=c.enable_api_keys,
            JWT_EXPIRES_IN=c.jwt_expires_in,
        )

    async def update_admin_config(self, form: AdminConfig) -> AdminConfig:
        try:
            await self.config.update(
                enable_signup=form.ENABLE_SIGNUP,
                default_user_role=form.DEFAULT_USER_ROLE,
                enable_api_keys=form.ENABLE_API_KEYS,
                jwt_expires_in=form.JWT_EXPIRES_IN,
            )
        except ValueError as exc:
            raise errors.WebUIError(str(exc)) from exc
        self.invalidate()
        return self.admin_config()

    async def set_default_permissions(self, tree: Permissions) -> Permissions:
        merged = merge_defaults(tree)
        await self.config.update(default_permissions=merged)
        self.invalidate()
        return merged

    async def primary_admin_id(self) -> str | None:
        stored = await self._config_repo.get(PRIMARY_ADMIN_KEY)
        if isinstance(stored, str):
            return stored
        first = await self._users.first()
        return first.id if first else None


def _with_role(row: UserRow, role: str) -> UserRow:
    return replace(row, role=role)


_DUMMY_HASH: list[str] = []


async def _dummy_hash() -> str:
    # Built on first use: hashing costs tens of milliseconds we keep out of start-up.
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(await passwords.hash_password_async(uuid.uuid4().hex))
    return _DUMMY_HASH[0]
