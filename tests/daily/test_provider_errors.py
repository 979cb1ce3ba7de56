"""A provider's own 4xx reaches the caller as the provider said it, and the node stays up.

Stand-ins answer chats as llama.cpp, llama-cpp-python, Ollama and OpenAI answer a request they
refuse (a full context window, an unknown model, a bad parameter): `webui chat` exits 2 with
the provider's message, the API answers with the provider's status and body, the daemon does
not mark the node down (its log says no node failed) and logs no traceback, title
generation included. A 5xx and a refused connection still mark the node down.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_chat_support import api, chat_env, poll
from tests.cli_support import one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import (
    ENGINE_ERRORS,
    StandIn,
    engine_error,
    error_message,
    provider_env,
    start_ollama,
    start_openai,
)

GPT = "standin-gpt"
LLAMA = "standin:latest"
FAILED_NODE = "failed ("  # NodePool's warning when it marks a node down


@pytest.fixture(scope="module")
def openai() -> Iterator[StandIn]:
    s = start_openai(models=[GPT])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def ollama() -> Iterator[StandIn]:
    s = start_ollama(models=[LLAMA])
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(openai: StandIn, ollama: StandIn) -> None:
    openai.reset(models=[GPT])
    ollama.reset(models=[LLAMA])


# Titles are asked of the OpenAI stand-in, so a refused title request can be tested.
daemon = daemon_fixture(
    env=lambda ollama, openai: provider_env(ollama=[ollama], openai=[openai], TASK_MODEL=GPT),
    tmp="errors",
)


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def _log_since(daemon: DaemonProc, start: int) -> str:
    return daemon.log()[start:]


CASES = [
    ("openai", "llama.cpp", "context", False),
    ("openai", "llama.cpp", "context", True),  # reported as the stream's first event
    ("openai", "llama-cpp-python", "context", False),  # a 500 naming the context window
    ("openai", "openai", "context", False),
    ("openai", "openai", "param", False),
    ("openai", "openai", "model", False),
    ("ollama", "ollama", "param", False),
    ("ollama", "ollama", "model", False),
]


@pytest.mark.parametrize(("kind", "engine", "problem", "in_stream"), CASES)
def test_chat_shows_the_providers_refusal_and_exits_2(
    env: dict[str, str],
    daemon: DaemonProc,
    openai: StandIn,
    ollama: StandIn,
    kind: str,
    engine: str,
    problem: str,
    in_stream: bool,
) -> None:
    standin, model = (openai, GPT) if kind == "openai" else (ollama, LLAMA)
    standin.set(**engine_error(engine, problem), fail_in_stream=in_stream)
    start = len(daemon.log())
    result = webui("chat", "-m", model, "hello", env=env)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    line = one_error_line(result)
    said = error_message(ENGINE_ERRORS[(engine, problem)][1])
    assert said in line, line
    assert "Server Connection Error" not in line
    log = _log_since(daemon, start)
    assert FAILED_NODE not in log, log
    assert "Traceback" not in log, log
    # The node answers the next request at once: it was never taken out of service.
    standin.reset(models=[model])
    again = webui("chat", "-m", model, "--temporary", "again", env=env)
    assert again.returncode == 0, again.stderr
    assert FAILED_NODE not in _log_since(daemon, start)


def test_api_passes_the_status_and_body_through(daemon: DaemonProc, openai: StandIn) -> None:
    status, body = ENGINE_ERRORS[("llama.cpp", "context")]
    openai.set(fail_status=status, fail_body=body)
    with api(daemon) as c:
        r = c.post(
            "/api/chat/completions",
            json={"model": GPT, "messages": [{"role": "user", "content": "hi"}], "stream": True},
        )
    assert r.status_code == 400, r.text
    assert r.json() == body


def test_a_context_window_named_in_a_500_is_the_request_s_fault(
    daemon: DaemonProc, openai: StandIn
) -> None:
    """llama-cpp-python words a full window as a 500: it is still a 400 for the caller."""
    openai.set(**engine_error("llama-cpp-python", "context"))
    with api(daemon) as c:
        r = c.post(
            "/api/chat/completions",
            json={"model": GPT, "messages": [{"role": "user", "content": "hi"}], "stream": False},
        )
    assert r.status_code == 400, r.text
    assert "exceed context window of 512" in r.text


def test_a_refused_title_request_logs_one_line_and_no_traceback(
    env: dict[str, str], daemon: DaemonProc, openai: StandIn
) -> None:
    openai.set(**engine_error("llama.cpp", "context"))
    start = len(daemon.log())
    result = webui("chat", "--json", "-m", LLAMA, "name me", env=env)
    assert result.returncode == 0, result.stderr
    chat_id = json.loads(result.stdout)["chat_id"]
    log = poll(lambda: next((s for s in [_log_since(daemon, start)] if "title" in s), None))
    assert "Traceback" not in log, log
    assert FAILED_NODE not in log, log
    title_lines = [line for line in log.splitlines() if "title" in line]
    assert len(title_lines) == 1, log
    assert "exceeds the available context size" in title_lines[0], log
    assert chat_id in title_lines[0]


def test_a_5xx_still_marks_the_node_down(
    env: dict[str, str], daemon: DaemonProc, openai: StandIn
) -> None:
    openai.set(fail_status=503, fail_body={"error": {"message": "overloaded"}})
    start = len(daemon.log())
    result = webui("chat", "-m", GPT, "--temporary", "hello", env=env)
    assert result.returncode == 2
    assert "overloaded" in one_error_line(result)
    assert FAILED_NODE in _log_since(daemon, start)
    openai.reset(models=[GPT])
    # Back once its probe answers (WEBUI_NODE_RETRY_AFTER=0.3 in tests).
    poll(
        lambda: (
            "is back" in _log_since(daemon, start)
            or "answers its probe" in _log_since(daemon, start)
        ),
        timeout=10,
    )
