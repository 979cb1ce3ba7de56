"""The text side of memories, as Open WebUI 0.12.4 does it (utils/memory.py): cleaning content
and paths, the text embedded for a memory, the query a chat makes, path neighbours, and the
`<memory_context>` block added to the system prompt."""

import re
from collections.abc import Sequence
from typing import Any

from webui_daemon.services import errors
from webui_daemon.storage.memories import MemoryRow

MEMORY_CONTEXT_OPEN = "<memory_context>"
MEMORY_CONTEXT_CLOSE = "</memory_context>"
EMPTY_CONTENT = "Memory content cannot be empty"
INVALID_PATH = "Invalid memory path"
# Open WebUI: the last 7 user messages with text, the last 4,000 characters of them.
QUERY_MESSAGES = 7
QUERY_CHARS = 4000
MIN_SECTION_CHARS = 250


def clean_content(content: str | None) -> str:
    value = (content or "").strip()
    if not value:
        raise errors.WebUIError(EMPTY_CONTENT)
    return value


def clean_path(path: str | None) -> str | None:
    """`a//b/` → `a/b`; empty → None; `.`/`..` parts or control characters → 400."""
    value = re.sub(r"/+", "/", (path or "").strip().strip("/"))
    if not value:
        return None
    parts = value.split("/")
    if any(part in {"", ".", ".."} for part in parts) or any(ord(c) < 32 for c in value):
        raise errors.WebUIError(INVALID_PATH)
    return value


def vector_text(content: str, path: str | None) -> str:
    """What is embedded for a memory: its path on the first line, then its content."""
    return f"{path}\n{content}" if path else content


def label(memory: MemoryRow) -> str:
    return f"{memory.path}: {memory.content}" if memory.path else memory.content


def _first_text(message: dict[str, Any]) -> str | None:
    content = message.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                text = part.get("text")
                return text if isinstance(text, str) else None
        return None
    return content if isinstance(content, str) else None


def query_text(messages: Sequence[dict[str, Any]]) -> str:
    """The memory query of a chat: its last user messages (oldest first), at most 4,000
    characters from the end."""
    found: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        text = _first_text(message)
        if text and text.strip():
            found.append(text.strip())
        if len(found) >= QUERY_MESSAGES:
            break
    return "\n\n".join(reversed(found))[-QUERY_CHARS:]


# ---- paths ---------------------------------------------------------------------------------


def _parts(path: str | None) -> list[str]:
    return [part for part in (path or "").split("/") if part]


def _parent(path: str | None) -> str | None:
    parts = _parts(path)
    return "/".join(parts[:-1]) if len(parts) > 1 else None


def _rank(memory_path: str | None, lookup: str) -> tuple[int, int] | None:
    """How close a memory's path is to `lookup` (lower is closer); None: unrelated."""
    if not memory_path:
        return None
    if memory_path == lookup:
        return (0, 0)
    if memory_path.startswith(f"{lookup}/"):
        return (1, len(_parts(memory_path)) - len(_parts(lookup)))
    if lookup.startswith(f"{memory_path}/"):
        return (2, len(_parts(lookup)) - len(_parts(memory_path)))
    parent = _parent(memory_path)
    if parent and parent == _parent(lookup):
        return (3, 0)
    shared = len(set(_parts(memory_path)) & set(_parts(lookup)))
    if shared:
        return (4, -shared)
    if _parts(memory_path)[-1:] == _parts(lookup)[-1:]:
        return (5, 0)
    return None


def path_hints(query: str, memories: Sequence[MemoryRow], limit: int = 6) -> list[str]:
    """Paths the query mentions (whole, by last part, or by a part of 3+ characters)."""
    lowered = query.lower()
    if not lowered:
        return []
    hints: list[str] = []
    ordered = sorted(memories, key=lambda m: (m.path or "", m.content, m.id))
    for memory in ordered:
        path = memory.path
        if not path or path in hints:
            continue
        parts = _parts(path)
        last = parts[-1] if parts else path
        named = path.lower() in lowered or last.lower() in lowered
        if named or any(len(part) >= 3 and part.lower() in lowered for part in parts):
            hints.append(path)
        if len(hints) >= limit:
            break
    return hints


def near_path(
    memories: Sequence[MemoryRow], path: str, memory_type: str, limit: int
) -> list[MemoryRow]:
    """Memories of `memory_type` filed at or near `path` (or naming it), closest first."""
    basename = (_parts(path) or [path])[-1].lower()
    lowered = path.lower()

    def related(memory: MemoryRow) -> bool:
        if _rank(memory.path, path) is not None:
            return True
        haystack = f"{memory.path or ''}\n{memory.content}".lower()
        return lowered in haystack or basename in haystack

    rows = [m for m in memories if m.type == memory_type and related(m)]

    def key(memory: MemoryRow) -> tuple[tuple[int, int], int, str]:
        return (_rank(memory.path, path) or (9, 0), -memory.updated_at, memory.id)

    return sorted(rows, key=key)[: max(1, min(limit, 100))]


# ---- the system prompt block -------------------------------------------------------------


def render_context(
    memories: Sequence[MemoryRow],
    query: str,
    relevant: Sequence[MemoryRow],
    *,
    user_limit: int,
    context_limit: int,
) -> str | None:
    """The `<memory_context>` block: every `user` memory, the memories filed near paths the
    query names, then the closest others (`relevant`, best first); None when there are none."""
    sections: dict[str, list[str]] = {"user": [], "neighborhood": [], "context": []}
    seen: set[str] = set()
    for memory in sorted(
        (m for m in memories if m.type == "user"),
        key=lambda m: (m.path or "", m.updated_at, m.id),
    ):
        seen.add(memory.id)
        sections["user"].append(label(memory))
    for hint in path_hints(query, memories):
        for memory in near_path(memories, hint, "context", 4):
            if memory.id not in seen:
                seen.add(memory.id)
                sections["neighborhood"].append(label(memory))
    for memory in relevant:
        if memory.id not in seen:
            seen.add(memory.id)
            sections["user" if memory.type == "user" else "context"].append(label(memory))
    parts: list[str] = []
    for title, key in (
        ("User Memory", "user"),
        ("Memory Neighborhood", "neighborhood"),
        ("Relevant Context", "context"),
    ):
        if sections[key]:
            ordered = sorted(sections[key], key=lambda text: (text.casefold(), text))
            parts.append(f"[{title}]\n" + "\n".join(f"- {text}" for text in ordered))
    if not parts:
        return None
    user_parts = [p for p in parts if p.startswith("[User Memory]")]
    other_parts = [p for p in parts if not p.startswith("[User Memory]")]
    rendered = "\n\n".join(
        [
            "\n\n".join(user_parts)[: max(MIN_SECTION_CHARS, user_limit)],
            "\n\n".join(other_parts)[: max(MIN_SECTION_CHARS, context_limit)],
        ]
    ).strip()
    if not rendered:
        return None
    return f"{MEMORY_CONTEXT_OPEN}\n{rendered}\n{MEMORY_CONTEXT_CLOSE}"


def without_old_context(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop a `<memory_context>` block an earlier turn left in the first system message."""
    if not messages or messages[0].get("role") != "system":
        return messages
    content = messages[0].get("content")
    if not isinstance(content, str) or MEMORY_CONTEXT_OPEN not in content:
        return messages
    start = content.find(MEMORY_CONTEXT_OPEN)
    end = content.find(MEMORY_CONTEXT_CLOSE, start)
    if end == -1:
        return messages
    kept = (content[:start] + content[end + len(MEMORY_CONTEXT_CLOSE) :]).strip()
    return [{**messages[0], "content": kept}, *messages[1:]]
