"""Wire models of chat completions (spec 5): the OpenAI body keys the daemon reads itself.

The body is otherwise passed on as sent, so these describe rather than restrict it.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ChatCompletionForm(BaseModel):
    """`POST /api/chat/completions`: an OpenAI body plus Open WebUI's extensions."""

    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[dict[str, Any]] = Field(default_factory=list)
    stream: bool = False
    # Open WebUI-style params: `system` is a system-prompt template; the rest fill unset fields.
    params: dict[str, Any] | None = None
    # Retrieval items (spec 7.4), read by the retrieval step.
    files: list[dict[str, Any]] | None = None
    # Chat persistence keys (server-side turns); never sent to the provider.
    chat_id: str | None = None
    id: str | None = None
    parent_id: str | None = None
    session_id: str | None = None


class ChatCompletionChunk(BaseModel):
    """One `data:` event of a stream (spec 5.2); `choices` is absent on error events."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    object: str = "chat.completion.chunk"
    created: int | None = None
    model: str | None = None
    choices: list[dict[str, Any]] | None = None
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
