"""Server-side turns: the daemon streams an answer into a chat, keeps it when clients leave.

A turn is one assistant message being generated. It runs in its own task, so the answer keeps
streaming into the database when the client that asked for it disconnects; any client can
re-attach and receive what was generated so far followed by the live tokens. Stopping a turn
(or stopping the daemon) cancels the upstream request and saves what arrived, marked
`interrupted`; a turn that fails before its first token is saved with its error. A daemon that
was killed mid-answer finishes those answers the same way when it starts again (`recover`).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, Protocol

from pydantic import ValidationError

from webui_daemon.schemas.completions import ChatCompletionForm, ChatMessage
from webui_daemon.schemas.tools import TOOL_KEY
from webui_daemon.services import errors
from webui_daemon.services.chats.chats import DEFAULT_TITLE, is_temporary
from webui_daemon.services.completions.answers import Answer
from webui_daemon.services.scheduling.queue import QUEUE_KEY
from webui_daemon.services.turns.turn_state import (
    Turn,
    TurnEvent,
    absorb,
    absorb_tool_item,
    closing_chunk,
    error_content,
    turn_reply,
)
from webui_daemon.services.turns.turn_text import (
    TITLE_PROMPT,
    parse_title,
    reply_text,
    wire_messages,
)
from webui_daemon.storage.chats import ChatRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.rows import ChatRow, UserRow

__all__ = ["Subscription", "Turn", "TurnEvent", "TurnManager", "turn_reply"]

log = logging.getLogger(__name__)

# Content is written to the chat at most this often, or every FLUSH_TOKENS chunks: often
# enough that a crash loses little, rarely enough that a long answer costs few writes.
FLUSH_INTERVAL_S = 0.25
FLUSH_TOKENS = 64
BAD_HISTORY = "The chat holds a message that cannot be sent to a model."


class ChatStore(Protocol):
    """What turns need of the chats service."""

    async def add_message(
        self, user_id: str, chat_id: str, message: dict[str, Any], *, set_current: bool = True
    ) -> None: ...

    async def update_message(
        self, chat_id: str, message_id: str, fields: dict[str, Any]
    ) -> None: ...

    async def set_title(self, chat_id: str, title: str) -> None: ...

    async def message_path(
        self, user_id: str, chat_id: str, leaf_id: str
    ) -> list[dict[str, Any]]: ...


class Completer(Protocol):
    """What turns need of the answer service."""

    async def prepare(
        self,
        user: UserRow,
        form: ChatCompletionForm,
        *,
        interactive: bool = True,
        memory: bool = True,
    ) -> Answer: ...

    def stream(self, answer: Answer) -> AsyncGenerator[dict[str, Any], None]: ...

    async def complete(self, answer: Answer) -> dict[str, Any]: ...


def _assistant_message(message_id: str, parent_id: str | None, model: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "parentId": parent_id,
        "childrenIds": [],
        "role": "assistant",
        "content": "",
        "model": model,
        "modelName": model,
        "modelIdx": 0,
        "timestamp": int(time.time()),
        "done": False,
    }


class TurnManager:
    def __init__(
        self,
        chats: ChatStore,
        completions: Completer,
        rows: ChatRepo,
        db: Database,
        *,
        title_generation: bool = True,
        task_model: str = "",
        on_title: Callable[[str, str], None] | None = None,
    ) -> None:
        self._chats = chats
        self._completions = completions
        # Chat rows without their messages: what a turn reads of its chat (owner, current
        # message, system prompt, title), and the unfinished answers `recover` finds.
        self._rows = rows
        self._db = db
        self._title_generation = title_generation
        self._task_model = task_model
        self._on_title = on_title
        self._turns: dict[str, Turn] = {}
        self._background: set[asyncio.Task[None]] = set()

    # ---- starting ---------------------------------------------------------------------------

    async def chat_for(self, user: UserRow, form: ChatCompletionForm) -> ChatRow | None:
        """The saved chat a completion is a server-side turn of, or None: the body names no
        chat and assistant message id, a temporary chat, or a chat the caller does not have.
        Open WebUI 0.6 ignored ids of chats it did not know on API calls and just answered;
        so do we."""
        if not form.chat_id or not form.id or is_temporary(form.chat_id):
            return None
        return await self._rows.get(form.chat_id, user.id)

    async def start(
        self, user: UserRow, form: ChatCompletionForm, chat: ChatRow, *, interactive: bool = True
    ) -> tuple[Turn, "Subscription"]:
        """Save the question, create the assistant message, start generating, and subscribe
        the caller. A failure before generation starts is saved in the assistant message too."""
        message_id = form.id
        if not message_id:
            raise errors.WebUIError("A turn needs the assistant message's id.")
        existing = self._turns.get(message_id)
        if existing is not None and existing.status == "running":
            raise errors.Conflict("That message is already being generated.")
        parent_id = form.parent_id
        asked = form.user_message
        if asked is not None and asked.get("id"):
            await self._chats.add_message(user.id, chat.id, asked)
            parent_id = parent_id or str(asked["id"])
        parent_id = parent_id or chat.current_id
        if not form.messages and not parent_id:
            raise errors.WebUIError("The chat has no message to answer.")
        try:
            if not form.messages and parent_id:
                history = await self._history(user, chat, parent_id)
                form = form.model_copy(update={"messages": history})
            answer = await self._completions.prepare(user, form, interactive=interactive)
            answer.prepared.task_id = message_id  # `webui ps` and stop name the turn by it
        except Exception as exc:
            await self._save_failure(user, chat.id, message_id, parent_id, form.model, exc)
            raise
        model = form.model
        await self._chats.add_message(
            user.id, chat.id, _assistant_message(message_id, parent_id, model)
        )
        turn = Turn(user_id=user.id, chat_id=chat.id, message_id=message_id, model=model)
        subscription = Subscription(self, turn, with_snapshot=False)
        self._turns[message_id] = turn
        turn.task = asyncio.create_task(self._run(turn, user, answer), name=f"turn-{message_id}")
        return turn, subscription

    async def _history(self, user: UserRow, chat: ChatRow, parent_id: str) -> list[ChatMessage]:
        """The branch ending at `parent_id` as the messages to send, after the chat's own
        system prompt."""
        path = await self._chats.message_path(user.id, chat.id, parent_id)
        wire = [w for m in path for w in wire_messages(m)]
        system = chat.document.get("system")
        if isinstance(system, str) and system.strip():
            wire.insert(0, {"role": "system", "content": system})
        try:
            return [ChatMessage.model_validate(m) for m in wire]
        except ValidationError:
            raise errors.WebUIError(BAD_HISTORY) from None

    async def _save_failure(
        self,
        user: UserRow,
        chat_id: str,
        message_id: str,
        parent_id: str | None,
        model: str,
        exc: Exception,
    ) -> None:
        """A turn that failed before it started (unknown model, bad input, ...): the assistant
        message is saved with the error, as a failure after the first token is."""
        detail = exc.detail if isinstance(exc, errors.WebUIError) else f"Generation failed: {exc}"
        message = _assistant_message(message_id, parent_id, model)
        message.update(done=True, error={"content": detail})
        try:
            await self._chats.add_message(user.id, chat_id, message)
        except Exception as saving:
            log.warning("could not save the failure of turn %s: %s", message_id, saving)

    # ---- running ----------------------------------------------------------------------------

    async def _run(self, turn: Turn, user: UserRow, answer: Answer) -> None:
        stream = self._completions.stream(answer)
        loop = asyncio.get_running_loop()
        last_flush, pending = loop.time(), 0
        try:
            async for chunk in stream:
                if QUEUE_KEY in chunk:  # waiting for a busy node: told to clients, not saved
                    turn.publish(TurnEvent("chunk", chunk))
                    continue
                if TOOL_KEY in chunk:  # a tool call or result: saved at once, told to clients
                    absorb_tool_item(turn, chunk[TOOL_KEY])
                    turn.publish(TurnEvent("chunk", chunk))
                    await self._chats.update_message(
                        turn.chat_id, turn.message_id, {"content": turn.text, "output": turn.output}
                    )
                    continue
                if "error" in chunk and "choices" not in chunk:
                    turn.error = error_content(chunk["error"])
                    turn.status = "error"
                    turn.publish(TurnEvent("chunk", chunk))
                    break
                absorb(turn, chunk)
                turn.publish(TurnEvent("chunk", chunk))
                pending += 1
                if pending >= FLUSH_TOKENS or loop.time() - last_flush >= FLUSH_INTERVAL_S:
                    await self._chats.update_message(
                        turn.chat_id, turn.message_id, {"content": turn.text}
                    )
                    last_flush, pending = loop.time(), 0
            else:
                turn.status = "done"
        except asyncio.CancelledError:
            turn.status = "interrupted"
        except errors.WebUIError as exc:
            turn.status = "error"
            turn.error = {"content": exc.detail}
            turn.failure = exc
            if not turn.content:
                turn.publish(TurnEvent("failed", error=exc))
        except Exception as exc:  # the answer so far must still be saved
            log.exception("turn %s failed", turn.message_id)
            turn.status = "error"
            turn.error = {"content": f"Generation failed: {exc}"}
        finally:
            with contextlib.suppress(Exception):
                await stream.aclose()
        # Saving must finish even when the daemon is stopping and cancels us again.
        save = asyncio.ensure_future(self._save_final(turn))
        try:
            await asyncio.shield(save)
        except asyncio.CancelledError:
            await save
        finally:
            if turn.status == "interrupted":
                turn.publish(TurnEvent("chunk", closing_chunk(turn)))
            turn.publish(TurnEvent("end"))
            turn.finished.set()
            self._turns.pop(turn.message_id, None)
        if turn.status == "done" and self._title_generation:
            self._spawn(self._maybe_title(turn, user))

    async def _save_final(self, turn: Turn) -> None:
        fields: dict[str, Any] = {"content": turn.text, "done": True}
        if turn.reasoning:
            fields["reasoning_content"] = "".join(turn.reasoning)
        if turn.usage is not None:
            fields["usage"] = turn.usage
        if turn.sources:
            fields["sources"] = turn.sources
        if turn.output:
            fields["output"] = turn.output
        if turn.status == "interrupted":
            fields["interrupted"] = True
        if turn.error is not None:
            fields["error"] = turn.error
        try:
            await self._chats.update_message(turn.chat_id, turn.message_id, fields)
        except Exception:
            log.exception("could not save turn %s", turn.message_id)

    # ---- titles -----------------------------------------------------------------------------

    async def _maybe_title(self, turn: Turn, user: UserRow) -> None:
        """After the first exchange of a chat still called "New Chat", ask for a title."""
        try:
            chat = await self._rows.get(turn.chat_id, user.id)
            if chat is None or chat.title not in ("", DEFAULT_TITLE):
                return
            path = await self._chats.message_path(user.id, turn.chat_id, turn.message_id)
            if len(path) != 2:
                return
            prompt = TITLE_PROMPT.format(
                transcript="\n".join(f"{m.get('role')}: {m.get('content', '')}" for m in path)
            )
            form = ChatCompletionForm.model_validate(
                {
                    "model": self._task_model or turn.model,
                    "messages": [{"role": "user", "content": prompt}],
                    "stream": False,
                    "max_tokens": 50,
                }
            )
            prepared = await self._completions.prepare(user, form, memory=False)
            reply = await self._completions.complete(prepared)
            title = parse_title(reply_text(reply))
            if title:
                await self._chats.set_title(turn.chat_id, title)
                if self._on_title is not None:
                    self._on_title(turn.chat_id, title)
        except errors.WebUIError as exc:  # the provider refused or failed: expected, one line
            log.warning("title generation failed for chat %s: %s", turn.chat_id, exc.detail)
        except Exception:
            log.warning("title generation failed for chat %s", turn.chat_id, exc_info=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- control ----------------------------------------------------------------------------

    def running(self, user_id: str, chat_id: str | None = None) -> list[Turn]:
        return [
            t
            for t in self._turns.values()
            if t.user_id == user_id and (chat_id is None or t.chat_id == chat_id)
        ]

    def active_chats(self, user_id: str) -> set[str]:
        """The user's chats with a reply being generated now (0.12's `active`)."""
        return {
            t.chat_id
            for t in self._turns.values()
            if t.user_id == user_id and t.status == "running"
        }

    def get(self, user_id: str, message_id: str) -> Turn | None:
        turn = self._turns.get(message_id)
        return turn if turn is not None and turn.user_id == user_id else None

    def subscribe(self, turn: Turn) -> "Subscription":
        return Subscription(self, turn, with_snapshot=True)

    async def stop(self, turn: Turn) -> None:
        """Cancel the upstream request now and wait until what arrived is saved."""
        turn.stop_requested = True
        if turn.task is not None and not turn.task.done():
            turn.task.cancel()
        await turn.finished.wait()

    async def recover(self) -> int:
        """Start-up: finish the answers a previous run left unfinished (it was killed, so it
        could not save them as `shutdown` does), as `shutdown` would have: done, interrupted,
        with the text saved so far. Clients, re-attach and stop then all see a finished
        message. Runs before the daemon serves, so no live turn is among them; a failure is
        logged and does not keep the daemon from starting."""
        try:
            async with self._db.transaction() as conn:
                finished = await self._rows.finish_unfinished(conn)
        except Exception:
            log.exception("could not finish the answers a previous run left unfinished")
            return 0
        if finished:
            log.warning(
                "%d answers of a previous run were left unfinished; saved as interrupted",
                len(finished),
            )
        return len(finished)

    async def shutdown(self) -> None:
        """Daemon stopping: interrupt every running turn and save what each has."""
        turns = list(self._turns.values())
        for turn in turns:
            if turn.task is not None:
                turn.task.cancel()
        await asyncio.gather(*(t.finished.wait() for t in turns), return_exceptions=True)
        for task in list(self._background):
            task.cancel()


class Subscription:
    """One client's view of a turn: an async iterator of TurnEvents ending with "end"."""

    def __init__(self, manager: TurnManager, turn: Turn, *, with_snapshot: bool) -> None:
        self.turn = turn
        self._queue: asyncio.Queue[TurnEvent] = asyncio.Queue()
        # Snapshot and registration happen with no await between them, so no chunk is
        # missed or repeated.
        if with_snapshot:
            for chunk in turn.snapshot_chunks():
                self._queue.put_nowait(TurnEvent("chunk", chunk))
        if turn.finished.is_set():
            self._queue.put_nowait(TurnEvent("end"))
        else:
            turn.subscribers.append(self._queue)

    async def next(self) -> TurnEvent:
        return await self._queue.get()

    async def events(self) -> AsyncIterator[TurnEvent]:
        try:
            while True:
                event = await self._queue.get()
                yield event
                if event.kind in ("end", "failed"):
                    return
        finally:
            self.close()

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.turn.subscribers.remove(self._queue)
