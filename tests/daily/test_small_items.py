"""Small daily-use items of issue 13: a heading alone takes no top-k place in a search,
`webui groups rm` of a missing group says so before asking, and counts are singular for 1."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import chat_env
from tests.cli_support import one_error_line, webui
from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from webui_daemon.rag.chunking import chunk_document
from webui_daemon.rag.loaders import load_text

TIMETABLE = """# Ferry timetable

## Ferries to Cape Varn

### Winter ferries

The winter ferry to Cape Varn leaves the harbour of Lune at nine every morning.

## Bells

The bell tower of Amsel rings thirteen times at noon on the day of the fair.

## Notes
"""


def _headings_only(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()]
    return all(line.lstrip().startswith("#") for line in lines)


daemon = daemon_fixture(env=lambda: model_env(), tmp="small")


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def _ok(env: dict[str, str], *args: str) -> str:
    result = webui(*args, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_chunking_joins_headings_to_their_text() -> None:
    doc = load_text(TIMETABLE.encode(), "md")
    chunks = chunk_document(doc, 1000, 100)
    assert [c.text.splitlines()[-1] for c in chunks] == [
        "The winter ferry to Cape Varn leaves the harbour of Lune at nine every morning.",
        "The bell tower of Amsel rings thirteen times at noon on the day of the fair.",
    ]
    assert chunks[0].text.startswith("# Ferry timetable\n\n## Ferries to Cape Varn")
    assert chunks[0].headers == ("Ferry timetable", "Ferries to Cape Varn", "Winter ferries")
    for chunk in chunks:  # offsets still point at the chunk's text
        assert doc.content[chunk.start_index : chunk.start_index + len(chunk.text)] == chunk.text
    # A heading cut off from a long paragraph by the splitter is left out too.
    long = load_text(b"## Words\n\n" + b"word " * 300, "md")
    assert not any(_headings_only(c.text) for c in chunk_document(long, 200, 20))
    # A document of headings only keeps them (it is still found by its words).
    assert [c.text for c in chunk_document(load_text(b"# Only a title\n", "md"), 1000, 0)] == [
        "# Only a title"
    ]


def test_a_heading_alone_takes_no_search_place(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "timetable.md").write_text(TIMETABLE)
    _ok(env, "kb", "create", "Ferries")
    added = _ok(env, "kb", "add", "Ferries", str(tmp_path / "timetable.md"))
    assert added.splitlines()[0].endswith("\t2 chunks"), added
    hits: list[dict[str, Any]] = json.loads(
        _ok(env, "kb", "search", "Ferries", "Ferries to Cape Varn", "-k", "3", "--json")
    )
    assert len(hits) == 2
    assert not any(_headings_only(hit["text"]) for hit in hits), hits
    assert "leaves the harbour of Lune" in hits[0]["text"]


def test_one_chunk_is_singular(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "bells.txt").write_text("The bell tower of Amsel rings at noon.\n")
    _ok(env, "kb", "create", "Bells")
    added = _ok(env, "kb", "add", "Bells", str(tmp_path / "bells.txt"))
    assert added.splitlines()[0].endswith("\t1 chunk"), added


def test_removing_a_missing_group_says_so_before_asking(env: dict[str, str]) -> None:
    result = webui("groups", "rm", "no-such-group", env=env)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert "no group named 'no-such-group'" in line
    assert "--yes" not in line and "Delete" not in line
    # An existing one is still confirmed (no terminal here: --yes is required).
    _ok(env, "groups", "create", "ops")
    refused = webui("groups", "rm", "ops", env=env)
    assert refused.returncode == 1 and "--yes" in one_error_line(refused)
    assert "Deleted group ops." in _ok(env, "groups", "rm", "ops", "--yes")
