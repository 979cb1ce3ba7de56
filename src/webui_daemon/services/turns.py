"""Server-side turns: the daemon streams an answer into a chat, keeps it when clients leave.

A turn is one assistant message being generated. It runs in its own task, so the answer keeps
streaming into the database when the client that asked for it disconnects; any client can
re-attach and receive what was generated so far followed by the live tokens. Stopping a turn
(or stopping the daemon) cancels the upstream request and saves what arrived, marked
`interrupted`.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from webui_daemon.services import errors
from webui_daemon.services.turn_state import (
    Turn,
    TurnEvent,
    absorb,
    closing_chunk,
    error_content,
    turn_reply,
)
from webui_daemon.services.turn_text import (
    TITLE_PROMPT,
    chat_document,
    chat_title,
    current_id,
    parse_title,
    reply_text,
    wire_message,
)
from webui_daemon.storage.rows import UserRow

__all__ = ["Subscription", "Turn", "TurnEvent", "TurnManager", "is_turn_request", "turn_reply"]

log = logging.getLogger(__name__)

# Content is written to the chat at most this often, or every FLUSH_TOKENS chunks: often
# enough that a crash loses little, rarely enough that a long answer costs few writes.
FLUSH_INTERVAL_S = 0.25
FLUSH_TOKENS = 64
# Keys of a completion body that address the chat, never sent upstream.
TURN_KEYS = ("chat_id", "id", "parent_id", "user_message", "session_id", "message_ids")


class ChatStore(Protocol):
    """What turns need of the chats service."""

    async def get(self, user_id: str, chat_id: str) -> Any: ...

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
    """What turns need of the completion service."""

    async def prepare(self, user: UserRow, body: dict[str, Any]) -> Any: ...

    def stream(self, prepared: Any) -> AsyncIterator[dict[str, Any]]: ...

    async def complete(self, prepared: Any) -> dict[str, Any]: ...


def split_turn_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Remove and return the chat-addressing keys of a completion body."""
    return {key: body.pop(key) for key in TURN_KEYS if key in body}


def is_turn_request(body: dict[str, Any]) -> bool:
    """A completion names a saved chat and an assistant message id (not a temporary chat)."""
    chat_id, message_id = body.get("chat_id"), body.get("id")
    return (
        isinstance(chat_id, str)
        and isinstance(message_id, str)
        and bool(chat_id)
        and bool(message_id)
        and not chat_id.startswith(("local:", "temporary:"))
    )


class TurnManager:
    def __init__(
        self,
        chats: ChatStore,
        completions: Completer,
        *,
        title_generation: bool = True,
        task_model: str = "",
        on_title: Callable[[str, str], None] | None = None,
    ) -> None:
        self._chats = chats
        self._completions = completions
        self._title_generation = title_generation
        self._task_model = task_model
        self._on_title = on_title
        self._turns: dict[str, Turn] = {}
        self._background: set[asyncio.Task[None]] = set()

    # ---- starting ---------------------------------------------------------------------------

    async def owns_chat(self, user: UserRow, chat_id: str) -> bool:
        """Whether the caller has this saved chat. Open WebUI 0.6 ignored ids of chats it did
        not know on API calls and just answered; so do we (see is_turn_request's caller)."""
        try:
            await self._chats.get(user.id, chat_id)
        except (errors.Unauthorized, errors.NotFound):
            return False
        return True

    async def start(self, user: UserRow, body: dict[str, Any]) -> tuple[Turn, "Subscription"]:
        """Create the assistant message, start generating, and subscribe the caller."""
        fields = split_turn_fields(body)
        chat_id, message_id = str(fields["chat_id"]), str(fields["id"])
        existing = self._turns.get(message_id)
        if existing is not None and existing.status == "running":
            raise errors.Conflict("That message is already being generated.")
        chat = await self._chats.get(user.id, chat_id)
        parent_id = fields.get("parent_id")
        user_message = fields.get("user_message")
        if isinstance(user_message, dict) and user_message.get("id"):
            await self._chats.add_message(user.id, chat_id, user_message)
            parent_id = parent_id or user_message["id"]
        if not parent_id:
            parent_id = current_id(chat)
        if not body.get("messages"):
            if not parent_id:
                raise errors.WebUIError("The chat has no message to answer.")
            path = await self._chats.message_path(user.id, chat_id, str(parent_id))
            body["messages"] = [wire_message(m) for m in path]
            system = chat_document(chat).get("system")
            if isinstance(system, str) and system.strip():
                body["messages"].insert(0, {"role": "system", "content": system})
        prepared = await self._completions.prepare(user, body)
        model = str(body.get("model", ""))
        await self._chats.add_message(
            user.id,
            chat_id,
            {
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
            },
        )
        turn = Turn(user_id=user.id, chat_id=chat_id, message_id=message_id, model=model)
        subscription = Subscription(self, turn, with_snapshot=False)
        self._turns[message_id] = turn
        turn.task = asyncio.create_task(self._run(turn, user, prepared), name=f"turn-{message_id}")
        return turn, subscription

    # ---- running ----------------------------------------------------------------------------

    async def _run(self, turn: Turn, user: UserRow, prepared: Any) -> None:
        stream = self._completions.stream(prepared)
        loop = asyncio.get_running_loop()
        last_flush, pending = loop.time(), 0
        try:
            async for chunk in stream:
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
                await stream.aclose()  # type: ignore[attr-defined]
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
            chat = await self._chats.get(user.id, turn.chat_id)
            if chat_title(chat) not in ("", "New Chat"):
                return
            path = await self._chats.message_path(user.id, turn.chat_id, turn.message_id)
            if len(path) != 2:
                return
            prompt = TITLE_PROMPT.format(
                transcript="\n".join(f"{m.get('role')}: {m.get('content', '')}" for m in path)
            )
            body = {
                "model": self._task_model or turn.model,
                "messages": [{"role": "user", "content": prompt}],
                "stream": False,
                "max_tokens": 50,
            }
            reply = await self._completions.complete(await self._completions.prepare(user, body))
            title = parse_title(reply_text(reply))
            if title:
                await self._chats.set_title(turn.chat_id, title)
                if self._on_title is not None:
                    self._on_title(turn.chat_id, title)
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
        if with_snapshot and (turn.content or turn.reasoning):
            self._queue.put_nowait(TurnEvent("chunk", turn.snapshot_chunk()))
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
