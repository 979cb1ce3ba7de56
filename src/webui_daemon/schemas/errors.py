"""The error body of every route (Open WebUI's): `{"detail": "..."}`; 422 keeps FastAPI's list."""

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    detail: str
