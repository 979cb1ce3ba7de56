"""What the terminal UI needs beyond `WebUIClient`: regenerate, branch choice.

`TuiClient` is a `WebUIClient` with these calls (knowledge and files are in
`client.knowledge`, shared with the CLI); the CLI keeps using the plain client.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from webui_tui.client.api import WebUIClient
from webui_tui.client.chats import CHATS
from webui_tui.client.completions import COMPLETIONS, ChatStream, new_id


class TuiClient(WebUIClient):
    """`WebUIClient` plus the calls of the terminal UI (see the module docstring)."""

    # --- chats ---

    @asynccontextmanager
    async def stream_regenerate(
        self, chat_id: str, parent_id: str, model: str, *, extra: dict[str, Any] | None = None
    ) -> AsyncIterator[ChatStream]:
        """A new answer to the existing user message `parent_id` (a sibling of the old one)."""
        answer_id = new_id()
        body: dict[str, Any] = {
            **(extra or {}),
            "model": model,
            "stream": True,
            "chat_id": chat_id,
            "id": answer_id,
            "parent_id": parent_id,
        }
        async with self.stream("POST", COMPLETIONS, body=body) as response:
            yield ChatStream(self, response, model=model, chat_id=chat_id, message_id=answer_id)

    async def set_current(self, chat_id: str, message_id: str) -> None:
        """Show the branch that ends at `message_id` (history.currentId)."""
        document = {"history": {"currentId": message_id, "messages": {}}}
        await self.request("POST", f"{CHATS}/{chat_id}", body={"chat": document})
