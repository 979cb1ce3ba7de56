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
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from webui_daemon.services import errors
from webui_daemon.storage.rows import UserRow

log = logging.getLogger(__name__)

# Content is written to the chat at most this often, or every FLUSH_TOKENS chunks: often
# enough that a crash loses little, rarely enough that a long answer costs few writes.
FLUSH_INTERVAL_S = 0.25
FLUSH_TOKENS = 64
# Keys of a completion body that address the chat, never sent upstream.
TURN_KEYS = ("chat_id", "id", "parent_id", "user_message", "session_id", "message_ids")

TurnStatus = Literal["running", "done", "interrupted", "error"]


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


@dataclass(frozen=True, slots=True)
class TurnEvent:
    """One item a subscriber receives: a chunk, a failure before any token, or the end."""

    kind: Literal["chunk", "failed", "end"]
    chunk: dict[str, Any] | None = None
    error: errors.WebUIError | None = None


@dataclass(eq=False)
class Turn:
    user_id: str
    chat_id: str
    message_id: str
    model: str
    started_at: float = field(default_factory=time.time)
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    sources: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    status: TurnStatus = "running"
    error: dict[str, Any] | None = None
    # The provider's refusal when it failed before any token (its status goes to the caller).
    failure: errors.WebUIError | None = None
    chunk_id: str | None = None
    subscribers: list[asyncio.Queue[TurnEvent]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    stop_requested: bool = False

    @property
    def text(self) -> str:
        return "".join(self.content)

    def snapshot_chunk(self) -> dict[str, Any]:
        """What a re-attaching client receives first: everything so far, as one chunk."""
        delta: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.reasoning:
            delta["reasoning_content"] = "".join(self.reasoning)
        return {
            "id": self.chunk_id or f"chatcmpl-{self.message_id}",
            "object": "chat.completion.chunk",
            "created": int(self.started_at),
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
        }

    def publish(self, event: TurnEvent) -> None:
        for queue in self.subscribers:
            queue.put_nowait(event)


def turn_reply(turn: Turn) -> dict[str, Any]:
    """A finished turn as a chat.completion object (non-streaming callers)."""
    message: dict[str, Any] = {"role": "assistant", "content": turn.text}
    if turn.reasoning:
        message["reasoning_content"] = "".join(turn.reasoning)
    reply: dict[str, Any] = {
        "id": turn.chunk_id or f"chatcmpl-{turn.message_id}",
        "object": "chat.completion",
        "created": int(turn.started_at),
        "model": turn.model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": turn.finish_reason or "stop"}
        ],
    }
    if turn.usage is not None:
        reply["usage"] = turn.usage
    if turn.sources:
        reply["sources"] = turn.sources
    if turn.error is not None:
        reply["error"] = {"message": turn.error.get("content", "")}
    return reply


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
            parent_id = _current_id(chat)
        if not body.get("messages"):
            if not parent_id:
                raise errors.WebUIError("The chat has no message to answer.")
            path = await self._chats.message_path(user.id, chat_id, str(parent_id))
            body["messages"] = [_wire_message(m) for m in path]
            system = _doc(chat).get("system")
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
                    turn.error = _error_content(chunk["error"])
                    turn.status = "error"
                    turn.publish(TurnEvent("chunk", chunk))
                    break
                _absorb(turn, chunk)
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
            if _title(chat) not in ("", "New Chat"):
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
            title = parse_title(_reply_text(reply))
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


# ---- helpers ----------------------------------------------------------------------------------

TITLE_PROMPT = (
    "Write a concise title of 3 to 5 words for the conversation below, in its language. "
    'Answer with JSON only: {{"title": "..."}}\n\n{transcript}'
)


def parse_title(text: str) -> str:
    """The title from a task model's reply: JSON {"title": ...} or its first line, tidied."""
    import json

    text = text.strip()
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        with contextlib.suppress(ValueError):
            value = json.loads(text[start : end + 1]).get("title")
            if isinstance(value, str):
                text = value
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = line.strip().strip("\"'`*#").strip()
    return line[:80]


def _absorb(turn: Turn, chunk: dict[str, Any]) -> None:
    turn.chunk_id = turn.chunk_id or chunk.get("id")
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") or {}
        if delta.get("content"):
            turn.content.append(str(delta["content"]))
        if delta.get("reasoning_content"):
            turn.reasoning.append(str(delta["reasoning_content"]))
        if choice.get("finish_reason"):
            turn.finish_reason = str(choice["finish_reason"])
    if chunk.get("usage"):
        turn.usage = chunk["usage"]
    if isinstance(chunk.get("sources"), list):
        turn.sources = chunk["sources"]


def _error_content(error: Any) -> dict[str, Any]:
    if isinstance(error, dict):
        return {"content": str(error.get("message") or error.get("detail") or error)}
    return {"content": str(error)}


def _wire_message(message: dict[str, Any]) -> dict[str, Any]:
    """A stored chat message as an OpenAI message (role and content only)."""
    return {"role": message.get("role", "user"), "content": message.get("content", "")}


def _reply_text(reply: dict[str, Any]) -> str:
    choices = reply.get("choices") or [{}]
    return str((choices[0].get("message") or {}).get("content") or "")


def _doc(chat: Any) -> dict[str, Any]:
    document = getattr(chat, "chat", None)
    if document is None and isinstance(chat, dict):
        document = chat.get("chat")
    return document if isinstance(document, dict) else {}


def _current_id(chat: Any) -> str | None:
    history = _doc(chat).get("history") or {}
    current = history.get("currentId")
    return str(current) if current else None


def _title(chat: Any) -> str:
    title = getattr(chat, "title", None)
    if title is None and isinstance(chat, dict):
        title = chat.get("title")
    return str(title or "")
