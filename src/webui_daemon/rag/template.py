"""The RAG prompt: `<source>` context numbered per distinct document, Open WebUI's default
template, and where the rendered template goes in the messages (spec 7.6)."""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

from webui_daemon.schemas.citations import number_sources, numbered_chunks

DEFAULT_RAG_TEMPLATE = """### Task:
Respond to the user query using the provided context, incorporating inline citations in the format [id] **only when the <source> tag includes an explicit id attribute** (e.g., <source id="1">).

### Guidelines:
- If you don't know the answer, clearly state that.
- If uncertain, ask the user for clarification.
- Respond in the same language as the user's query.
- If the context is unreadable or of poor quality, inform the user and provide the best possible answer.
- If the answer isn't present in the context but you possess the knowledge, explain this to the user and provide the answer using your own understanding.
- **Only include inline citations using [id] (e.g., [1], [2]) when the <source> tag includes an id attribute.**
- Do not cite if the <source> tag does not contain an id attribute.
- Do not use XML tags in your response.
- Ensure citations are concise and directly related to the information provided.

### Example of Citation:
If the user asks about a specific topic and the information is found in a source with a provided id attribute, the response should include the citation like in the following example:
* "According to the study, the proposed method increases efficiency by 20% [1]."

### Output:
Provide a clear and direct response to the user's query, including inline citations in the format [id] only when the <source> tag with id attribute is present in the context.

<context>
{{CONTEXT}}
</context>
"""  # noqa: E501  (Open WebUI's text, kept verbatim)

_PLACEHOLDER = re.compile(
    r"\{\{(CONTEXT|QUERY|CURRENT_DATE|CURRENT_TIME|CURRENT_DATETIME|CURRENT_WEEKDAY|USER_NAME)\}\}"
    r"|\[(context|query)\]"
)


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def source_context(sources: list[dict[str, Any]]) -> str:
    """Every chunk as `<source id="N" name="...">text</source>`, numbered and named by
    `schemas.citations` (one number per distinct document, in order of first appearance), so
    `[N]` in the answer is the document the clients list as N."""
    titles = {c.number: c.title for c in number_sources(sources)}
    lines: list[str] = []
    for chunk in numbered_chunks(sources):
        title = titles.get(chunk.number)
        attrs = f' name="{_attr(title)}"' if title else ""
        lines.append(f'<source id="{chunk.number}"{attrs}>{chunk.text}</source>')
    return "\n".join(lines)


def render_template(
    template: str,
    context: str,
    query: str,
    *,
    user_name: str | None = None,
    now: datetime | None = None,
) -> str:
    """Fill {{CONTEXT}}/[context], {{QUERY}}/[query] and date/user variables in one pass, so
    text coming from documents or the user is never expanded again."""
    moment = now or datetime.now()
    values = {
        "CONTEXT": context,
        "context": context,
        "QUERY": query,
        "query": query,
        "CURRENT_DATE": moment.strftime("%Y-%m-%d"),
        "CURRENT_TIME": moment.strftime("%H:%M:%S"),
        "CURRENT_DATETIME": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "CURRENT_WEEKDAY": moment.strftime("%A"),
        "USER_NAME": user_name or "",
    }
    template = template or DEFAULT_RAG_TEMPLATE
    return _PLACEHOLDER.sub(lambda m: values[m.group(1) or m.group(2)], template)


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message)
    return ""


def inject(
    messages: list[dict[str, Any]], rendered: str, *, system_context: bool
) -> list[dict[str, Any]]:
    """A copy of `messages` with the rendered template placed as Open WebUI places it: before the
    last user message's text (a new user message when the last one is not from the user), or,
    with RAG_SYSTEM_CONTEXT, appended to the first system message (created when missing)."""
    out = copy.deepcopy(messages)
    if system_context:
        if out and out[0].get("role") == "system":
            _prefix_or_append(out[0], rendered, append=True)
        else:
            out.insert(0, {"role": "system", "content": rendered})
        return out
    if out and out[-1].get("role") == "user":
        _prefix_or_append(out[-1], rendered, append=False)
    else:
        out.append({"role": "user", "content": rendered})
    return out


def _prefix_or_append(message: dict[str, Any], text: str, *, append: bool) -> None:
    content = message.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                old = str(part.get("text", ""))
                part["text"] = f"{old}\n{text}" if append else f"{text}\n{old}"
        return
    old = content if isinstance(content, str) else ""
    message["content"] = f"{old}\n{text}" if append else f"{text}\n{old}"
