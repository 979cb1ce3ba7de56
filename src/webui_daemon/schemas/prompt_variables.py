"""Template variables of prompts and system prompts: one rule for the daemon and the clients.

Open WebUI fills `{{NAME}}` variables in two places: the server renders a model's system prompt
(`{{USER_NAME}}`, `{{CURRENT_DATE}}`, ...), and the client expands a prompt picked from the
library (the same clock and user variables, `{{CLIPBOARD}}`, and custom input variables such as
`{{topic}}` or `{{tone | select:options=["short","long"]:required}}`, which it asks the user
for). Standard library only: the CLI and the TUI import it.
"""

import datetime as dt
import json
import re
from typing import Any

# `{{ name | definition }}` and a plain `{{ name }}`, as the 0.12 web UI matches them.
_WITH_DEFINITION = re.compile(r"{{\s*([^|}\s]+)\s*\|\s*([^}]+?)\s*}}")
_PLAIN = re.compile(r"{{\s*([^|}\s]+)\s*}}")

# Filled by the client from the clock and the signed-in user, never asked for.
CLOCK = ("CURRENT_DATE", "CURRENT_TIME", "CURRENT_DATETIME", "CURRENT_WEEKDAY", "CURRENT_TIMEZONE")
USER = (
    "USER_NAME",
    "USER_EMAIL",
    "USER_BIO",
    "USER_GENDER",
    "USER_BIRTH_DATE",
    "USER_AGE",
    "USER_LANGUAGE",
    "USER_LOCATION",
)


def clock_values(now: dt.datetime) -> dict[str, str]:
    """`{{CURRENT_*}}` in the web UI's formats (24-hour time, the weekday's English name)."""
    return {
        "{{CURRENT_DATE}}": now.strftime("%Y-%m-%d"),
        "{{CURRENT_TIME}}": now.strftime("%H:%M:%S"),
        "{{CURRENT_DATETIME}}": now.strftime("%Y-%m-%d %H:%M:%S"),
        "{{CURRENT_WEEKDAY}}": now.strftime("%A"),
        "{{CURRENT_TIMEZONE}}": str(now.tzinfo or ""),
    }


def age(birth: str | None, today: dt.date) -> str | None:
    try:
        born = dt.date.fromisoformat(str(birth))
    except ValueError:
        return None
    return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


def user_values(user: Any, now: dt.datetime, language: str = "en-US") -> dict[str, str]:
    """What the web UI puts in a prompt picked from the library for the signed-in `user` (any
    object with name, email, bio, gender, date_of_birth). As there, an unknown e-mail, bio,
    gender or birth date leaves its variable in place; the name falls back to "User"."""
    values = {
        "{{USER_NAME}}": getattr(user, "name", None) or "User",
        "{{USER_LANGUAGE}}": language,
        "{{USER_LOCATION}}": "LOCATION_UNKNOWN",
    }
    for name, attribute in (
        ("EMAIL", "email"),
        ("BIO", "bio"),
        ("GENDER", "gender"),
        ("BIRTH_DATE", "date_of_birth"),
    ):
        value = getattr(user, attribute, None)
        if value:
            values["{{USER_" + name + "}}"] = str(value)
    years = age(getattr(user, "date_of_birth", None), now.date())
    if years is not None:
        values["{{USER_AGE}}"] = years
    return values


def substitute(template: str, values: dict[str, str]) -> str:
    """Replace each `{{NAME}}` key of `values` wherever it occurs."""
    if "{{" not in template:
        return template
    for name, value in values.items():
        if name in template:
            template = template.replace(name, value)
    return template


def _split(text: str, delimiter: str) -> list[str]:
    """Split at `delimiter` outside quotes and brackets (the web UI's splitProperties)."""
    parts: list[str] = []
    current, depth, quoted, escaped = "", 0, False, False
    for char in text:
        if escaped:
            current, escaped = current + char, False
            continue
        if char == "\\":
            current, escaped = current + char, True
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "{[":
            depth += 1
        elif not quoted and char in "}]":
            depth -= 1
        elif not quoted and char == delimiter and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _value(raw: str) -> Any:
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        return raw[1:-1]
    if raw[:1] in ("[", "{"):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def _definition(text: str) -> dict[str, Any]:
    first, *properties = _split(text, ":") or [""]
    spec: dict[str, Any] = {"type": first[5:] if first.startswith("type=") else first}
    for part in properties:
        name, *rest = _split(part, "=")
        if not name.strip():
            continue
        spec[name.strip()] = _value("=".join(rest).strip()) if rest else True
    return spec


def input_variables(text: str) -> dict[str, dict[str, Any]]:
    """The custom variables a prompt asks for, in order: name → {"type": "text"|"select"|...,
    and the definition's properties: options, default, placeholder, required, ...}."""
    defined = {m.group(1).strip(): m for m in _WITH_DEFINITION.finditer(text)}
    first: dict[str, int] = {}
    for match in [*_WITH_DEFINITION.finditer(text), *_PLAIN.finditer(text)]:
        name = match.group(1).strip()
        first[name] = min(first.get(name, match.start()), match.start())
    found: dict[str, dict[str, Any]] = {}
    # In the order they appear; a name with a definition anywhere takes it (as the web UI).
    for name in sorted(first, key=first.__getitem__):
        definition = defined.get(name)
        found[name] = _definition(definition.group(2).strip()) if definition else {"type": "text"}
    return found


def fill_inputs(text: str, values: dict[str, str]) -> str:
    """Put each value where its variable stands, with or without a definition."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return values[name] if name in values else match.group(0)

    return _PLAIN.sub(replace, _WITH_DEFINITION.sub(replace, text))
