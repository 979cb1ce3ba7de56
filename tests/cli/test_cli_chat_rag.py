"""`webui chat --kb NAME` and `--file PATH` against a real daemon and a stand-in Ollama: the
model gets the context with numbered <source> tags, and the answer is followed by a numbered
source list (one number per document, as Open WebUI numbers them)."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_chat_support import MODEL, chat_env
from tests.cli_support import one_error_line, webui
from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from webui_daemon.schemas.citations import number_sources

REPLY = "It erupted in 1822 [1]."
VOLCANO = "# Volcano\n\n## Eruptions\n\nMount Quillon erupted in 1822 and darkened Serre.\n"
GARDEN = "The walled garden of Ostry grows saffron, quince and heirloom beans.\n"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=REPLY)
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: model_env(provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false")),
    tmp="clirag",
)


@pytest.fixture(scope="module")
def env(daemon: DaemonProc, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("cli")
    env = chat_env(daemon, tmp)
    (tmp / "volcano.md").write_text(VOLCANO)
    (tmp / "garden.txt").write_text(GARDEN)
    for args in (("kb", "create", "Lore"), ("kb", "add", "Lore", str(tmp))):
        result = webui(*args, env=env, timeout=120)
        assert result.returncode == 0, result.stderr
    return env


def prompt_sent(standin: StandIn) -> str:
    return "\n".join(str(m.get("content")) for m in standin.chats()[-1].body["messages"])


def test_chat_with_a_knowledge_base_lists_numbered_sources(
    env: dict[str, str], standin: StandIn
) -> None:
    result = webui("chat", "--kb", "Lore", "When did Mount Quillon erupt?", env=env)
    assert result.returncode == 0, result.stderr
    sent = prompt_sent(standin)
    assert '<source id="1"' in sent and "erupted in 1822" in sent
    assert sent.rstrip().endswith("When did Mount Quillon erupt?")
    answer, _, listing = result.stdout.partition("\n\nSources:\n")
    assert answer == REPLY
    lines = listing.splitlines()
    assert lines[0] == "[1] volcano.md (Volcano > Eruptions)"
    assert lines[1:] in ([], ["[2] garden.txt"])


def test_chat_json_carries_the_sources(env: dict[str, str]) -> None:
    result = webui("chat", "--json", "--kb", "Lore", "What grows in Ostry?", env=env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["content"] == REPLY
    assert out["sources"][0] == {
        "n": 1,
        "name": "garden.txt",
        "source": "garden.txt",
        "file_id": out["sources"][0]["file_id"],
        "pages": [],
        "sections": [],
    }


def test_chat_with_an_attached_file(env: dict[str, str], standin: StandIn, tmp_path: Path) -> None:
    note = tmp_path / "ferry.txt"
    note.write_text("The ferry to Cape Varn leaves at seven and returns at noon.\n")
    result = webui("chat", "--temporary", "--file", str(note), "When does the ferry go?", env=env)
    assert result.returncode == 0, result.stderr
    assert "ferry to Cape Varn leaves at seven" in prompt_sent(standin)
    assert result.stdout.endswith("\n\nSources:\n[1] ferry.txt\n")


def test_chat_errors(env: dict[str, str], tmp_path: Path) -> None:
    unknown = webui("chat", "--kb", "Nowhere", "hello", env=env)
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert one_error_line(unknown) == "webui: not found: no knowledge base matches Nowhere"
    missing = webui("chat", "--file", str(tmp_path / "absent.pdf"), "hello", env=env)
    assert missing.returncode == 1 and "no such file" in one_error_line(missing)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not a pdf")
    failed = webui("chat", "--file", str(broken), "hello", env=env)
    assert failed.returncode == 2 and "cannot attach" in one_error_line(failed)


def test_sources_are_numbered_per_document_in_order_of_first_appearance() -> None:
    sources = [
        {
            "source": {"type": "collection", "id": "kb1", "name": "Lore"},
            "document": ["a", "b", "c"],
            "metadata": [
                {"source": "guide.pdf", "name": "guide.pdf", "page": 1, "page_label": "2"},
                {"source": "notes.md", "name": "notes.md", "headers": ["Intro", "Setup"]},
                {"source": "guide.pdf", "name": "guide.pdf", "page": 4},
            ],
        },
        {"source": {"type": "file", "id": "f9", "name": "x.txt"}, "document": ["d"]},
    ]
    lines = [c.line() for c in number_sources(sources)]
    assert lines == ["[1] guide.pdf (pages 2, 5)", "[2] notes.md (Intro > Setup)", "[3] x.txt"]
