"""Client-side turns: the client saves the exchange, for servers that do not stream turns.

A webui daemon adds the question, answers and saves a turn itself (`stream_turn`). Open WebUI
answers such a request with JSON, not a stream; there, as its web app does, the client adds the
user message to the chat's tree, asks a plain completion of the branch (no chat ids) and saves
the answer into the chat when the stream ends, fails or is stopped:

    turn = await begin_turn(client, chat, "Hi", model)    # creates or extends the chat
    async with turn.open(extra) as stream:                 # a ChatStream naming the chat
        ...
    await turn.save(stream, interrupted=False)             # content, usage, error, sources

`answer_again` makes a turn that answers an existing question anew (a sibling answer),
`at_leaf` a chat whose next question goes under another message (an edited question), and
`save_tree` stores another branch choice (Open WebUI replaces a chat's `history` whole, so the
tree goes with it).

Nothing generates on without the client: hanging up stops the answer.
"""

import copy
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from webui_daemon.schemas.chats import ChatResponse
from webui_daemon.schemas.replay import model_messages
from webui_tui.client.chats import new_document
from webui_tui.client.completions import COMPLETIONS, ChatStream, new_id, user_message
from webui_tui.client.errors import RequestFailed, WebUIClientError
from webui_tui.client.transcript import branch, history_of

if TYPE_CHECKING:
    from webui_tui.client.api import WebUIClient

TITLE_CHARS = 50


def add_message(document: dict[str, Any], message: dict[str, Any]) -> None:
    """Put `message` in the tree under its `parentId`, make it current, rebuild `messages`."""
    history = document.get("history")
    if not isinstance(history, dict):
        history = document["history"] = {}
    messages = history.get("messages")
    if not isinstance(messages, dict):
        messages = history["messages"] = {}
    messages[message["id"]] = message
    parent = messages.get(message.get("parentId") or "")
    if isinstance(parent, dict):
        children = parent.get("childrenIds")
        if not isinstance(children, list):
            children = parent["childrenIds"] = []
        if message["id"] not in children:
            children.append(message["id"])
    history["currentId"] = message["id"]
    document["messages"] = branch(document)


def completion_messages(document: dict[str, Any]) -> list[dict[str, Any]]:
    """What the model is asked: the chat's system prompt, then the current branch (with the
    tool calls and results of answers that ran tools: schemas.replay)."""
    out: list[dict[str, Any]] = []
    system = document.get("system")
    if isinstance(system, str) and system.strip():
        out.append({"role": "system", "content": system})
    for message in branch(document):
        role, content = message.get("role"), message.get("content")
        if role in ("user", "assistant", "system") and isinstance(content, str):
            out.extend(model_messages(message))  # an answer's tool calls and results too
    return out


def title_for(prompt: str) -> str:
    """A new chat's title: its first question's first line, shortened."""
    line = next((part.strip() for part in prompt.splitlines() if part.strip()), "")
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class ClientTurn:
    """One question asked in a saved chat, the chat kept up to date by this client."""

    def __init__(
        self,
        client: "WebUIClient",
        chat_id: str,
        document: dict[str, Any],
        question: dict[str, Any],
        model: str,
        *,
        chat: ChatResponse,
        created: bool,
    ) -> None:
        self.client = client
        self.chat_id = chat_id
        self.chat = chat  # as the server answered when the question was saved
        self.document = document
        self.question = question
        self.model = model
        self.created = created  # the chat was made for this turn
        self.answer_id = new_id()
        self.stream: ChatStream | None = None

    @asynccontextmanager
    async def open(self, extra: dict[str, Any] | None = None) -> AsyncIterator[ChatStream]:
        """Stream the answer to the branch; `extra` adds body keys (`files`, `params`)."""
        body = {
            **(extra or {}),
            "model": self.model,
            "messages": completion_messages(self.document),
            "stream": True,
        }
        async with self.client.stream("POST", COMPLETIONS, body=body) as response:
            self.stream = ChatStream(
                self.client,
                response,
                model=self.model,
                chat_id=self.chat_id,
                message_id=self.answer_id,
                user_message_id=self.question["id"],
            )
            yield self.stream

    def answer(
        self, stream: ChatStream | None, *, interrupted: bool = False, error: str | None = None
    ) -> dict[str, Any]:
        """The assistant message as Open WebUI saves it once the answer is over."""
        model = (stream.model if stream is not None else "") or self.model
        message: dict[str, Any] = {
            "id": self.answer_id,
            "parentId": self.question["id"],
            "childrenIds": [],
            "role": "assistant",
            "content": stream.content if stream is not None else "",
            "model": model,
            "modelName": model,
            "modelIdx": 0,
            "timestamp": int(time.time()),
            "done": True,
        }
        if stream is not None:
            if stream.usage:
                message["usage"] = stream.usage
            if stream.sources:
                message["sources"] = stream.sources
            error = error or stream.error
            interrupted = interrupted or stream.interrupted
        if interrupted:
            message["interrupted"] = True
        if error:
            message["error"] = {"content": error}
        return message

    async def save(
        self, stream: ChatStream | None, *, interrupted: bool = False, error: str | None = None
    ) -> ChatResponse:
        """Add the answer (what arrived, how it ended) to the chat and store the chat."""
        add_message(self.document, self.answer(stream, interrupted=interrupted, error=error))
        return await self.client.update_chat(self.chat_id, _tree(self.document))

    async def abandon(self, error: WebUIClientError) -> bool:
        """After `open` raised `error`: a new chat the server refused is deleted (True: it is
        gone), otherwise what arrived is saved with the error. Never raises."""
        try:
            if self.created and isinstance(error, RequestFailed):
                await self.client.delete_chat(self.chat_id)  # leave no chat behind
                return True
            await self.save(self.stream, error=error.message)
        except WebUIClientError:
            pass  # the error the caller reports is the first one
        return False


async def begin_turn(
    client: "WebUIClient",
    chat: ChatResponse | None,
    content: str,
    model: str,
    *,
    system: str | None = None,
    files: list[dict[str, Any]] | None = None,
) -> ClientTurn:
    """Add the question (with its attached `files`) to `chat` (None: a new chat) and store
    it; the turn to answer."""
    if chat is None:
        document = new_document([model], system=system, title=title_for(content))
    else:
        document = copy.deepcopy(chat.chat)
        if system is not None:
            document["system"] = system
    _, parent_id = history_of(document)
    question = user_message(content, model, parent_id, files=files)
    add_message(document, question)
    if chat is None:
        saved = await client.create_chat(document)
        return ClientTurn(client, saved.id, document, question, model, chat=saved, created=True)
    changes = _tree(document)
    if system is not None:
        changes["system"] = system
    saved = await client.update_chat(chat.id, changes)
    return ClientTurn(client, chat.id, document, question, model, chat=saved, created=False)


def answer_again(
    client: "WebUIClient", chat: ChatResponse, question_id: str, model: str
) -> ClientTurn:
    """A turn that answers the saved question `question_id` anew, beside its other answers."""
    document = at_leaf(chat, question_id).chat
    question = history_of(document)[0].get(question_id)
    if not isinstance(question, dict):
        raise WebUIClientError(f"chat {chat.id} has no message {question_id}")
    return ClientTurn(client, chat.id, document, question, model, chat=chat, created=False)


def at_leaf(chat: ChatResponse, leaf_id: str | None) -> ChatResponse:
    """A copy of `chat` whose current branch ends at `leaf_id` (None: before the first
    message), so that `begin_turn` asks under it."""
    document = copy.deepcopy(chat.chat)
    history = document.get("history")
    if not isinstance(history, dict):
        history = document["history"] = {}
    history["currentId"] = leaf_id
    # (`branch` of a tree with no current leaf falls back to the linear list: none here)
    document["messages"] = branch(document) if leaf_id else []
    return chat.model_copy(update={"chat": document})


async def save_tree(client: "WebUIClient", chat_id: str, document: dict[str, Any]) -> ChatResponse:
    """Store `document`'s tree and current branch (after `history.currentId` changed)."""
    document["messages"] = branch(document)
    return await client.update_chat(chat_id, _tree(document))


def _tree(document: dict[str, Any]) -> dict[str, Any]:
    return {"history": document["history"], "messages": document["messages"]}
