"""Admin-editable settings: environment defaults overlaid by values saved in the database.

Only values an admin (or the first-signup rule) changed are stored, so an environment variable
keeps working until someone overrides it through the API.
"""

from dataclasses import dataclass, field, fields
from typing import Any

from webui_daemon.security.permissions import Permissions, merge_defaults
from webui_daemon.security.tokens import parse_duration
from webui_daemon.storage.config import ConfigRepo

_PREFIX = "auth."


@dataclass(slots=True)
class RuntimeConfig:
    enable_signup: bool
    default_user_role: str
    enable_api_keys: bool
    jwt_expires_in: str
    default_permissions: Permissions = field(default_factory=lambda: merge_defaults(None))

    @property
    def token_lifetime_s(self) -> float | None:
        return parse_duration(self.jwt_expires_in)


class ConfigService:
    def __init__(self, repo: ConfigRepo, defaults: RuntimeConfig) -> None:
        self._repo = repo
        self.current = defaults

    async def load(self) -> None:
        stored = await self._repo.all()
        for f in fields(RuntimeConfig):
            key = _PREFIX + f.name
            if key in stored:
                value = stored[key]
                if f.name == "default_permissions":
                    value = merge_defaults(value)
                setattr(self.current, f.name, value)

    async def update(self, **values: Any) -> RuntimeConfig:
        if "jwt_expires_in" in values:
            parse_duration(str(values["jwt_expires_in"]))  # raises ValueError on a bad string
        await self._repo.set_many({_PREFIX + k: v for k, v in values.items()})
        for key, value in values.items():
            setattr(self.current, key, value)
        return self.current
