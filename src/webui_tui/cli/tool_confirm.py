"""`webui chat --confirm`: each tool call is asked about on the terminal before it runs.

The daemon sends a call waiting for approval as a `: webui.tool` event with status "pending"
(`params.tool_approval_mode: "ask"`); the question goes to the terminal (`/dev/tty`, so a
piped prompt or a redirected answer still works), and the answer goes back with
`resolve_tool_call`. No terminal at all: --confirm is a usage error. The answer is read without
blocking the event loop, so Ctrl-C still stops the turn while a question waits.
"""

import asyncio
import contextlib
import os
from typing import Any

from webui_tui.cli.runtime import UsageProblem
from webui_tui.client.api import WebUIClient
from webui_tui.client.completions import ChatStream
from webui_tui.client.sse import ToolActivity

TTY = "/dev/tty"
YES = ("y", "yes")


class Confirmer:
    """Asks on the terminal and answers the daemon; shows each call and result once."""

    def __init__(self, client: WebUIClient, fd: int) -> None:
        self._client = client
        self._fd = fd
        self._asked: set[str] = set()

    @classmethod
    def open(cls, client: WebUIClient, path: str = TTY) -> "Confirmer":
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        except OSError:
            raise UsageProblem("--confirm asks on a terminal, and there is none") from None
        return cls(client, fd)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)

    async def shown(self, stream: ChatStream | None, event: ToolActivity) -> bool:
        """Handle one tool event: True when it was shown or answered here (the caller shows
        nothing more for it)."""
        item = event.item
        if item.get("type") != "function_call":
            return False
        call_id = str(item.get("call_id") or "")
        status = item.get("status")
        if status == "queued" or (status == "in_progress" and call_id in self._asked):
            return True  # asked about (or about to be): its line was the question
        if status != "pending" or call_id in self._asked or stream is None:
            return False
        self._asked.add(call_id)
        approve = await self.ask(event.line().removeprefix("→ ").strip())
        if stream.chat_id and stream.message_id:
            await self._client.resolve_tool_call(
                stream.chat_id, stream.message_id, call_id, approve=approve
            )
        return True

    async def ask(self, call: str) -> bool:
        self._write(f"? run {call}? [y/N] ")
        line = await self._read_line()
        return line.strip().lower() in YES

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError):
            os.write(self._fd, text.encode())

    async def _read_line(self) -> str:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[str] = loop.create_future()
        got = bytearray()

        def readable() -> None:
            try:
                data = os.read(self._fd, 1024)
            except OSError:
                data = b""
            got.extend(data)
            if (not data or b"\n" in got) and not done.done():
                done.set_result(got.decode(errors="replace").split("\n", 1)[0])

        loop.add_reader(self._fd, readable)
        try:
            return await done
        finally:
            loop.remove_reader(self._fd)


def confirm_params(extra: dict[str, Any]) -> dict[str, Any]:
    """The request's `params` with 0.12's `tool_approval_mode: "ask"`."""
    params = dict(extra.get("params") or {})
    params["tool_approval_mode"] = "ask"
    return {**extra, "params": params}
