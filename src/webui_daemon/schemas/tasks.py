"""Wire models of the task routes: running and waiting generations (`webui ps`, stop)."""

from pydantic import BaseModel


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
