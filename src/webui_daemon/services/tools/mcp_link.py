"""MCP servers through the official `mcp` SDK (imported on first use, never at start-up).

A link holds one MCP session in a task of its own, because the SDK's sessions must be closed
by the task that opened them, while the tool loop that uses them is a generator. Requests go
to that task through a queue and run one at a time. A request that times out closes the link
(and a stdio server's process with it); the next request opens a new one.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Op = Callable[[Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class McpTarget:
    """Where an MCP server is: a streamable-HTTP URL (with headers), or a command to start."""

    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)


class McpLink:
    def __init__(self, target: McpTarget, connect_timeout: float) -> None:
        self._target = target
        self._connect_timeout = connect_timeout
        self._queue: asyncio.Queue[tuple[Op, asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None

    async def run(self, op: Op, limit_s: float) -> Any:
        """`op(client)` in the link's task; TimeoutError after `limit_s` (the link closes).
        Opening the link (starting a stdio server) has its own, longer, time limit."""
        try:
            await self._open()
            async with asyncio.timeout(limit_s):
                done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                self._queue.put_nowait((op, done))
                return await done
        except TimeoutError:
            await self.aclose()
            raise

    async def list_tools(self, limit_s: float) -> list[dict[str, Any]]:
        async def op(client: Any) -> list[dict[str, Any]]:
            listed = await client.list_tools()
            return [
                {
                    "name": str(tool.name),
                    "description": str(tool.description or ""),
                    "parameters": dict(
                        getattr(tool, "input_schema", None)
                        or getattr(tool, "inputSchema", None)
                        or {"type": "object", "properties": {}}
                    ),
                }
                for tool in listed.tools
            ]

        result: list[dict[str, Any]] = await self.run(op, limit_s)
        return result

    async def call_tool(self, name: str, arguments: dict[str, Any], limit_s: float) -> str:
        """The tool's text; "Error: ..." when the server says the call failed."""

        async def op(client: Any) -> str:
            result = await client.call_tool(name, arguments)
            parts = []
            for item in result.content or []:
                text = getattr(item, "text", None)
                parts.append(text if isinstance(text, str) else f"[{getattr(item, 'type', '?')}]")
            text = "\n".join(parts)
            if getattr(result, "is_error", False) or getattr(result, "isError", False):
                return f"Error: {text or 'the tool failed'}"
            return text

        text: str = await self.run(op, limit_s)
        return text

    async def _open(self) -> None:
        if self._task is None or self._task.done():
            self._ready = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._hold(self._ready), name="mcp-link")
        assert self._ready is not None
        async with asyncio.timeout(self._connect_timeout):
            await asyncio.shield(self._ready)

    async def _hold(self, ready: asyncio.Future[None]) -> None:
        pending: asyncio.Future[Any] | None = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                client = await stack.enter_async_context(self._client(stack))
                ready.set_result(None)
                while True:
                    op, pending = await self._queue.get()
                    try:
                        pending.set_result(await op(client))
                    except Exception as exc:
                        if not pending.done():
                            pending.set_exception(exc)
                    pending = None
        except BaseException as exc:
            error = exc if isinstance(exc, Exception) else ConnectionError("the link closed")
            waiting = [ready] + ([pending] if pending is not None else [])
            while not self._queue.empty():
                waiting.append(self._queue.get_nowait()[1])
            for future in waiting:
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # nobody may be waiting any more: no "never retrieved"
            if not isinstance(exc, Exception):
                raise
            log.info("MCP link closed: %s", exc)

    def _client(self, stack: contextlib.AsyncExitStack) -> Any:
        from mcp import Client, StdioServerParameters  # the SDK is loaded on first use only

        target = self._target
        if target.command:
            params = StdioServerParameters(
                command=target.command[0], args=list(target.command[1:]), env=target.env or None
            )
            return Client(params)
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        http = httpx2.AsyncClient(headers=target.headers, timeout=self._connect_timeout * 10)
        stack.push_async_callback(http.aclose)
        return Client(streamable_http_client(target.url, http_client=http))

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
