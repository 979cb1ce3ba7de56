"""Wire models of chat completions (spec 5): the OpenAI body, typed where the daemon reads it.

Every key the daemon reads itself is typed here, so a wrong type is a 422 at the edge instead of
a TypeError deep in retrieval or conversion; every other key is kept as sent (extra="allow")
and passed on to the provider (`ChatCompletionForm.provider_body`).
"""

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

# Keys addressing a chat and its messages (the web UI's persistence, server-side turns).
TURN_KEYS = frozenset(
    {
        "chat_id",
        "id",
        "parent_id",
        "session_id",
        "user_message",
        "parent_message",
        "message_ids",
        "background_tasks",
        "model_item",
    }
)
# Open WebUI extensions handled by the daemon's own steps (params, retrieval, tools, ...).
EXTENSION_KEYS = frozenset(
    {
        "params",
        "files",
        "features",
        "tool_ids",
        "tool_servers",
        "variables",
        "filter_ids",
        "folder_id",
        "terminal_id",
        "skill_ids",
    }
)
# What never reaches the provider.
NOT_SENT = TURN_KEYS | EXTENSION_KEYS


class ImageUrl(BaseModel):
    model_config = ConfigDict(extra="allow")

    url: str


class ContentPart(BaseModel):
    """One part of a message's content: `text`, `image_url`, or another type passed on as is."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None
    image_url: ImageUrl | None = None

    @field_validator("image_url", mode="before")
    @classmethod
    def _bare_url(cls, value: Any) -> Any:
        # Some clients send the URL itself rather than {"url": ...}.
        return {"url": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _complete(self) -> "ContentPart":
        if self.type == "text" and self.text is None:
            raise ValueError("a text part needs `text`")
        if self.type == "image_url" and self.image_url is None:
            raise ValueError("an image_url part needs `image_url`")
        return self


class FunctionCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = ""
    # A JSON string (OpenAI) or an object (Ollama).
    arguments: str | dict[str, Any] | None = None


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    function: FunctionCall = Field(default_factory=FunctionCall)


class ChatMessage(BaseModel):
    """An OpenAI chat message; `content` is text, a list of parts, or null (tool calls)."""

    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None

    def image_urls(self) -> list[str]:
        if not isinstance(self.content, list):
            return []
        return [p.image_url.url for p in self.content if p.image_url is not None]


class RetrievalItem(BaseModel):
    """One entry of `files` (spec 7.4): a file, a collection, pasted text, or a type the daemon
    skips (url, web_search, ...). Open WebUI 0.6's legacy forms use `legacy` and
    `collection_names`."""

    model_config = ConfigDict(extra="allow")

    type: str | None = None
    id: str | None = None
    name: str | None = None
    # "full": whole documents instead of the top k chunks.
    context: str | None = None
    legacy: bool = False
    collection_names: list[str] | None = None
    # The text of a `text` item (other types may carry anything here).
    content: Any = None

    @model_validator(mode="after")
    def _text(self) -> "RetrievalItem":
        if self.type == "text" and not isinstance(self.content, str | None):
            raise ValueError("a text item's `content` must be a string")
        return self


class CompletionFeatures(BaseModel):
    """`features`: what the web UI switched on for this request. `memory` is read here (None:
    the user's own setting decides); the other flags are kept as sent."""

    model_config = ConfigDict(extra="allow")

    memory: bool | None = None


class ChatCompletionForm(BaseModel):
    """`POST /api/chat/completions`: an OpenAI body plus Open WebUI's extensions."""

    model_config = ConfigDict(extra="allow")

    model: str = ""
    messages: list[ChatMessage] = Field(default_factory=list)
    stream: bool = False
    # Ollama's own sampling options (merged into the converted body).
    options: dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    # Open WebUI-style params: `system` is a system-prompt template; the rest fill unset fields.
    params: dict[str, Any] | None = None
    # Retrieval items (spec 7.4), read by the retrieval step.
    files: list[RetrievalItem] | None = None
    # Values for the system prompt's {{VARIABLES}}.
    variables: dict[str, Any] | None = None
    # Per-request switches (`memory`: add the user's memories to the system prompt).
    features: CompletionFeatures | None = None
    # Tool servers the model may use (`server:0`, `server:mcp:files`): the daemon runs the loop.
    tool_ids: list[str] | None = Field(default=None, max_length=64)
    # Chat persistence keys (server-side turns); never sent to the provider.
    chat_id: str | None = None
    id: str | None = None
    parent_id: str | None = None
    session_id: str | None = None
    # The question of a server-side turn, saved into the chat before it is answered.
    user_message: dict[str, Any] | None = None

    @field_validator("model", "messages", "stream", mode="before")
    @classmethod
    def _null_is_unset(cls, value: Any, info: ValidationInfo) -> Any:
        # Some clients send null for what they leave out.
        if value is None:
            return {"model": "", "messages": [], "stream": False}[str(info.field_name)]
        return value

    def provider_body(self) -> dict[str, Any]:
        """The OpenAI body as sent, without the keys the daemon consumes."""
        return self.model_dump(exclude_unset=True, exclude=set(NOT_SENT))


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
