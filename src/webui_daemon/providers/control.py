"""StreamControl: what the reader of a streamed answer tells the lean transport as it reads.

Its own module so that http.py (which builds the client) and transport.py (which obeys the
control) both import it and neither imports the other at module level; no httpx here.
"""

from typing import Any

from webui_daemon.providers.merge import carries_output

# Request extension carrying a StreamControl to the lean transport.
CONTROL_EXTENSION = "webui.control"


class StreamControl:
    """What the reader of a streamed answer tells the lean transport while it reads. An
    object, shared by both ends (httpx copies extension dicts).

    `batch_s`: after each block, leave the socket unread this long (0: read as data comes).
    It is 0 until the reader reports the answer's first output (`shown`), so that token
    never waits; then it is the `batch_s` the control was made with.
    `ended`: the reader has seen the answer's own end (Ollama's `done`, SSE's `[DONE]`);
    closing the body then reads the rest in the background and keeps the connection.
    Other transports (https://, proxies, WEBUI_PROVIDER_TRANSPORT=httpx) ignore it: no
    pauses, a new read as data comes.
    """

    __slots__ = ("_target", "batch_s", "ended")

    def __init__(self, batch_s: float = 0.0) -> None:
        self._target = batch_s
        self.batch_s = 0.0
        self.ended = False

    @property
    def batching(self) -> bool:
        """Whether this answer is read in batches (once its first output is out)."""
        return self._target > 0

    def shown(self, chunks: list[dict[str, Any]]) -> None:
        """The reader is passing these chunks on: batching starts after the first output."""
        if not self.batch_s and any(carries_output(c) for c in chunks):
            self.batch_s = self._target
