"""Saved chat messages as a model reads them again, one rule for the daemon and the clients
(standard library only).

A user message says its text (and its images: schemas.images.model_content). An assistant
answer that ran tools keeps Open WebUI 0.12's `output` items (`message`, `function_call`,
`function_call_output`); when the chat goes on, they are replayed as 0.12 replays them
(utils/misc.py `convert_output_to_messages`): the text before the calls and the calls go into
one assistant message with `tool_calls`, each result follows as a `tool` message, and the
text after them is the next assistant message. Only calls that were settled (completed,
failed, rejected) and have their result are replayed, so every call keeps its result.
"""

import json
from typing import Any

from webui_daemon.schemas.images import model_content

# A call in these states has finished; a result saved with it is replayed.
SETTLED = frozenset({"completed", "failed", "rejected"})


def model_messages(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The OpenAI messages one saved chat message stands for (one, or more for an answer
    that ran tools)."""
    role = message.get("role", "user")
    if role == "assistant":
        replayed = output_messages(message.get("output"))
        if replayed:
            return replayed
    return [{"role": role, "content": model_content(message)}]


def output_messages(output: Any) -> list[dict[str, Any]]:
    """0.12's `output` items as OpenAI messages: assistant (with `tool_calls`) and `tool`."""
    if not isinstance(output, list):
        return []
    items = [item for item in output if isinstance(item, dict)]
    settled = {
        item.get("call_id")
        for item in items
        if item.get("type") == "function_call" and item.get("status") in SETTLED
    }
    answered = {item.get("call_id") for item in items if item.get("type") == "function_call_output"}
    replayed = (settled & answered) - {None, ""}

    messages: list[dict[str, Any]] = []
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []

    def flush_assistant() -> None:
        if texts or calls:
            said: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts)}
            if calls:
                said["tool_calls"] = list(calls)
            messages.append(said)
            texts.clear()
            calls.clear()

    def flush_results() -> None:
        if results:
            flush_assistant()
            messages.extend(results)
            results.clear()

    for item in items:
        kind = item.get("type")
        if kind != "function_call_output":
            flush_results()
        if kind == "message":
            text = "".join(
                str(part.get("text", ""))
                for part in item.get("content") or []
                if isinstance(part, dict) and part.get("type") == "output_text"
            )
            if text:
                texts.append(text)
        elif kind == "function_call" and item.get("call_id") in replayed:
            calls.append(
                {
                    "id": str(item["call_id"]),
                    "type": "function",
                    "function": {
                        "name": str(item.get("name") or ""),
                        "arguments": _arguments(item.get("arguments")),
                    },
                }
            )
        elif kind == "function_call_output" and item.get("call_id") in replayed:
            results.append(
                {"role": "tool", "tool_call_id": str(item["call_id"]), "content": _text(item)}
            )
    flush_results()
    flush_assistant()
    return _paired(messages)


def _arguments(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    return json.dumps(raw if raw is not None else {}, ensure_ascii=False)


def _text(item: dict[str, Any]) -> str:
    parts = item.get("output")
    if isinstance(parts, str):
        return parts
    return "".join(
        str(part.get("text", ""))
        for part in parts or []
        if isinstance(part, dict) and part.get("type") == "input_text"
    )


def _paired(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every call followed by its result and every result by its call, as providers require
    (0.12's `reconcile_tool_pairs`): a result the calls just before it do not name is dropped,
    and so is a call whose result does not follow."""
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if message["role"] == "tool":
            head = next((m for m in reversed(out) if m["role"] != "tool"), None)
            named = {c["id"] for c in (head or {}).get("tool_calls") or []}
            if message["tool_call_id"] in named:
                out.append(message)
            continue
        calls = message.get("tool_calls")
        if not calls:
            out.append(message)
            continue
        following = set()
        for after in messages[index + 1 :]:
            if after["role"] != "tool":
                break
            following.add(after["tool_call_id"])
        kept = [c for c in calls if c["id"] in following]
        if kept:
            out.append({**message, "tool_calls": kept})
        elif message.get("content"):
            out.append({k: v for k, v in message.items() if k != "tool_calls"})
    return out
