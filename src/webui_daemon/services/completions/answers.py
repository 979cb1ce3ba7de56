"""Chat answers: a completion plus the user's memories, retrieval (the request's `files`, a
preset's knowledge) and tools (`tool_ids`: the daemon runs the tool loop, services.tools.loop).

answer = await answers.prepare(user, form)   # model, preset, params, memories, RAG context
async for chunk in answers.stream(answer):   # {"sources": [...]} first when retrieval found any
reply = await answers.complete(answer)       # chat.completion (+ "sources")
"""

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

from webui_daemon.schemas.completions import ChatCompletionForm
from webui_daemon.services.completions.chat_images import Resolve, inline_images
from webui_daemon.services.completions.completions import CompletionService, PreparedCompletion
from webui_daemon.services.knowledge.rag_context import RagContextService, retrieval_items
from webui_daemon.services.tools.loop import ToolLoop
from webui_daemon.services.tools.servers import ToolServerService
from webui_daemon.services.workspace.memories import MemoryService
from webui_daemon.storage.rows import UserRow


@dataclass(slots=True)
class Answer:
    prepared: PreparedCompletion
    sources: list[dict[str, Any]] = field(default_factory=list)
    tools: ToolLoop | None = None  # `tool_ids` named servers this user may use

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
        tools: ToolServerService | None = None,
        max_tool_rounds: int = 10,
    ) -> None:
        self._completions = completions
        self._rag = rag
        self._memories = memories
        self._images = images
        self._tools = tools
        self._max_tool_rounds = max_tool_rounds

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
        answer = Answer(prepared, tools=await self._tool_loop(user, form))
        if not files:
            return answer
        messages, sources = await self._rag.build_context(
            user, files, prepared.body.get("messages") or []
        )
        prepared.body["messages"] = messages
        answer.sources = sources
        return answer

    async def _tool_loop(self, user: UserRow, form: ChatCompletionForm) -> ToolLoop | None:
        if not form.tool_ids or self._tools is None:
            return None
        toolset = await self._tools.toolset(user, form.tool_ids)
        if not toolset.tools:
            return None
        tools = self._tools
        ask = None
        if (form.params or {}).get("tool_approval_mode") == "ask":
            ask = tools.approvals.asker(user.id, form.chat_id, form.id)
        return ToolLoop(toolset, tools.http, tools.limits, self._max_tool_rounds, ask)

    def _chunks(self, answer: Answer) -> AsyncGenerator[dict[str, Any], None]:
        prepared, loop = answer.prepared, answer.tools
        if loop is None:
            return self._completions.stream(prepared)

        def open_(body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
            prepared.body = body
            return self._completions.stream(prepared)

        return _closing(loop.stream(prepared.body, open_), loop)

    async def stream(self, answer: Answer) -> AsyncGenerator[dict[str, Any], None]:
        # Open WebUI sends the citations as a bare event before the first token (spec 5.2).
        chunks = self._chunks(answer)
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
        prepared, loop = answer.prepared, answer.tools
        if loop is not None:

            async def run(body: dict[str, Any]) -> dict[str, Any]:
                prepared.body = body
                return await self._completions.complete(prepared)

            try:
                reply = await loop.complete(prepared.body, run)
            finally:
                await loop.toolset.aclose()
        else:
            reply = await self._completions.complete(prepared)
        if answer.prepared.model.kind == "ollama":
            reply = with_token_details(reply)
        if answer.sources:
            reply = {**reply, "sources": answer.sources}
        return reply


async def _closing(
    chunks: AsyncGenerator[dict[str, Any], None], loop: ToolLoop
) -> AsyncGenerator[dict[str, Any], None]:
    """The loop's chunks; its MCP links close when the answer ends or is abandoned."""
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await chunks.aclose()
        await loop.toolset.aclose()


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
