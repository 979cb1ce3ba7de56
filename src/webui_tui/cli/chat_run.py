"""The work of `webui chat`: pick the chat and model, stream the answer, stop on Ctrl-C.

Ctrl-C during a saved turn asks the daemon to stop it (`POST /api/tasks/chat/{id}/stop`)
and reads the stream to its end, so what is shown is what was saved; a second Ctrl-C, or a
daemon that does not end the stream soon, hangs up at once. A temporary answer is stopped by
hanging up. The CLI being killed outright stops nothing: the daemon finishes and saves it.
Against a server that does not save turns (Open WebUI), the CLI saves them (`client_turns`):
Ctrl-C hangs up and saves what arrived, marked interrupted.
"""

import asyncio
import contextlib
import sys
from collections.abc import Awaitable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from webui_daemon.schemas.chats import ChatResponse
from webui_daemon.schemas.citations import number_sources
from webui_daemon.schemas.images import (
    IMAGE_SUFFIXES,
    ImageInfo,
    image_item,
    model_content,
    sniff,
)
from webui_tui.cli.answer_out import AnswerWriter, OutputClosed, WaitingLine
from webui_tui.cli.env_check import warn_missing
from webui_tui.cli.ids import find_chat_id, find_knowledge, find_note_id
from webui_tui.cli.interrupts import Interrupts
from webui_tui.cli.output import note
from webui_tui.cli.runtime import UsageProblem
from webui_tui.cli.tool_confirm import Confirmer, confirm_params
from webui_tui.client.api import WebUIClient
from webui_tui.client.client_turns import begin_turn
from webui_tui.client.completions import ChatStream
from webui_tui.client.errors import AnswerFailed, NotFound, RequestFailed, WebUIClientError
from webui_tui.client.sse import ContentDelta, Queued, ReasoningDelta, ToolActivity
from webui_tui.client.tasks import uncancel_current
from webui_tui.client.transcript import history_of, last_answer

EXIT_INTERRUPTED = 130


@dataclass(slots=True)
class ChatOptions:
    prompt: str
    model: str | None = None
    system: str | None = None
    continue_last: bool = False
    chat_id: str | None = None
    temporary: bool = False
    kbs: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    memory: bool | None = None  # --memory/--no-memory: `features.memory` (None: the setting)
    tools: list[str] = field(default_factory=list)  # --tool: `tool_ids` (the daemon runs them)
    confirm: bool = False  # --confirm: ask on the terminal before each tool call


@dataclass(slots=True)
class Outcome:
    """How the answer ended; `stream` is None when nothing was asked (an old answer shown)."""

    stream: ChatStream | None
    interrupted: bool = False

    def summary(self) -> dict[str, Any]:
        if self.stream is not None:
            out = self.stream.summary()
        else:
            out = {"chat_id": None, "message_id": None, "model": "", "content": "", "usage": None}
        if self.interrupted:
            out["interrupted"] = True
        if self.stream is not None and self.stream.sources:
            out["sources"] = [c.to_json() for c in number_sources(self.stream.sources)]
        return out


async def _streamed(
    opened: AbstractAsyncContextManager[ChatStream],
    out: AnswerWriter,
    interrupts: Interrupts,
    confirm: Confirmer | None = None,
) -> Outcome:
    """Write the answer's events to `out` until the stream ends or we hang up."""
    stream: ChatStream | None = None
    waiting = WaitingLine()
    try:
        async with opened as stream:
            try:
                async for event in stream:
                    if isinstance(event, Queued):
                        waiting.show(event.line())
                        continue
                    waiting.clear()
                    if isinstance(event, ToolActivity):
                        if confirm is not None and await confirm.shown(stream, event):
                            continue
                        if sys.stderr.isatty():  # each call and its result, one line each
                            sys.stderr.write(event.line() + "\n")
                        continue
                    if isinstance(event, ContentDelta):
                        out.content(event.text)
                    elif isinstance(event, ReasoningDelta):
                        out.reasoning(event.text)
            except OutputClosed:
                pass  # nobody reads any more; a turn goes on and is saved
    except asyncio.CancelledError:
        uncancel_current()
        return Outcome(stream, interrupted=True)
    finally:
        waiting.clear()
        out.finish()
    return Outcome(stream, interrupted=interrupts.count > 0)


async def _chat_for(client: WebUIClient, options: ChatOptions) -> ChatResponse | None:
    if options.chat_id:
        return await client.get_chat(await find_chat_id(client, options.chat_id))
    if options.continue_last:
        last = await client.last_chat()
        if last is None:
            raise UsageProblem("there is no chat to continue; start one without -c")
        return await client.get_chat(last.id)
    return None


def _chat_model(chat: ChatResponse | None) -> str | None:
    models = chat.chat.get("models") if chat is not None else None
    if isinstance(models, list) and models and isinstance(models[0], str) and models[0]:
        return models[0]
    return None


async def _guarded(work: Awaitable[Outcome], out: AnswerWriter) -> Outcome:
    try:
        return await work
    except asyncio.CancelledError:  # Ctrl-C before anything was asked
        uncancel_current()
        out.finish()
        return Outcome(None, interrupted=True)


async def ask(client: WebUIClient, options: ChatOptions, out: AnswerWriter) -> Outcome:
    """Ask in a new or existing chat (or a temporary one) and stream the answer to `out`."""
    await warn_missing(client)
    async with Interrupts() as interrupts:
        return await _guarded(_ask(client, options, out, interrupts), out)


async def _ask(
    client: WebUIClient, options: ChatOptions, out: AnswerWriter, interrupts: Interrupts
) -> Outcome:
    chat = await _chat_for(client, options)
    model = options.model or _chat_model(chat) or await client.pick_model()
    try:
        return await _answer(client, options, out, interrupts, chat, model)
    except RequestFailed as exc:
        if exc.status != 400 or "model not found" not in exc.detail.lower():
            raise
        where = "" if options.model else (" (the chat's model)" if chat else " (your default)")
        raise RequestFailed(
            exc.status, f"Model not found: {model}{where}; see `webui models list`"
        ) from None


async def _answer(
    client: WebUIClient,
    options: ChatOptions,
    out: AnswerWriter,
    interrupts: Interrupts,
    chat: ChatResponse | None,
    model: str,
) -> Outcome:
    images, documents = split_images(options.files)  # before anything is uploaded
    confirm = Confirmer.open(client) if options.confirm else None  # a terminal to ask on
    try:
        return await _answer_with(
            client, options, out, interrupts, chat, model, images, documents, confirm
        )
    finally:
        if confirm is not None:
            confirm.close()


async def _answer_with(
    client: WebUIClient,
    options: ChatOptions,
    out: AnswerWriter,
    interrupts: Interrupts,
    chat: ChatResponse | None,
    model: str,
    images: list[tuple[Path, ImageInfo]],
    documents: list[Path],
    confirm: Confirmer | None,
) -> Outcome:
    items = await _retrieval_items(client, options, documents)
    pictures = await upload_images(client, images)
    extra: dict[str, Any] = {"files": items} if items else {}
    if options.memory is not None:
        extra["features"] = {"memory": options.memory}
    if options.tools:
        extra["tool_ids"] = options.tools
    if confirm is not None:
        if not await client.server_turns():
            raise UsageProblem("--confirm needs a webui daemon (it runs the tools and waits)")
        extra = confirm_params(extra)
    if options.temporary:
        messages: list[dict[str, Any]] = []
        if options.system:
            messages.append({"role": "system", "content": options.system})
        asked = {"role": "user", "content": options.prompt, "files": pictures}
        messages.append({"role": "user", "content": model_content(asked)})
        opened_temporary = client.stream_completion(model, messages, **extra)
        return await _streamed(opened_temporary, out, interrupts)
    if not await client.server_turns():
        return await _client_turn(client, options, out, interrupts, chat, model, extra, pictures)
    created = chat is None
    if chat is None:
        chat = await client.new_chat(model, system=options.system)
    elif options.system is not None:
        await client.update_chat(chat.id, {"system": options.system})
    chat_id = chat.id
    interrupts.stop = lambda: client.stop_chat(chat_id)
    _, parent_id = history_of(chat.chat)
    opened = client.stream_turn(
        chat_id, options.prompt, model, parent_id=parent_id, extra=extra or None, files=pictures
    )
    try:
        return await _checked(client, await _streamed(opened, out, interrupts, confirm))
    except RequestFailed:
        if created:  # refused before any answer: leave no empty chat behind
            with contextlib.suppress(WebUIClientError):
                await client.delete_chat(chat_id)
        raise


async def _client_turn(
    client: WebUIClient,
    options: ChatOptions,
    out: AnswerWriter,
    interrupts: Interrupts,
    chat: ChatResponse | None,
    model: str,
    extra: dict[str, Any],
    pictures: list[dict[str, Any]],
) -> Outcome:
    """A server that does not save turns (Open WebUI): this client adds the question, asks
    the branch and saves the answer; Ctrl-C hangs up and saves what arrived."""
    turn = await begin_turn(
        client, chat, options.prompt, model, system=options.system, files=pictures
    )
    try:
        outcome = await _streamed(turn.open(extra or None), out, interrupts)
    except WebUIClientError as exc:
        await turn.abandon(exc)  # a refused new chat is deleted, else what arrived is saved
        raise
    await turn.save(outcome.stream or turn.stream, interrupted=outcome.interrupted)
    return outcome


def split_images(paths: list[Path]) -> tuple[list[tuple[Path, ImageInfo]], list[Path]]:
    """The --file paths that are images (by their bytes) and the documents. A file named like
    an image that is not one is a usage error: nothing is uploaded."""
    images, documents = [], []
    for path in paths:
        with path.open("rb") as handle:
            info = sniff(handle.read(65536))
        if info is not None:
            images.append((path, info))
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            raise UsageProblem(f"{path} is not an image (PNG, JPEG, GIF or WebP)")
        else:
            documents.append(path)
    return images, documents


async def upload_images(
    client: WebUIClient, images: list[tuple[Path, ImageInfo]]
) -> list[dict[str, Any]]:
    """Each image stored as a file (not processed) and named in the message as Open WebUI's
    web app names it: a `files` item of type "image" whose url is the file's content."""
    items = []
    for path, info in images:
        record = await client.upload_file(path, process=False, content_type=info.mime)
        items.append(image_item(record.id, path.name, info))
    return items


async def _retrieval_items(
    client: WebUIClient, options: ChatOptions, documents: list[Path]
) -> list[dict[str, Any]]:
    """The completion's `files`: each --kb as a collection, each --note as Open WebUI 0.12's
    note item (the server adds its Markdown), each --file that is not an image uploaded and,
    once the daemon has read it, attached."""
    items: list[dict[str, Any]] = []
    for ref in options.kbs:
        kb = await find_knowledge(client, ref)
        items.append({"type": "collection", "id": kb.id, "name": kb.name})
    for ref in options.notes:
        note = await client.get_note(await find_note_id(client, ref))
        items.append({"type": "note", "id": note.id, "name": note.title, "status": "processed"})
    for path in documents:
        record = await client.upload_file(path)
        status = await client.wait_processed(record.id)
        if status.get("status") != "completed":
            with contextlib.suppress(WebUIClientError):
                await client.delete_file(record.id)
            reason = status.get("error") or "it could not be processed"
            raise WebUIClientError(f"cannot attach {path}: {reason}")
        items.append({"type": "file", "id": record.id, "name": record.filename})
    return items


async def _checked(client: WebUIClient, outcome: Outcome) -> Outcome:
    """A saved answer that ended without a finish reason was stopped by someone else (another
    client, the daemon stopping) or failed: the saved message says which."""
    stream = outcome.stream
    if stream is not None and stream.interrupted:
        outcome.interrupted = True
    if stream is None or outcome.interrupted or stream.finish_reason or stream.error:
        return outcome
    if not (stream.chat_id and stream.message_id and stream.done):
        return outcome
    with contextlib.suppress(WebUIClientError):
        chat = await client.get_chat(stream.chat_id)
        saved = (history_of(chat.chat)[0]).get(stream.message_id) or {}
        error = saved.get("error")
        if isinstance(error, dict) and error.get("content"):
            stream.error = str(error["content"])
        elif saved.get("interrupted"):
            outcome.interrupted = True
    return outcome


async def attach(client: WebUIClient, chat_id: str, out: AnswerWriter) -> Outcome:
    """Follow the answer being generated in `chat_id`, or show its last answer."""
    async with Interrupts() as interrupts:
        return await _guarded(_attach(client, chat_id, out, interrupts), out)


async def _attach(
    client: WebUIClient, chat_id: str, out: AnswerWriter, interrupts: Interrupts
) -> Outcome:
    if not await client.server_turns():
        raise WebUIClientError(
            f"--attach needs a webui daemon; {client.target.address} saves no answer as it streams"
        )
    chat_id = await find_chat_id(client, chat_id)
    running = await client.chat_tasks(chat_id)
    if running:
        interrupts.stop = lambda: client.stop_chat(chat_id)
        return await _checked(
            client, await _streamed(client.attach(chat_id, running[-1]), out, interrupts)
        )
    chat = await client.get_chat(chat_id)
    answer = last_answer(chat.chat)
    if answer is None:
        path = f"/api/v1/chats/{chat_id}"
        raise NotFound(404, f"chat {chat_id} has no answer yet", "GET", path)
    opened = client.attach(chat_id, str(answer.get("id")), model=str(answer.get("model") or ""))
    return await _streamed(opened, out, interrupts)


def finish(outcome: Outcome, *, json_out: bool) -> int:
    """Print the --json object, say how it ended; the exit code (errors are raised)."""
    stream = outcome.stream
    if json_out:
        import json

        sys.stdout.write(json.dumps(outcome.summary(), ensure_ascii=False, indent=2) + "\n")
    elif stream is not None and stream.sources:
        _print_sources(stream)
    if stream is not None and stream.error:
        raise AnswerFailed(stream.error)
    if outcome.interrupted:
        chat_id = stream.chat_id if stream is not None else None
        note(f"stopped; what arrived is saved in chat {chat_id}" if chat_id else "stopped")
        return EXIT_INTERRUPTED
    return 0


def _print_sources(stream: ChatStream) -> None:
    """After the answer: its sources, numbered as the answer cites them ([1], [2], ...)."""
    citations = number_sources(stream.sources)
    if not citations:
        return
    # The answer ended with a newline (the writer adds one): a blank line, then the list.
    lines = ["", "Sources:", *(c.line() for c in citations)]
    try:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass
