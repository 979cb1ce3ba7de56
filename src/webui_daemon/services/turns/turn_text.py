"""Text helpers of turns: titles, stored messages as wire messages, and reply text."""

import contextlib
import json
from typing import Any

from webui_daemon.schemas.replay import model_messages

TITLE_PROMPT = (
    "Write a concise title of 3 to 5 words for the conversation below, in its language. "
    'Answer with JSON only: {{"title": "..."}}\n\n{transcript}'
)


def parse_title(text: str) -> str:
    """The title from a task model's reply: JSON {"title": ...} or its first line, tidied."""
    text = text.strip()
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        with contextlib.suppress(ValueError):
            value = json.loads(text[start : end + 1]).get("title")
            if isinstance(value, str):
                text = value
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    # Markdown emphasis and code marks mean nothing in a title list.
    line = line.replace("**", "").replace("__", "").replace("`", "")
    line = line.strip("\"'*# \t")
    return line[:80]


def wire_messages(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A stored chat message as OpenAI messages: role and content, a user message's images as
    content parts, an answer that ran tools as its calls and results (schemas.replay)."""
    return model_messages(message)


def reply_text(reply: dict[str, Any]) -> str:
    choices = reply.get("choices") or [{}]
    return str((choices[0].get("message") or {}).get("content") or "")
