"""Chat-tree arithmetic for the UI: siblings, the leaf under a message, a usage line."""

from typing import Any

Messages = dict[str, dict[str, Any]]


def siblings(messages: Messages, message_id: str) -> list[str]:
    """The ids of `message_id` and its siblings, in order (roots share the None parent)."""
    node = messages.get(message_id) or {}
    parent = node.get("parentId")
    if parent and parent in messages:
        children = messages[parent].get("childrenIds") or []
        return [str(c) for c in children if c in messages]
    roots = [mid for mid, m in messages.items() if not m.get("parentId")]
    return roots or [message_id]


def leaf_under(messages: Messages, message_id: str) -> str:
    """Follow the newest child down to a leaf: the branch shown when a sibling is chosen."""
    seen: set[str] = set()
    current = message_id
    while current not in seen:
        seen.add(current)
        children = [
            c for c in (messages.get(current) or {}).get("childrenIds") or [] if c in messages
        ]
        if not children:
            break
        current = str(children[-1])
    return current


def usage_line(usage: dict[str, Any] | None, seconds: float | None = None) -> str:
    """`123 tokens · 45.6 tok/s` from a provider's usage (and the time the answer took)."""
    if not usage:
        return ""
    completion = usage.get("completion_tokens") or usage.get("eval_count")
    prompt = usage.get("prompt_tokens") or usage.get("prompt_eval_count")
    parts = []
    if prompt is not None:
        parts.append(f"{prompt} in")
    if completion is not None:
        parts.append(f"{completion} out")
    speed = usage.get("response_token/s")
    if speed is None and usage.get("eval_duration") and completion:
        speed = float(completion) / (float(usage["eval_duration"]) / 1e9)
    if speed is None and seconds and completion:
        speed = float(completion) / seconds
    if speed is not None:
        parts.append(f"{float(speed):.1f} tok/s")
    return " · ".join(parts)
