"""A prompt from the library made ready to send, as Open WebUI's web UI does it: the clock and
the signed-in user's variables filled in, `{{CLIPBOARD}}` from what the caller gives (in a
terminal: the text piped in or typed after the command), then the custom input variables
(`{{topic}}`, `{{tone | select:options=[...]}}`) from values the caller collects.

The rule itself lives in `webui_daemon.schemas.prompt_variables`, shared with the daemon.
"""

import datetime as dt
from typing import Any

from webui_daemon.schemas.prompt_variables import (
    clock_values,
    fill_inputs,
    input_variables,
    substitute,
    user_values,
)

CLIPBOARD = "{{CLIPBOARD}}"


def expand_known(
    content: str, user: Any, *, clipboard: str | None = None, now: dt.datetime | None = None
) -> str:
    """Fill what needs no question: clock, user, and the clipboard when there is one."""
    moment = now or dt.datetime.now().astimezone()
    values = {**clock_values(moment), **user_values(user, moment)}
    if clipboard is not None:
        values[CLIPBOARD] = clipboard.replace("\r\n", "\n")
    return substitute(content, values)


def questions(text: str) -> dict[str, dict[str, Any]]:
    """The variables still to ask for, each with its definition (type, options, default, ...)."""
    return input_variables(text)


def answer(text: str, values: dict[str, str]) -> str:
    return fill_inputs(text, values)


def default_of(spec: dict[str, Any]) -> str | None:
    """The value a variable offers without asking: its `default` (or `value`), if any."""
    for key in ("default", "value"):
        value = spec.get(key)
        if value is not None and value is not True:
            return str(value)
    return None


def options_of(spec: dict[str, Any]) -> list[str]:
    options = spec.get("options")
    return [str(o) for o in options] if isinstance(options, list) else []
