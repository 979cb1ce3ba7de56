"""Pure helpers for Open WebUI's chat tree: `history.messages`, `parentId`/`childrenIds`, paths.

The tree is the source of truth; the linear `messages` list is always derived from it (root to
`history.currentId` by `parentId`). Nothing here touches storage.
"""

import uuid
from collections.abc import Mapping
from typing import Any

Message = dict[str, Any]
Messages = dict[str, Message]

# Keys that describe a message's place in the tree rather than its content.
STRUCTURE_KEYS = frozenset({"id", "parentId", "childrenIds"})


class TreeError(ValueError):
    """A chat document whose history cannot be read as a tree (bad shapes, not ids)."""


def tag_id(name: str) -> str:
    """Open WebUI's tag id: lower case, spaces turned into underscores."""
    return name.replace(" ", "_").lower()


def path_to(messages: Mapping[str, Message], leaf_id: str | None) -> list[Message]:
    """The messages from the root down to `leaf_id`, following `parentId` (cycle-safe)."""
    path: list[Message] = []
    seen: set[str] = set()
    current = leaf_id
    while current is not None and current in messages and current not in seen:
        seen.add(current)
        message = messages[current]
        path.append(message)
        parent = message.get("parentId")
        current = parent if isinstance(parent, str) else None
    path.reverse()
    return path


def leaf_of(messages: Mapping[str, Message], message_id: str) -> str:
    """The leaf reached from `message_id` by always taking the last child (the UI's choice)."""
    seen = {message_id}
    current = message_id
    while True:
        children = [c for c in messages[current].get("childrenIds") or [] if c in messages]
        if not children or children[-1] in seen:
            return current
        current = children[-1]
        seen.add(current)


def siblings(messages: Mapping[str, Message], message_id: str) -> list[str]:
    """Ids of the messages sharing `message_id`'s parent (itself included), in order."""
    parent = messages[message_id].get("parentId")
    if parent is None or parent not in messages:
        return [mid for mid, m in messages.items() if m.get("parentId") in (None, "")]
    return list(messages[parent].get("childrenIds") or [])


def descendants(messages: Mapping[str, Message], message_id: str) -> set[str]:
    """Every message below `message_id` (not itself), by `parentId`."""
    children_of: dict[Any, list[str]] = {}
    for mid, message in messages.items():
        children_of.setdefault(message.get("parentId"), []).append(mid)
    found: set[str] = set()
    stack = [message_id]
    while stack:
        for child in children_of.get(stack.pop(), []):
            if child not in found and child != message_id:
                found.add(child)
                stack.append(child)
    return found


def history_from_list(items: list[Any]) -> dict[str, Any]:
    """A history tree from a linear `messages` list (older clients send only that).

    Messages keep their ids (new ones are made when missing) and are chained in list order,
    unless they already name a parent that is in the list.
    """
    messages: Messages = {}
    previous: str | None = None
    for item in items:
        if not isinstance(item, dict):
            raise TreeError("Each message must be an object.")
        message = dict(item)
        mid = message.get("id")
        if not isinstance(mid, str) or not mid or mid in messages:
            mid = str(uuid.uuid4())
        message["id"] = mid
        parent = message.get("parentId")
        if not (isinstance(parent, str) and parent in messages):
            message["parentId"] = previous
        message["childrenIds"] = []
        messages[mid] = message
        previous = mid
    for mid, message in messages.items():
        parent = message["parentId"]
        if parent is not None:
            messages[parent]["childrenIds"].append(mid)
    return {"messages": messages, "currentId": previous}


def check_messages(raw: Any) -> Messages:
    """Validate the shape of `history.messages` and return a shallow copy of each message."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise TreeError("history.messages must be an object mapping ids to messages.")
    messages: Messages = {}
    for key, value in raw.items():
        if not isinstance(value, dict):
            raise TreeError(f"Message {key!r} must be an object.")
        if not key:
            raise TreeError("Message ids must not be empty.")
        message = dict(value)
        message["id"] = key
        parent = message.get("parentId")
        if parent is not None and not isinstance(parent, str):
            raise TreeError(f"Message {key!r} has a parentId that is not a string.")
        children = message.get("childrenIds")
        if children is not None and not (
            isinstance(children, list) and all(isinstance(c, str) for c in children)
        ):
            raise TreeError(f"Message {key!r} has childrenIds that are not a list of ids.")
        messages[key] = message
    return messages


def repair(messages: Messages) -> Messages:
    """Make `parentId` and `childrenIds` agree, in place; returns `messages`.

    `parentId` wins: a parent missing from the tree (or the message itself) makes a root;
    `childrenIds` keeps its order, loses ids that are gone or belong elsewhere, and gains any
    child it was missing (in insertion order). A well-formed tree comes back unchanged.
    """
    for mid, message in messages.items():
        parent = message.get("parentId")
        if parent is None or parent == mid or parent not in messages:
            message["parentId"] = None
    # parentId pointers that form a loop (a -> b -> a) would hide messages: break each loop
    # once. `rooted` remembers messages already known to reach a root, so this stays linear.
    rooted: set[str] = set()
    for mid in messages:
        trail: list[str] = []
        on_trail: set[str] = set()
        current: str | None = mid
        while current is not None and current not in rooted:
            if current in on_trail:
                messages[current]["parentId"] = None
                break
            trail.append(current)
            on_trail.add(current)
            current = messages[current]["parentId"]
        rooted.update(trail)
    children_of: dict[str, list[str]] = {mid: [] for mid in messages}
    for mid, message in messages.items():
        parent = message["parentId"]
        if parent is not None:
            children_of[parent].append(mid)
    for mid, message in messages.items():
        actual = children_of[mid]
        listed = message.get("childrenIds") or []
        kept = [c for c in dict.fromkeys(listed) if c in actual]
        kept += [c for c in actual if c not in kept]
        if message.get("childrenIds") != kept:
            message["childrenIds"] = kept
    return messages


def pick_current(messages: Mapping[str, Message], wanted: Any) -> str | None:
    """`wanted` when it names a message; otherwise the newest message's leaf, or None."""
    if isinstance(wanted, str) and wanted in messages:
        return wanted
    if not messages:
        return None
    return leaf_of(messages, list(messages)[-1])


def split_document(document: dict[str, Any]) -> tuple[dict[str, Any], Messages, Any, bool]:
    """Split a (partial) document into (the rest, history messages, currentId, has_tree).

    `has_tree` is False when the document carried neither `history` nor `messages`. A
    `messages` list without `history` is turned into a history. The derived `messages` list is
    dropped: it is rebuilt from the tree on every read.
    """
    rest = {k: v for k, v in document.items() if k not in ("history", "messages")}
    history = document.get("history")
    if history is not None:
        if not isinstance(history, dict):
            raise TreeError("history must be an object.")
        messages = check_messages(history.get("messages"))
        extra = {k: v for k, v in history.items() if k not in ("messages", "currentId")}
        if extra:
            rest["history"] = extra
        return rest, messages, history.get("currentId"), True
    listed = document.get("messages")
    if listed is not None:
        if not isinstance(listed, list):
            raise TreeError("messages must be a list.")
        built = history_from_list(listed)
        return rest, built["messages"], built["currentId"], True
    return rest, {}, None, False


def assemble(rest: Mapping[str, Any], messages: Messages, current_id: str | None) -> dict[str, Any]:
    """The full document: the stored keys, `history` and the derived `messages` list."""
    document = dict(rest)
    history = dict(document.get("history") or {})
    history["messages"] = messages
    history["currentId"] = current_id
    document["history"] = history
    document["messages"] = path_to(messages, current_id)
    return document
