"""Tool calls that wait for their user's yes or no (`params.tool_approval_mode: "ask"`).

Open WebUI 0.12 pauses a saved chat's answer before a call and resumes it when the owner
resolves the call (`POST /api/v1/chats/{id}/messages/{message_id}/resolve`, approve or
reject). Here the answer's tool loop waits in the daemon: the call is streamed with status
"pending" (a `: webui.tool` event), the same route answers it, and no answer within the
timeout is a no. A rejected call gives the model 0.12's error result and the answer goes on.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from webui_daemon.services import errors

# The result the model gets (Open WebUI 0.12's words): the user said no, or nobody answered.
REJECTED = "Error: tool call rejected by user."
NOT_APPROVED = "Error: tool call was not approved."

DEFAULT_APPROVAL_TIMEOUT_S = 300.0


@dataclass(slots=True)
class _Waiting:
    user_id: str
    chat_id: str
    answer: asyncio.Future[bool] = field(default_factory=asyncio.Future)


class Question:
    """One call waiting for its answer; registered when made, so that an answer that comes
    as soon as the client sees the call is not lost."""

    def __init__(
        self,
        waiting: dict[tuple[str, str], _Waiting] | None,
        key: tuple[str, str],
        timeout_s: float,
    ) -> None:
        self._all = waiting
        self._key = key
        self._timeout_s = timeout_s

    async def answer(self) -> bool | None:
        """True (approved), False (rejected), None (nobody answered in time)."""
        waiting = self._all.get(self._key) if self._all is not None else None
        if waiting is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(waiting.answer), self._timeout_s)
        except TimeoutError:
            return None
        finally:
            self.close()

    def close(self) -> None:
        if self._all is not None:
            self._all.pop(self._key, None)


Ask = Callable[[str], Question]


class Approvals:
    """The calls waiting now, by (assistant message id, call id)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._waiting: dict[tuple[str, str], _Waiting] = {}

    def asker(self, user_id: str, chat_id: str | None, message_id: str | None) -> Ask:
        """How one answer's loop asks; an answer that is no saved chat's message has nobody
        to ask (as 0.12 without a browser to ask): every call is not approved."""

        def ask(call_id: str) -> Question:
            if not chat_id or not message_id:
                return Question(None, ("", call_id), 0)
            key = (message_id, call_id)
            self._waiting[key] = _Waiting(user_id, chat_id)
            return Question(self._waiting, key, self.timeout_s)

        return ask

    def resolve(
        self, user_id: str, chat_id: str, message_id: str, call_id: str, *, approve: bool
    ) -> None:
        """The owner's answer to a waiting call; 404 when that call waits for nothing (never
        asked, already answered, timed out), 403 for anyone but the answer's owner."""
        waiting = self._waiting.get((message_id, call_id))
        if waiting is None or waiting.chat_id != chat_id:
            raise errors.NotFound("Tool call not found.")
        if waiting.user_id != user_id:
            raise errors.Forbidden("Only the chat's owner can approve its tool calls.")
        if waiting.answer.done():
            raise errors.Conflict("Tool call has already been resolved.")
        waiting.answer.set_result(approve)
