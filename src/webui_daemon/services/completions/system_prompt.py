"""System prompts: template variables ({{USER_NAME}}, {{CURRENT_DATE}}, ...) and placement.

Open WebUI renders a preset's `params.system` with these variables and puts it before the
request's own system message (joined with a newline), or as a new first message.
"""

import datetime as dt
import zoneinfo
from typing import Any

from webui_daemon.schemas import prompt_variables
from webui_daemon.storage.rows import UserRow


def _now(user: UserRow) -> dt.datetime:
    if user.timezone:
        try:
            return dt.datetime.now(zoneinfo.ZoneInfo(user.timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return dt.datetime.now().astimezone()


def template_values(user: UserRow, groups: list[str] | None = None) -> dict[str, str]:
    now = _now(user)
    return {
        "{{USER_NAME}}": user.name,
        "{{USER_EMAIL}}": user.email,
        "{{USER_ID}}": user.id,
        "{{USER_ROLE}}": user.role,
        "{{USER_BIO}}": user.bio or "",
        "{{USER_GENDER}}": user.gender or "Unknown",
        "{{USER_BIRTH_DATE}}": user.date_of_birth or "Unknown",
        "{{USER_AGE}}": prompt_variables.age(user.date_of_birth, now.date()) or "Unknown",
        "{{USER_LOCATION}}": "Unknown",
        "{{USER_LANGUAGE}}": "en-US",
        "{{USER_GROUPS}}": ", ".join(groups or []),
        **prompt_variables.clock_values(now),
    }


def render(
    template: str,
    user: UserRow,
    variables: dict[str, Any] | None = None,
    groups: list[str] | None = None,
) -> str:
    """Substitute the variables; values the client sent (`variables`, as the web UI does) win."""
    if "{{" not in template:
        return template
    values = template_values(user, groups)
    for key, value in (variables or {}).items():
        name = key if key.startswith("{{") else "{{" + key + "}}"
        values[name] = str(value)
    return prompt_variables.substitute(template, values)


def place_system(messages: list[Any], system: str) -> list[Any]:
    """Put `system` before the first message's text when it is a system message, else first."""
    if not system:
        return messages
    first = messages[0] if messages and isinstance(messages[0], dict) else None
    if first is not None and first.get("role") == "system":
        content = first.get("content")
        if isinstance(content, list):
            merged: Any = [{"type": "text", "text": system}, *content]
        else:
            merged = f"{system}\n{content}" if content else system
        return [{**first, "content": merged}, *messages[1:]]
    return [{"role": "system", "content": system}, *messages]
