"""Printing: rich tables on a terminal, tab-separated lines in a pipe, JSON with --json."""

import json
import sys
import time
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from pydantic import BaseModel

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def stdout_is_tty() -> bool:
    return sys.stdout.isatty()


Printable = BaseModel | Sequence[BaseModel | dict[str, Any]] | dict[str, Any]


def to_json(value: Printable) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return value
    return [item.model_dump(mode="json") if isinstance(item, BaseModel) else item for item in value]


def print_json(value: Printable) -> None:
    sys.stdout.write(json.dumps(to_json(value), indent=2, ensure_ascii=False) + "\n")


def print_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on a terminal; in a pipe, one tab-separated line per row, no header."""
    if not stdout_is_tty():
        for row in rows:
            print("\t".join(" ".join(cell.split()) for cell in row))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(header_style="bold", box=None, pad_edge=False)
    for index, header in enumerate(columns):
        # The first column holds ids, which people copy: never shorten it.
        widest = max((len(row[0]) for row in rows), default=0) if index == 0 else None
        table.add_column(header, no_wrap=index == 0, min_width=widest)
    for row in rows:
        # Text, not str: a name like "[admin]" must not be read as rich markup.
        table.add_row(*(Text(cell) for cell in row))
    Console().print(table)


def counted(count: int, noun: str, plural: str = "") -> str:
    """`1 chunk`, `2 chunks`, `0 chunks` (`plural` for irregular nouns)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def say(text: str) -> None:
    print(text)


def note(text: str) -> None:
    """A remark for the person, on stderr so that stdout stays clean for scripts."""
    print(f"webui: {text}", file=sys.stderr)


def when(epoch: int | None) -> str:
    if not epoch:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))
