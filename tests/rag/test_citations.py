"""Citation numbers are one rule (`webui_daemon.schemas.citations`): the `<source id="N">` the
daemon writes into the model's context, the `Sources:` list `webui chat` prints and what the
TUI shows under an answer and in its sources panel name the same document for the same N."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.cli_chat_support import MODEL, chat_env
from tests.cli_support import webui as run_webui
from tests.contract.replay import Replay
from tests.contract.test_contract_cli import Invoke, webui  # noqa: F401  (the fixture)
from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui.test_attach import drawn
from webui_daemon.rag.template import source_context
from webui_daemon.schemas.citations import number_sources
from webui_tui.app.widgets.message_view import MessageInfo, MessageView
from webui_tui.app.widgets.sources import SourcesPanel

# Open WebUI-shaped sources with every case that can split the numbering: one file's chunks in
# two source items, pages as labels and as 0-based ints, header paths, a name differing from
# the source, chunks without metadata.source (keyed by the item's id, or "N/A" without one),
# and a chunk whose metadata entry is missing.
TRICKY: list[dict[str, Any]] = [
    {
        "source": {"type": "collection", "id": "kb1", "name": "Lore"},
        "document": ["guide p2", "notes setup", "guide p5"],
        "metadata": [
            {"source": "guide.pdf", "name": "guide.pdf", "file_id": "f-guide", "page_label": "ii"},
            {
                "source": "docs/notes.md",
                "name": "Notes (draft)",
                "file_id": "f-notes",
                "headers": ["Intro", "Setup"],
            },
            {"source": "guide.pdf", "name": "guide.pdf", "file_id": "f-guide", "page": 4},
        ],
    },
    {
        "source": {"type": "file", "id": "f-guide", "name": "guide.pdf"},
        "document": ["guide p7", "unlabelled"],
        "metadata": [{"source": "guide.pdf", "page_label": "7"}],  # the 2nd entry is missing
    },
    {
        "source": {"type": "note", "id": "note-7"},
        "document": ["note a", "note b"],
        "metadata": [{"name": "Camping", "file_id": "note-7"}, {"name": "Camping (cont.)"}],
    },
    {"source": {"type": "text", "name": "pasted"}, "document": ["pasted text"], "metadata": [{}]},
    {
        "source": {"type": "web_search", "id": "ws", "name": "web"},
        "document": ["quokka facts"],
        "metadata": [
            {"source": "https://example.org/q", "name": "Quokka - Wiki", "headers": ["Habitat"]}
        ],
    },
]
LISTED = [
    "[1] guide.pdf (pages ii, 5, 7)",
    "[2] Notes (draft) (Intro > Setup)",
    "[3] guide.pdf",
    "[4] Camping",
    "[5] pasted",
    "[6] Quokka - Wiki (Habitat)",
]
TAG = re.compile(r'<source id="(\d+)"(?: name="([^"]*)")?>(.*?)</source>', re.S)


def told(context: str) -> list[tuple[int, str, str]]:
    """(number, name, text) of each `<source>` tag, in order."""
    return [(int(n), name, text) for n, name, text in TAG.findall(context)]


def names_of(tags: list[tuple[int, str, str]]) -> dict[int, str]:
    """Number -> name as the context gives it; every tag of one number gives one name."""
    out: dict[int, str] = {}
    for number, name, _ in tags:
        assert out.setdefault(number, name) == name, (number, name, out)
    return out


def agree(lines: list[str], tags: list[tuple[int, str, str]]) -> None:
    """`[N] name` lines list exactly the documents the context numbers, by the same names."""
    names = names_of(tags)
    assert [int(line[1 : line.index("]")]) for line in lines] == sorted(names), (lines, names)
    for line in lines:
        number = int(line[1 : line.index("]")])
        head = f"[{number}] {names[number]}"
        assert line == head or line.startswith(f"{head} ("), (line, names[number])


def test_the_context_numbers_each_chunk_by_its_document() -> None:
    assert told(source_context(TRICKY)) == [
        (1, "guide.pdf", "guide p2"),
        (2, "Notes (draft)", "notes setup"),
        (1, "guide.pdf", "guide p5"),
        (1, "guide.pdf", "guide p7"),  # the same file, attached again: the same number
        (3, "guide.pdf", "unlabelled"),  # no metadata: the item's id is its document
        (4, "Camping", "note a"),
        (4, "Camping", "note b"),  # two names, one item without metadata.source: one number
        (5, "pasted", "pasted text"),  # no source, no id: "N/A"
        (6, "Quokka - Wiki", "quokka facts"),
    ]


def test_the_documents_listed_are_the_ones_numbered_in_the_context() -> None:
    citations = number_sources(TRICKY)
    assert [c.line() for c in citations] == LISTED
    assert [(c.key, c.file_id, c.snippet) for c in citations] == [
        ("guide.pdf", "f-guide", "guide p2"),
        ("docs/notes.md", "f-notes", "notes setup"),
        ("f-guide", None, "unlabelled"),
        ("note-7", "note-7", "note a"),
        ("N/A", None, "pasted text"),
        ("https://example.org/q", None, "quokka facts"),
    ]
    tags = told(source_context(TRICKY))
    agree([c.line() for c in citations], tags)
    first_text: dict[int, str] = {}
    for number, _, text in tags:
        first_text.setdefault(number, text)
    assert {c.number: c.snippet for c in citations} == first_text


def test_sources_that_are_not_well_formed_are_read_as_far_as_they_go() -> None:
    odd: list[Any] = [
        "not a source",
        {"source": None, "document": ["x"], "metadata": [None]},
        {"source": {"id": "s2"}, "document": "not a list", "metadata": [{"source": "y"}]},
        {"source": {"id": "s3"}, "document": ["z", "z2"], "metadata": {"source": "no list"}},
    ]
    assert told(source_context(odd)) == [(1, "", "x"), (2, "", "z"), (2, "", "z2")]
    assert [c.line() for c in number_sources(odd)] == ["[1] N/A", "[2] s3"]


# ---- the CLI and the TUI on these sources ---------------------------------------------------


def test_webui_chat_prints_the_numbers_the_context_gives(webui: Invoke) -> None:  # noqa: F811
    """`webui chat --kb` on Open WebUI 0.12.4's recorded answers, its sources event swapped for
    the tricky one."""
    replay = Replay(
        "users-settings",
        "knowledge-list-with-file",
        "webui-info",
        "chats-new",
        "completion-with-kb",
        "chats-update-turn",
    )
    completion = next(r for r in replay.recordings if r["name"] == "completion-with-kb")
    first, _, rest = str(completion["body"]).partition("\n\n")
    assert first.startswith('data: {"sources"')
    completion["body"] = f"data: {json.dumps({'sources': TRICKY})}\n\n{rest}"
    ran = webui(replay, "chat", "--kb", "Handbook", "How many vacation days do I get?")
    assert ran.code == 0, ran.err
    printed = ran.out.partition("\n\nSources:\n")[2].splitlines()
    assert printed == LISTED
    agree(printed, told(source_context(TRICKY)))


class _Answer(App[None]):
    """One answer with its sources, and the sources panel opened on them."""

    CSS: ClassVar[str] = "SourcesPanel { width: 60; }"

    def compose(self) -> ComposeResult:
        info = MessageInfo(id="a1", role="assistant", speaker="model", content="Yes [1].")
        info.sources = TRICKY
        yield MessageView(info)
        yield SourcesPanel()


async def test_the_tui_shows_the_numbers_the_context_gives() -> None:
    app = _Answer()
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(SourcesPanel)
        panel.show_sources(TRICKY)
        await pilot.pause()
        entries = [str(s.content) for s in panel.query(Static).filter(".source")]
        under_answer = drawn(app.query_one(MessageView))
    tags = told(source_context(TRICKY))
    # The panel: "[N] name" then the first chunk's text.
    agree([entry.splitlines()[0] for entry in entries], tags)
    first_text: dict[int, str] = {}
    for number, _, text in tags:
        first_text.setdefault(number, text)
    assert [entry.splitlines()[1] for entry in entries] == list(first_text.values())
    # Under the answer: the list `webui chat` prints.
    shown = [line.strip() for line in under_answer.splitlines() if line.strip().startswith("[")]
    assert shown == LISTED


# ---- end to end: a real daemon, a knowledge base and `webui chat` ---------------------------

VOLCANO = "# Volcano\n\n## Eruptions\n\nMount Quillon erupted in 1822 and darkened Serre.\n"
GARDEN = "# Garden\n\nThe walled garden of Ostry grows saffron, quince and heirloom beans.\n"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply="It erupted in 1822 [1].")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: model_env(provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false")),
    tmp="cite",
)


def test_webui_chat_lists_the_numbers_the_model_was_given(
    daemon: DaemonProc, standin: StandIn, tmp_path: Path
) -> None:
    """A base with two files, and one of them attached again: its chunks in two source items
    share one number, in the prompt and in the list under the answer."""
    env = chat_env(daemon, tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "volcano.md").write_text(VOLCANO)
    (docs / "garden.txt").write_text(GARDEN)
    for args in (("kb", "create", "Lore"), ("kb", "add", "Lore", str(docs))):
        made = run_webui(*args, env=env, timeout=120)
        assert made.returncode == 0, made.stderr
    question = "When did Mount Quillon erupt, and what grows in Ostry?"
    result = run_webui(
        "chat", "--kb", "Lore", "--file", str(docs / "volcano.md"), question, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    prompt = "\n".join(str(m.get("content")) for m in standin.chats()[-1].body["messages"])
    tags = told(prompt.partition("<context>")[2].partition("</context>")[0])
    volcano = {number for number, _, text in tags if "Mount Quillon" in text}
    assert len([t for t in tags if "Mount Quillon" in t[2]]) == 2, prompt  # base and attached
    assert len(volcano) == 1, prompt
    printed = result.stdout.partition("\n\nSources:\n")[2].splitlines()
    agree(printed, tags)
    assert f"[{volcano.pop()}] volcano.md (Volcano > Eruptions)" in printed
