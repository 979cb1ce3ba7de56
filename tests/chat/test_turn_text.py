"""Titles from a task model's reply: JSON, or the first line, tidied."""

import pytest

from webui_daemon.services.turns.turn_text import parse_title


@pytest.mark.parametrize(
    ("reply", "title"),
    [
        ('{"title": "Rust lifetimes explained"}', "Rust lifetimes explained"),
        ('Sure! {"title": "🐍 Python tips"} Hope it helps.', "🐍 Python tips"),
        ('"Quoted title"\nand more text', "Quoted title"),
        ("## **Markdown heading**", "Markdown heading"),
        ("Hello **world** and `code`.", "Hello world and code."),
        ("\n\n  plain words  \n", "plain words"),
        ("{not json at all}", "{not json at all}"),
        ("x" * 200, "x" * 80),
        ("", ""),
    ],
)
def test_parse_title(reply: str, title: str) -> None:
    assert parse_title(reply) == title
