"""What every provider shares: a connection, the Provider protocol and the provider errors.

ProviderError                   anything that went wrong talking to an upstream
├── UpstreamStatus              it answered an error status (or an error line) before any token
├── UpstreamUnreachable         no answer: refused, reset, timed out, cut before the first token
└── StreamBroken                the answer stopped in the middle (after the first token)
"""

import json
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Kind = Literal["ollama", "openai"]


class ProviderError(Exception):
    pass


class UpstreamStatus(ProviderError):
    """An error status with its body (raw bytes as received). A 5xx (or an error inside a
    stream, given as 500) whose body blames the request is that 4xx (`refusal_status`): the
    engine refused this request and is not down."""

    def __init__(self, status: int, body: bytes, *, retryable: bool | None = None) -> None:
        if status >= 500:
            status = refusal_status(body) or status
        super().__init__(f"upstream answered {status}")
        self.status = status
        self.body = body
        # A failure of this node rather than of the request: worth trying another node.
        self.retryable = (
            status >= 500 or status in (404, 408, 429) if retryable is None else retryable
        )

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


# How engines say a request does not fit the model's context window: llama.cpp's server
# ("exceeds the available context size", type exceed_context_size_error), llama-cpp-python
# ("Requested tokens (545) exceed context window of 512", sometimes as a 500), OpenAI and vLLM
# ("maximum context length", code context_length_exceeded).
_CONTEXT_WORDS = (
    "context window",
    "context size",
    "context length",
    "context_length_exceeded",
    "exceed_context_size",
)
_REQUEST_TYPES = ("invalid_request_error", "exceed_context_size_error", "not_found_error")


def refusal_status(body: bytes) -> int | None:
    """The 4xx an engine's error document stands for when it blames the request (its own
    `code`, an OpenAI request-error `type`, or a full context window), else None."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    error = doc.get("error") if isinstance(doc, dict) else None
    text = error if isinstance(error, str) else ""
    if isinstance(error, dict):
        code = error.get("code")
        if isinstance(code, int) and 400 <= code < 500:
            return code
        if error.get("type") in _REQUEST_TYPES:
            return 400
        text = f"{error.get('message')} {error.get('type')} {code}"
    lowered = text.lower()
    return 400 if any(words in lowered for words in _CONTEXT_WORDS) else None


class UpstreamUnreachable(ProviderError):
    pass


class StreamBroken(ProviderError):
    pass


@dataclass(frozen=True, slots=True)
class Connection:
    """One configured upstream URL with its per-URL options (OLLAMA/OPENAI_API_CONFIGS)."""

    kind: Kind
    idx: int
    url: str
    key: str = ""
    prefix_id: str = ""
    model_ids: tuple[str, ...] = ()
    tags: tuple[dict[str, Any], ...] = ()
    connection_type: str = "local"
    # Generations this node runs at once (webui's `capacity` connection option); more wait in
    # the fair scheduler's line. 0: no limit.
    capacity: int = 0
    # 0.12's `provider` connection option (e.g. "azure"), named on its OpenAI models.
    provider: str = ""

    @property
    def node(self) -> str:
        """The routing identity of this upstream (health and load are tracked per node)."""
        return f"{self.kind} {self.url}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"} if self.key else {}

    def prefixed(self, name: str) -> str:
        """A model's id as listed here: the upstream's name behind this URL's `prefix_id`."""
        return f"{self.prefix_id}.{name}" if self.prefix_id else name

    def unprefixed(self, name: str) -> str:
        """The upstream's own name for a model id listed here (`prefixed` undone)."""
        prefix = f"{self.prefix_id}." if self.prefix_id else ""
        return name[len(prefix) :] if prefix and name.startswith(prefix) else name


@dataclass(slots=True)
class RawStream:
    """An upstream response relayed as bytes (the /ollama and /openai proxy routes)."""

    status: int
    content_type: str
    first: bytes
    rest: AsyncIterator[bytes]
    close: Any = field(default=None)  # async callable closing the upstream response

    async def aclose(self) -> None:
        if self.close is not None:
            await self.close()


class Provider(Protocol):
    """One upstream technology. Chunks are OpenAI `chat.completion.chunk` dicts."""

    @property
    def kind(self) -> Kind: ...

    async def list_models(self, conn: Connection) -> list[dict[str, Any]]:
        """The upstream's raw model objects (prefix and model_ids applied)."""
        ...

    async def probe(self, conn: Connection, wait_s: float) -> bool:
        """A cheap request telling whether the node answers at all."""
        ...

    def stream_chat(
        self, conn: Connection, body: dict[str, Any], model: str
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Stream an OpenAI-form chat body as OpenAI chunks; `model` is the upstream name.

        Raises UpstreamStatus or UpstreamUnreachable before the first chunk and StreamBroken
        after it; an upstream error event is yielded as `{"error": {...}}`. Closing the
        iterator closes the upstream connection.
        """
        ...

    async def complete_chat(
        self, conn: Connection, body: dict[str, Any], model: str
    ) -> dict[str, Any]:
        """A non-streamed answer as an OpenAI `chat.completion` dict."""
        ...

    async def open_raw(self, conn: Connection, path: str, body: dict[str, Any]) -> RawStream:
        """POST `body` to `path` and relay the answer unchanged (proxy routes)."""
        ...
