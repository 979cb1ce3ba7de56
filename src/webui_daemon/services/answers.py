"""Chat answers: a completion plus the user's memories and retrieval (the request's `files`, a
preset's knowledge).

answer = await answers.prepare(user, form)   # model, preset, params, memories, RAG context
async for chunk in answers.stream(answer):   # {"sources": [...]} first when retrieval found any
reply = await answers.complete(answer)       # chat.completion (+ "sources")
"""

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from webui_daemon.schemas.completions import ChatCompletionForm
from webui_daemon.services.chat_images import Resolve, inline_images
from webui_daemon.services.completions import CompletionService, PreparedCompletion
from webui_daemon.services.rag_context import RagContextService, retrieval_items
from webui_daemon.services.workspace.memories import MemoryService
from webui_daemon.storage.rows import UserRow


@dataclass(slots=True)
class Answer:
    prepared: PreparedCompletion
    sources: list[dict[str, Any]] = field(default_factory=list)

    @property
    def stream_requested(self) -> bool:
        return self.prepared.stream


class AnswerService:
    def __init__(
        self,
        completions: CompletionService,
        rag: RagContextService,
        memories: MemoryService | None = None,
        images: Resolve | None = None,
    ) -> None:
        self._completions = completions
        self._rag = rag
        self._memories = memories
        self._images = images

    async def prepare(
        self,
        user: UserRow,
        form: ChatCompletionForm,
        *,
        interactive: bool = True,
        memory: bool = True,
    ) -> Answer:
        """`memory`: False for the daemon's own task prompts (titles, tags), which never carry
        memories; a chat's request gets them when `features.memory` or the user's setting
        says so (services.workspace.memories)."""
        prepared = await self._completions.prepare(user, form, interactive=interactive)
        if self._images is not None:
            prepared.body["messages"] = await inline_images(
                user, prepared.body.get("messages") or [], self._images
            )
        memories = self._memories
        if memory and memories is not None and memories.wanted(user, form.features):
            # Before retrieval, as Open WebUI: memories first, then the RAG context.
            meta = prepared.preset.meta if prepared.preset is not None else None
            remembered = await memories.context(user, prepared.body.get("messages") or [], meta)
            if remembered is not None:
                prepared.body["messages"] = remembered
        files = retrieval_items(
            prepared.preset.meta if prepared.preset is not None else None, form.files
        )
        if not files:
            return Answer(prepared)
        messages, sources = await self._rag.build_context(
            user, files, prepared.body.get("messages") or []
        )
        prepared.body["messages"] = messages
        return Answer(prepared, sources)

    async def stream(self, answer: Answer) -> AsyncGenerator[dict[str, Any], None]:
        # Open WebUI sends the citations as a bare event before the first token (spec 5.2).
        chunks = self._completions.stream(answer.prepared)
        try:
            first = await anext(chunks, None)  # an UpstreamError surfaces before any event
            if answer.sources:
                yield {"sources": answer.sources}
            if first is not None:
                yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()

    async def complete(self, answer: Answer) -> dict[str, Any]:
        reply = await self._completions.complete(answer.prepared)
        if answer.prepared.model.kind == "ollama":
            reply = with_token_details(reply)
        if answer.sources:
            reply = {**reply, "sources": answer.sources}
        return reply


# 0.12 gives an Ollama reply's usage OpenAI's token details; Ollama counts no reasoning or
# prediction tokens apart, so they are zeros, as there.
NO_TOKEN_DETAILS = {
    "reasoning_tokens": 0,
    "accepted_prediction_tokens": 0,
    "rejected_prediction_tokens": 0,
}


def with_token_details(reply: dict[str, Any]) -> dict[str, Any]:
    usage = reply.get("usage")
    if not isinstance(usage, dict) or "completion_tokens_details" in usage:
        return reply
    return {**reply, "usage": {**usage, "completion_tokens_details": dict(NO_TOKEN_DETAILS)}}
