"""Wire models of the task routes: running and waiting generations (`webui ps`, stop), the task
settings and the task completions' bodies."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class GenerationOut(BaseModel):
    """One generation on a provider node (webui extension, `GET /api/webui/generations`)."""

    id: str  # a server-side turn's message id, else the scheduler's own id
    user_id: str
    user_name: str
    model: str
    node: str  # host:port
    state: str  # "running" | "queued"
    interactive: bool
    turn: bool  # a server-side turn (stopping it saves what arrived, marked interrupted)
    waited_s: float  # in line before it started (so far, when still queued)
    running_s: float | None = None
    chars: int = 0  # answer text so far
    position: int | None = None  # in line (1: next), when queued


class StopResponse(BaseModel):
    """`POST /api/tasks/stop/{id}`, Open WebUI's shape."""

    status: bool
    message: str


class UsageOut(BaseModel):
    """One user's generations of one model on one UTC day (`GET /api/webui/usage`)."""

    user_id: str
    user_name: str
    day: str
    model: str
    requests: int
    tokens_in: int
    tokens_out: int


class TaskConfigForm(BaseModel):
    """`POST /api/v1/tasks/config/update` (admins): 0.12's TaskConfigForm."""

    TASK_MODEL: str | None
    TASK_MODEL_EXTERNAL: str | None
    TASK_MODEL_PARAMS: dict[str, Any] | None = None
    ENABLE_TITLE_GENERATION: bool
    TITLE_GENERATION_PROMPT_TEMPLATE: str = Field(max_length=100_000)
    IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE: str = Field(max_length=100_000)
    ENABLE_AUTOCOMPLETE_GENERATION: bool
    AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH: int | None = Field(default=None, ge=-1, le=2**31)
    AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE: str = Field(max_length=100_000)
    TAGS_GENERATION_PROMPT_TEMPLATE: str = Field(max_length=100_000)
    FOLLOW_UP_GENERATION_PROMPT_TEMPLATE: str = Field(max_length=100_000)
    ENABLE_FOLLOW_UP_GENERATION: bool
    ENABLE_TAGS_GENERATION: bool
    ENABLE_SEARCH_QUERY_GENERATION: bool
    ENABLE_RETRIEVAL_QUERY_GENERATION: bool
    QUERY_GENERATION_PROMPT_TEMPLATE: str = Field(max_length=100_000)
    TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE: str = Field(max_length=100_000)
    ENABLE_VOICE_MODE_PROMPT: bool
    VOICE_MODE_PROMPT_TEMPLATE: str | None = Field(max_length=100_000)


class TaskForm(BaseModel):
    """The body of a task completion route: the chat's model and messages (the emoji task:
    `prompt`; the queries task: `type`, "web_search" or "retrieval"). Other keys (chat_id,
    ...) are accepted and unused."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(max_length=1000)
    messages: list[dict[str, Any]] = Field(default_factory=list, max_length=100_000)
    prompt: str = Field(default="", max_length=1_000_000)
    type: str | None = Field(default=None, max_length=100)
    chat_id: str | None = Field(default=None, max_length=1000)
