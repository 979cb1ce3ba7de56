"""Reading a chat document: the current branch of its message tree, and a Markdown transcript.

The tree (`history.messages`, `parentId`, `currentId`) is the truth; the linear `messages`
list is only a fallback for documents that have no tree.
"""

import time
from typing import Any

from webui_daemon.schemas.chats import ChatResponse
from webui_daemon.schemas.images import image_files, label


def history_of(document: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The message map and the current leaf id (None when the chat is empty)."""
    history = document.get("history")
    if not isinstance(history, dict):
        return {}, None
    messages = history.get("messages")
    current = history.get("currentId")
    return (messages if isinstance(messages, dict) else {}), (str(current) if current else None)


def branch(document: dict[str, Any], leaf_id: str | None = None) -> list[dict[str, Any]]:
    """The messages from the root to `leaf_id` (default: the current one), in order."""
    messages, current = history_of(document)
    leaf = leaf_id or current
    if not messages or leaf is None:
        linear = document.get("messages")
        return [m for m in linear if isinstance(m, dict)] if isinstance(linear, list) else []
    path: list[dict[str, Any]] = []
    seen: set[str] = set()
    node = messages.get(leaf)
    while isinstance(node, dict) and str(node.get("id")) not in seen:
        seen.add(str(node.get("id")))
        path.append(node)
        parent = node.get("parentId")
        node = messages.get(parent) if parent else None
    path.reverse()
    return path


def last_answer(document: dict[str, Any]) -> dict[str, Any] | None:
    """The last assistant message of the current branch."""
    answers = [m for m in branch(document) if m.get("role") == "assistant"]
    return answers[-1] if answers else None


def speaker(message: dict[str, Any]) -> str:
    role = str(message.get("role") or "?")
    if role == "assistant":
        return str(message.get("modelName") or message.get("model") or "assistant")
    return {"user": "You", "system": "System"}.get(role, role)


def image_label(item: dict[str, Any]) -> str:
    """`photo.png 1024×768` for an image attachment (its size when the client stored it)."""
    return label(str(item.get("name") or "image"), item.get("width"), item.get("height"))


def image_labels(message: dict[str, Any]) -> list[str]:
    """The images a message carries, as `photo.png 1024×768`."""
    return [image_label(f) for f in image_files(message)]


def message_notes(message: dict[str, Any]) -> list[str]:
    """Short remarks on a message's state: still generating, stopped, failed."""
    notes = []
    if message.get("role") == "assistant" and message.get("done") is False:
        notes.append("still generating")
    if message.get("interrupted"):
        notes.append("stopped")
    error = message.get("error")
    if isinstance(error, dict) and error.get("content"):
        notes.append(f"error: {error['content']}")
    elif isinstance(error, str) and error:
        notes.append(f"error: {error}")
    return notes


def to_markdown(chat: ChatResponse) -> str:
    """The current branch as a Markdown document: a title, then one section per message."""
    created = time.strftime("%Y-%m-%d %H:%M", time.localtime(chat.created_at))
    lines = [f"# {chat.title}", "", f"_chat {chat.id}, {created}_", ""]
    system = chat.chat.get("system")
    if isinstance(system, str) and system.strip():
        lines += ["### System", "", system.strip(), ""]
    for message in branch(chat.chat):
        notes = [f"image: {i}" for i in image_labels(message)] + message_notes(message)
        suffix = f" ({'; '.join(notes)})" if notes else ""
        lines += [f"### {speaker(message)}{suffix}", "", str(message.get("content") or ""), ""]
    return "\n".join(lines).rstrip() + "\n"
