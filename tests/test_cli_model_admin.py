"""`webui models pull|rm|ps` against a real daemon whose provider is a stand-in Ollama."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_proc import DaemonProc
from tests.standins import StandIn, start_ollama
from tests.test_cli_chat_support import MODEL, chat_env, provider_daemon
from tests.test_cli_support import one_error_line, webui


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, standin: StandIn) -> Iterator[DaemonProc]:
    # Long-lived model lists: only the daemon's own refresh after a change can show it.
    proc = provider_daemon(tmp_path_factory.mktemp("model-admin"), standin, MODELS_CACHE_TTL="300")
    yield proc
    proc.stop()


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def _ids(env: dict[str, str]) -> list[str]:
    result = webui("models", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return [m["id"] for m in json.loads(result.stdout)]


def test_pull_prints_each_step_and_the_model_is_listed(
    env: dict[str, str], standin: StandIn
) -> None:
    assert "pulled:latest" not in _ids(env)
    result = webui("models", "pull", "pulled:latest", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "pulling manifest",
        "pulling abc",
        "verifying sha256 digest",
        "writing manifest",
        "success",
    ]
    assert "pulled:latest" in _ids(env)
    as_json = webui("models", "pull", "other:latest", "--node", "0", "--json", env=env)
    assert json.loads(as_json.stdout) == {"model": "other:latest", "node": 0, "status": "success"}


def test_a_failed_pull_is_one_error_line(env: dict[str, str]) -> None:
    result = webui("models", "pull", "missing:latest", env=env)
    assert result.returncode == 2
    assert "file does not exist" in one_error_line(result)
    assert result.stdout.splitlines() == ["pulling manifest"]
    assert "missing:latest" not in _ids(env)
    no_node = webui("models", "pull", "x:latest", "--node", "4", env=env)
    assert no_node.returncode == 2 and "index 4" in one_error_line(no_node)


def test_rm_deletes_and_ps_lists_what_is_loaded(env: dict[str, str], standin: StandIn) -> None:
    assert webui("models", "pull", "gone:latest", env=env).returncode == 0
    removed = webui("models", "rm", "gone:latest", "--yes", env=env)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == "Deleted gone:latest."
    assert "gone:latest" not in _ids(env) and "gone:latest" not in standin.models
    again = webui("models", "rm", "gone:latest", "--yes", env=env)
    assert again.returncode == 2 and "Model not found" in one_error_line(again)

    assert webui("models", "ps", env=env).stdout == ""
    chat = webui("chat", "--temporary", "-m", MODEL, "hello", env=env)
    assert chat.returncode == 0, chat.stderr
    rows = [line.split("\t") for line in webui("models", "ps", env=env).stdout.splitlines()]
    assert [row[:2] for row in rows] == [[MODEL, "0"]]
    loaded = json.loads(webui("models", "ps", "--json", env=env).stdout)
    assert [m["model"] for m in loaded] == [MODEL]
