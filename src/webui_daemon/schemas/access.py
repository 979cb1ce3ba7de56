"""Open WebUI 0.12's access grant, the sharing form of every workspace record."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AccessGrant(BaseModel):
    """`principal_id` "*" with type "user" means everyone; a write grant also allows reading.
    Extra keys (0.12 answers carry `id`) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    principal_type: Literal["user", "group"]
    principal_id: str = Field(min_length=1)
    permission: Literal["read", "write"] = "read"
