"""Prompts of the task routes (/api/v1/tasks/*/completions): webui's default wording and the
placeholders of Open WebUI's prompt templates, so an admin's 0.12 template works here.

Placeholders: `{{MESSAGES}}`, `{{MESSAGES:START:n}}`, `{{MESSAGES:END:n}}`,
`{{MESSAGES:MIDDLETRUNCATE:n}}` (the chat as `ROLE: text` lines), `{{prompt}}` and its
`:start:n` / `:end:n` / `:middletruncate:n` forms (the last user message, or the emoji task's
text), `{{CURRENT_DATE}}`. The title task's default is the one server-side turns use
(turn_text.TITLE_PROMPT), so a chat gets the same kind of title either way.
"""

import datetime
import math
import re
from typing import Any

from webui_daemon.rag.template import last_user_text, message_text
from webui_daemon.services.turns.turn_text import TITLE_PROMPT

TAGS_PROMPT = """Give 1 to 3 broad tags for the main themes of the chat below (for example \
Science, Technology, Arts, Business, Health, Education), then 1 to 3 narrower subtopic tags. \
For a very short or scattered chat use only "General". Use the chat's language.
Answer with JSON only: { "tags": ["tag1", "tag2"] }

<chat_history>
{{MESSAGES:END:6}}
</chat_history>"""

FOLLOW_UP_PROMPT = """Suggest 3 to 5 short messages the user could plausibly send next in the \
chat below, written as the user, in the user's language, most useful first. Do not repeat \
what was already answered and do not invent facts about the user. Each under 400 characters.
Answer with JSON only: { "follow_ups": ["message 1", "message 2", "message 3"] }

<chat_history>
{{MESSAGES:END:5}}
</chat_history>"""

QUERY_PROMPT = """Write 1 to 3 short search queries, in the chat's language, that would find \
information useful for answering the latest message of the chat below. If no search could \
help, give an empty list. Today is {{CURRENT_DATE}}.
Answer with JSON only: { "queries": ["query 1", "query 2"] }

<chat_history>
{{MESSAGES:END:6}}
</chat_history>"""

EMOJI_PROMPT = """Answer with one emoji only: the facial expression that best fits the \
feeling of this message.

Message: ```{{prompt}}```"""

_MESSAGES = re.compile(r"\{\{MESSAGES(?::(START|END|MIDDLETRUNCATE):(\d+))?(?:\|(\w+):(\d+))?\}\}")
_PROMPT = re.compile(r"(?i)\{\{prompt(?::(start|end|middletruncate):(\d+))?\}\}")


def transcript(messages: list[dict[str, Any]]) -> str:
    return "\n".join(f"{str(m.get('role', '')).upper()}: {message_text(m)}" for m in messages)


def _cut(text: str, mode: str, n: int) -> str:
    mode = mode.lower()
    if mode == "start":
        return text[:n]
    if mode == "end":
        return text[-n:] if n else ""
    if len(text) <= n:
        return text
    return f"{text[: math.ceil(n / 2)]}...{text[len(text) - math.floor(n / 2) :]}"


def _select(messages: list[dict[str, Any]], mode: str | None, n: int) -> list[dict[str, Any]]:
    if mode == "START":
        return messages[:n]
    if mode == "END":
        return messages[-n:] if n else []
    if mode == "MIDDLETRUNCATE" and len(messages) > n:
        half = n // 2
        return messages[:half] + messages[len(messages) - (n - half) :]
    return messages


def render(template: str, messages: list[dict[str, Any]], prompt: str | None = None) -> str:
    """Fill a template's placeholders (see the module docstring)."""
    text = prompt if prompt is not None else last_user_text(messages)

    def fill_messages(m: re.Match[str]) -> str:
        chosen = _select(messages, m.group(1), int(m.group(2) or 0))
        if m.group(3):
            mode, n = m.group(3), int(m.group(4))
            if mode.lower() in ("start", "end", "middletruncate"):
                chosen = [{**c, "content": _cut(message_text(c), mode, n)} for c in chosen]
        return transcript(chosen)

    def fill_prompt(m: re.Match[str]) -> str:
        return _cut(text, m.group(1), int(m.group(2))) if m.group(1) else text

    out = _MESSAGES.sub(fill_messages, template)
    out = _PROMPT.sub(fill_prompt, out)
    return out.replace("{{CURRENT_DATE}}", datetime.date.today().isoformat())


def title_prompt(template: str, messages: list[dict[str, Any]]) -> str:
    """An admin's title template, else the turns' own prompt over the last exchange."""
    if template.strip():
        return render(template, messages)
    return TITLE_PROMPT.format(transcript=transcript(messages[-2:]))
