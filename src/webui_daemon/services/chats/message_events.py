"""Message events (POST /api/v1/chats/{id}/messages/{message_id}/event): what 0.12 keeps of them.

Open WebUI 0.12 forwards such an event to the browser tabs of the chat (socket.io, which webui
has not) and saves some types into the message, as its event emitter does:

- `status`: `data` appended to the message's `statusHistory`;
- `message`: `data.content` appended to the message's content; `replace`: content replaced;
- `files` / `embeds`: `data.files` / `data.embeds` put before the message's list (`embeds`
  with `data.replace` true replaces it);
- `source` / `citation` without a `data.type`: `data` appended to the message's `sources`.

Any other type is accepted and dropped. The answer is `true` either way, as 0.12's (also when
the message is not in the chat: its emitter then saves nothing). Someone else's or a missing
chat: 401, as 0.12.
"""

from typing import Any

from webui_daemon.services import errors
from webui_daemon.services.chats.chat_mapping import message_dict
from webui_daemon.services.chats.chats import ChatService
from webui_daemon.storage.chats import ChatRepo


class MessageEventService:
    def __init__(self, chats: ChatService, repo: ChatRepo) -> None:
        self._chats = chats
        self._repo = repo

    async def apply(
        self, user_id: str, chat_id: str, message_id: str, kind: str, data: dict[str, Any]
    ) -> bool:
        if await self._repo.get(chat_id, user_id) is None:
            raise errors.AccessProhibited(errors.ACCESS_PROHIBITED)
        row = await self._repo.message(chat_id, message_id)
        if row is None:
            return True
        fields = changes(message_dict(row), kind, data)
        if fields:
            await self._chats.update_message(chat_id, message_id, fields)
        return True


def changes(message: dict[str, Any], kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The message keys an event of `kind` rewrites (empty: nothing to save)."""
    if kind == "status":
        return {"statusHistory": [*_list(message.get("statusHistory")), data]}
    if kind == "message":
        return {"content": str(message.get("content") or "") + str(data.get("content") or "")}
    if kind == "replace":
        return {"content": str(data.get("content") or "")}
    if kind == "files":
        return {"files": [*_list(data.get("files")), *_list(message.get("files"))]}
    if kind == "embeds":
        new = _list(data.get("embeds"))
        kept = [] if data.get("replace") else _list(message.get("embeds"))
        return {"embeds": [*new, *kept]}
    if kind in ("source", "citation") and data.get("type") is None:
        return {"sources": [*_list(message.get("sources")), data]}
    return {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []
