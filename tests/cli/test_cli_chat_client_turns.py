"""`webui chat` saving turns from the client (as against Open WebUI), on a real daemon with
`WEBUI_CLIENT_TURNS=1`: the chat tree, the branch sent, Ctrl-C and failures saved."""

import itertools
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import (
    MODEL,
    chat_env,
    chat_ids,
    get_chat,
    read_until,
    spawn,
    standin_env,
)
from tests.cli_support import one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama

REPLY = "Hello from the stand-in."


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=REPLY)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(standin: StandIn) -> None:
    standin.reset(models=[MODEL], reply=REPLY)


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="client-turns")


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return {**chat_env(daemon, tmp_path), "WEBUI_CLIENT_TURNS": "1"}


def last_request(standin: StandIn) -> dict[str, Any]:
    return dict(standin.chats()[-1].body)


def tree_is_linked(chat: dict[str, Any]) -> list[dict[str, Any]]:
    """Check parentId/childrenIds/currentId against `messages`; the branch, root first."""
    tree = chat["history"]["messages"]
    path = chat["messages"]
    assert chat["history"]["currentId"] == path[-1]["id"]
    assert path[0]["parentId"] is None
    for parent, child in itertools.pairwise(path):
        assert child["parentId"] == parent["id"]
        assert child["id"] in tree[parent["id"]]["childrenIds"]
    assert [tree[m["id"]]["content"] for m in path] == [m["content"] for m in path]
    return list(path)


def test_new_chat_and_continue_are_saved_by_the_client(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(reply_fn=lambda body: f"echo: {body['messages'][-1]['content']}")
    before = chat_ids(daemon)
    first = webui("chat", "--json", "-s", "Be brief.", "alpha", env=env)
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    (chat_id,) = chat_ids(daemon) - before
    assert out["chat_id"] == chat_id and out["content"] == "echo: alpha"
    body = last_request(standin)
    assert "chat_id" not in body and "id" not in body  # a plain completion, no server turn
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "alpha"},
    ]
    second = webui("chat", "-c", "beta", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == "echo: beta\n"
    assert last_request(standin)["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "alpha"},
        {"role": "assistant", "content": "echo: alpha"},
        {"role": "user", "content": "beta"},
    ]
    chat = get_chat(daemon, chat_id)
    assert chat["title"] == "alpha"
    path = tree_is_linked(chat["chat"])
    assert [(m["role"], m["content"]) for m in path] == [
        ("user", "alpha"),
        ("assistant", "echo: alpha"),
        ("user", "beta"),
        ("assistant", "echo: beta"),
    ]
    assert path[1]["id"] == out["message_id"] and path[1]["done"] is True
    assert path[1]["usage"]["completion_tokens"] == 2
    assert chat["chat"]["system"] == "Be brief."


def test_ctrl_c_hangs_up_and_saves_the_partial_answer(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(tokens=400, token_delay=0.03)
    before = chat_ids(daemon)
    proc = spawn("chat", "count", env=env)
    head = read_until(proc, "tok5 ")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert standin.wait_closed(timeout=5).tokens_sent < 400
    (chat_id,) = chat_ids(daemon) - before
    assert f"stopped; what arrived is saved in chat {chat_id}" in err
    path = tree_is_linked(get_chat(daemon, chat_id)["chat"])
    answer = path[-1]
    assert answer["role"] == "assistant" and answer["interrupted"] is True
    assert answer["done"] is True
    assert answer["content"] + "\n" == head + out  # what was shown is what was saved
    assert answer["content"].startswith("tok0 tok1 tok2 tok3 tok4 tok5 ")


def test_an_upstream_failure_is_saved_with_the_answer(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(tokens=10, cut_after=4)
    before = chat_ids(daemon)
    result = webui("chat", "hi", env=env)
    assert result.returncode == 2
    one_error_line(result)
    assert result.stdout == "tok0 tok1 tok2 tok3 \n"
    (chat_id,) = chat_ids(daemon) - before
    answer = tree_is_linked(get_chat(daemon, chat_id)["chat"])[-1]
    assert answer["content"] == "tok0 tok1 tok2 tok3 "
    assert answer["error"]["content"]


def test_unknown_model_leaves_no_chat(env: dict[str, str], daemon: DaemonProc) -> None:
    before = chat_ids(daemon)
    result = webui("chat", "-m", "ghost:1b", "hi", env=env)
    assert result.returncode == 2
    assert "Model not found: ghost:1b" in one_error_line(result)
    assert chat_ids(daemon) == before


def test_attach_needs_a_webui_daemon(env: dict[str, str]) -> None:
    result = webui("chat", "--attach", "some-chat", env=env)
    assert result.returncode == 2
    assert "--attach needs a webui daemon" in one_error_line(result)
