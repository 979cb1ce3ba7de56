"""Merging consecutive text deltas of a streamed answer into one chunk (fewer, larger events)."""

from typing import Any

_TEXT = ("content", "reasoning_content")


def _text_key(chunk: dict[str, Any]) -> str | None:
    """`content` or `reasoning_content` for a chunk that carries only that text (and maybe
    the role); None for anything else (finish, usage, tool calls, logprobs, several choices)."""
    if chunk.get("usage") is not None:
        return None
    choices = chunk.get("choices")
    if not isinstance(choices, list) or len(choices) != 1:
        return None
    choice = choices[0]
    if (
        not isinstance(choice, dict)
        or choice.get("finish_reason") is not None
        or choice.get("logprobs") is not None
        or choice.get("index", 0) != 0
    ):
        return None
    delta = choice.get("delta")
    if not isinstance(delta, dict):
        return None
    key = None
    for name, value in delta.items():
        if value is None or name == "role":
            continue
        if name in _TEXT and isinstance(value, str) and key is None:
            key = name
            continue
        return None
    return key


def carries_output(chunk: dict[str, Any]) -> bool:
    """Whether a chunk gives the client something to show (text, reasoning, a tool call),
    beyond the role or an empty opening delta."""
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return False
    for choice in choices:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if isinstance(delta, dict) and any(v for k, v in delta.items() if k != "role"):
            return True
    return False


def merge_text_chunks(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs of chunks that only add text of one kind become one chunk with the joined text.

    The chunks must be the caller's own (freshly parsed or built): the first of a run is
    extended in place. Order, and every chunk that is not plain text, are kept as they are.
    """
    if len(chunks) < 2:
        return chunks
    out: list[dict[str, Any]] = []
    last: str | None = None
    for chunk in chunks:
        key = _text_key(chunk)
        if key is not None and key == last:
            delta = out[-1]["choices"][0]["delta"]
            delta[key] += chunk["choices"][0]["delta"][key]
            continue
        out.append(chunk)
        last = key
    return out
