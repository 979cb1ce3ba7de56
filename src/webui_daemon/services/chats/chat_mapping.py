"""Chat storage rows to wire schemas and back: messages, chats, titles, tags, folders, shares."""

import copy
from typing import Any

from webui_daemon.schemas.chats import ChatResponse, ChatTitleIdResponse, TagModel
from webui_daemon.schemas.folders import FolderModel
from webui_daemon.services.chats import chat_tree
from webui_daemon.storage.chats import ChatTitle
from webui_daemon.storage.rows import (
    ChatMessageRow,
    ChatRow,
    ChatShareRow,
    FolderRow,
    TagRow,
)

# Keys with their own column in chat_message; everything else goes in `data`.
_COLUMN_KEYS = frozenset({"id", "parentId", "childrenIds", "role", "content"})


def content_text(content: Any) -> str:
    """The searchable text of a message content: a string, or the text parts of a list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            str(item.get("text", ""))
            for item in content
            if isinstance(item, dict) and isinstance(item.get("text"), str)
        ]
        return "\n".join(parts)
    return ""


def message_row(chat_id: str, message: dict[str, Any], position: int) -> ChatMessageRow:
    data = {k: v for k, v in message.items() if k not in _COLUMN_KEYS}
    role = message.get("role")
    if "role" in message and not isinstance(role, str):
        data["role"] = role
    content = message.get("content")
    text: str | None = None
    if isinstance(content, str):
        text = content
    elif "content" in message:
        # Kept as sent (a list of parts, say); the column holds its text for search.
        data["content"] = content
        text = content_text(content)
    parent = message.get("parentId")
    return ChatMessageRow(
        chat_id=chat_id,
        id=str(message["id"]),
        parent_id=parent if isinstance(parent, str) else None,
        children=list(message.get("childrenIds") or []),
        role=role if isinstance(role, str) else None,
        content=text,
        data=data,
        position=position,
    )


def message_dict(row: ChatMessageRow) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": row.id,
        "parentId": row.parent_id,
        "childrenIds": list(row.children),
    }
    if row.role is not None:
        message["role"] = row.role
    if row.content is not None and "content" not in row.data:
        message["content"] = row.content
    message.update(row.data)
    return message


def messages_map(rows: list[ChatMessageRow]) -> chat_tree.Messages:
    return {row.id: message_dict(row) for row in rows}


def chat_response(row: ChatRow, messages: list[ChatMessageRow]) -> ChatResponse:
    document = chat_tree.assemble(row.document, messages_map(messages), row.current_id)
    document["title"] = row.title
    return ChatResponse(
        id=row.id,
        user_id=row.user_id,
        title=row.title,
        chat=document,
        updated_at=row.updated_at,
        created_at=row.created_at,
        share_id=row.share_id,
        archived=row.archived,
        pinned=row.pinned,
        meta=row.meta,
        folder_id=row.folder_id,
        current_message_id=row.current_id,
    )


def title_id(row: ChatTitle) -> ChatTitleIdResponse:
    return ChatTitleIdResponse(
        id=row.id,
        title=row.title,
        updated_at=row.updated_at,
        created_at=row.created_at,
        archived=row.archived,
        pinned=row.pinned,
    )


# What the owner set up for a chat, not part of what they share (0.12's shared_chat_response).
OWNER_SETUP = ("params", "tool_servers", "tool_ids", "filter_ids", "variables")


def share_response(row: ChatShareRow, reader_id: str) -> ChatResponse:
    """A shared snapshot the way Open WebUI serves it: its own id, owner `shared-<chat id>`;
    without the owner's setup (system prompt and parameters, tools, filters, variables), and
    each message's `meta` only to the reader who wrote it."""
    document = copy.deepcopy(row.document)
    for key in OWNER_SETUP:
        document.pop(key, None)
    history = document.get("history") or {}
    messages = list((history.get("messages") or {}).values()) if isinstance(history, dict) else []
    listed = document.get("messages")
    messages.extend(listed if isinstance(listed, list) else [])
    for message in messages:
        if isinstance(message, dict) and message.get("user_id") != reader_id:
            message.pop("meta", None)
    return ChatResponse(
        id=row.id,
        user_id=f"shared-{row.chat_id}",
        title=row.title,
        chat=document,
        updated_at=row.updated_at,
        created_at=row.created_at,
        meta=row.meta,
        current_message_id=history.get("currentId") if isinstance(history, dict) else None,
    )


def tag_model(row: TagRow) -> TagModel:
    return TagModel(id=row.id, name=row.name, user_id=row.user_id, meta=row.meta)


def folder_model(row: FolderRow) -> FolderModel:
    return FolderModel(
        id=row.id,
        parent_id=row.parent_id,
        user_id=row.user_id,
        name=row.name,
        items=row.items,
        meta=row.meta,
        data=row.data,
        is_expanded=row.is_expanded,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
