"""The template variable rule shared by the daemon and the clients (schemas/prompt_variables):
definitions parsed as the 0.12 web UI parses them, filled in with or without a definition, and
the user's and the clock's values."""

import datetime as dt
from types import SimpleNamespace

from webui_daemon.schemas.prompt_variables import (
    clock_values,
    fill_inputs,
    input_variables,
    substitute,
    user_values,
)

NOW = dt.datetime(2026, 12, 5, 14, 3, 9, tzinfo=dt.UTC)


def test_definitions_are_parsed_like_the_web_ui() -> None:
    text = (
        '{{topic}} {{ tone | select:options=["short","long"]:required }} '
        '{{when|type=date:default="2026-01-01"}} {{notes | textarea:placeholder="a:b"}} {{topic}}'
    )
    assert input_variables(text) == {
        "topic": {"type": "text"},
        "tone": {"type": "select", "options": ["short", "long"], "required": True},
        "when": {"type": "date", "default": "2026-01-01"},
        "notes": {"type": "textarea", "placeholder": "a:b"},
    }


def test_a_definition_anywhere_wins_and_order_is_the_texts() -> None:
    found = input_variables("{{b}} then {{a}} then {{b | number:min=1}}")
    assert list(found) == ["b", "a"] and found["b"] == {"type": "number", "min": "1"}


def test_fill_inputs_replaces_both_forms_and_leaves_the_rest() -> None:
    text = '{{a}}-{{ a | text }}-{{b|select:options=["x"]}}-{{c}}'
    assert fill_inputs(text, {"a": "1", "b": "x"}) == "1-1-x-{{c}}"


def test_user_values_leave_unknown_ones_in_place() -> None:
    user = SimpleNamespace(name="Ada", email="", bio=None, gender=None, date_of_birth="1990-12-06")
    values = user_values(user, NOW)
    text = "{{USER_NAME}} {{USER_EMAIL}} {{USER_AGE}} {{USER_LOCATION}} {{USER_LANGUAGE}}"
    assert substitute(text, values) == "Ada {{USER_EMAIL}} 35 LOCATION_UNKNOWN en-US"
    nobody = SimpleNamespace(name="")
    assert substitute("{{USER_NAME}}", user_values(nobody, NOW)) == "User"


def test_clock_values() -> None:
    text = "{{CURRENT_DATE}} {{CURRENT_TIME}} {{CURRENT_WEEKDAY}} {{CURRENT_DATETIME}}"
    assert substitute(text, clock_values(NOW)) == (
        "2026-12-05 14:03:09 Saturday 2026-12-05 14:03:09"
    )
