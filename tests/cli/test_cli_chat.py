"""`webui chat` against a real daemon and a stand-in Ollama: streaming, saving, stopping."""

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import (
    MODEL,
    OTHER_MODEL,
    api,
    chat_env,
    chat_ids,
    get_chat,
    message,
    poll,
    read_until,
    spawn,
    standin_env,
)
from tests.cli_support import HEAVY, one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama

REPLY = "Hello from the stand-in."


def tokens(count: int) -> str:
    return "".join(f"tok{i} " for i in range(count))


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, OTHER_MODEL], reply=REPLY)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(standin: StandIn) -> None:
    standin.reset(models=[MODEL, OTHER_MODEL], reply=REPLY)


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="chat")


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def asked(standin: StandIn, text: str) -> dict[str, Any]:
    """The body of the chat request whose last message is `text` (not a title request)."""
    for rec in reversed(standin.chats()):
        if rec.messages and rec.messages[-1].get("content") == text:
            return dict(rec.body)
    raise AssertionError(f"the stand-in was never asked {text!r}")


def json_chat(env: dict[str, str], *args: str, stdin: str = "") -> dict[str, Any]:
    result = webui("chat", "--json", *args, env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_piped_answer_is_the_exact_text_and_is_saved(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    before = chat_ids(daemon)
    result = webui("chat", "Say", "hello", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == REPLY + "\n"  # no rendering; a newline ends the last line
    assert result.stderr == ""
    (chat_id,) = chat_ids(daemon) - before
    chat = get_chat(daemon, chat_id)["chat"]
    assert chat["models"] == [MODEL]
    path = chat["messages"]
    assert [(m["role"], m["content"]) for m in path] == [
        ("user", "Say hello"),
        ("assistant", REPLY),
    ]
    assert path[1]["done"] is True and path[1]["parentId"] == path[0]["id"]
    assert chat["history"]["currentId"] == path[1]["id"]
    assert asked(standin, "Say hello")["messages"] == [{"role": "user", "content": "Say hello"}]


def test_json_names_the_saved_message(env: dict[str, str], daemon: DaemonProc) -> None:
    out = json_chat(env, "hi")
    assert out["content"] == REPLY and out["model"] == MODEL
    assert out["usage"]["completion_tokens"] == len(REPLY.split())
    saved = message(daemon, out["chat_id"], out["message_id"])
    assert saved["role"] == "assistant" and saved["content"] == REPLY
    assert saved["usage"]["completion_tokens"] == out["usage"]["completion_tokens"]


def test_stdin_is_joined_with_the_prompt(env: dict[str, str], standin: StandIn) -> None:
    json_chat(env, "Summarise this:", stdin="line one\nline two\n")
    assert asked(standin, "Summarise this:\n\nline one\nline two")
    only = webui("chat", env=env, stdin="just the pipe\n")
    assert only.returncode == 0, only.stderr
    assert asked(standin, "just the pipe")


def test_system_prompt_reaches_the_provider_and_stays_with_the_chat(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    out = json_chat(env, "-s", "Answer in French.", "first question")
    first = asked(standin, "first question")["messages"]
    assert first[0] == {"role": "system", "content": "Answer in French."}
    assert get_chat(daemon, out["chat_id"])["chat"]["system"] == "Answer in French."
    json_chat(env, "--chat", out["chat_id"], "second question")
    second = asked(standin, "second question")["messages"]
    assert second[0] == {"role": "system", "content": "Answer in French."}


def test_continue_sends_the_earlier_turns(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(reply_fn=lambda body: f"echo: {body['messages'][-1]['content']}")
    first = json_chat(env, "-m", OTHER_MODEL, "alpha")
    second = json_chat(env, "-c", "beta")
    assert second["chat_id"] == first["chat_id"]
    assert second["model"] == OTHER_MODEL  # the chat's model, with no -m
    assert asked(standin, "beta")["messages"] == [
        {"role": "user", "content": "alpha"},
        {"role": "assistant", "content": "echo: alpha"},
        {"role": "user", "content": "beta"},
    ]
    path = get_chat(daemon, first["chat_id"])["chat"]["messages"]
    assert [m["content"] for m in path] == ["alpha", "echo: alpha", "beta", "echo: beta"]


def test_chat_option_continues_that_chat(env: dict[str, str], standin: StandIn) -> None:
    standin.set(reply_fn=lambda body: f"echo: {body['messages'][-1]['content']}")
    older = json_chat(env, "one")
    newer = json_chat(env, "two")
    assert older["chat_id"] != newer["chat_id"]
    again = json_chat(env, "--chat", older["chat_id"], "-m", OTHER_MODEL, "three")
    assert again["chat_id"] == older["chat_id"] and again["model"] == OTHER_MODEL
    contents = [m["content"] for m in asked(standin, "three")["messages"]]
    assert contents == ["one", "echo: one", "three"]


def test_temporary_saves_nothing(env: dict[str, str], daemon: DaemonProc, standin: StandIn) -> None:
    before = chat_ids(daemon)
    out = json_chat(env, "--temporary", "-s", "Be brief.", "secret")
    assert out["content"] == REPLY and out["chat_id"] is None and out["message_id"] is None
    assert chat_ids(daemon) == before
    assert asked(standin, "secret")["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "secret"},
    ]


def test_unknown_model_is_one_line_and_leaves_no_chat(
    env: dict[str, str], daemon: DaemonProc
) -> None:
    before = chat_ids(daemon)
    result = webui("chat", "-m", "ghost:1b", "hi", env=env)
    assert result.returncode == 2
    assert "Model not found: ghost:1b; see `webui models list`" in one_error_line(result)
    assert result.stdout == ""
    assert chat_ids(daemon) == before


def test_provider_error_before_the_answer(env: dict[str, str], standin: StandIn) -> None:
    standin.set(fail_status=500)
    result = webui("chat", "hi", env=env)
    assert result.returncode == 2
    one_error_line(result)


def test_answer_cut_midway_keeps_what_arrived(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(tokens=10, cut_after=4)
    before = chat_ids(daemon)
    result = webui("chat", "hi", env=env)
    assert result.returncode == 2
    one_error_line(result)
    assert result.stdout == tokens(4) + "\n"
    (chat_id,) = chat_ids(daemon) - before
    answer = get_chat(daemon, chat_id)["chat"]["messages"][-1]
    assert answer["content"] == tokens(4) and answer.get("error")


def test_daemon_down_is_exit_2(tmp_path: Path) -> None:
    from tests.cli_support import cli_env

    env = cli_env(tmp_path, WEBUI_SOCKET=str(tmp_path / "nobody.sock"))
    result = webui("chat", "hi", env=env)
    assert result.returncode == 2
    assert "no webui daemon answers" in one_error_line(result)


@pytest.mark.parametrize(
    "args",
    [
        ["chat"],
        ["chat", "-c", "--chat", "x", "hi"],
        ["chat", "--temporary", "-c", "hi"],
        ["chat", "--attach", "x", "hi"],
        ["chat", "--frobnicate", "hi"],
    ],
)
def test_usage_errors_exit_1(env: dict[str, str], args: list[str]) -> None:
    result = webui(*args, env=env)
    assert result.returncode == 1, result
    one_error_line(result)


def test_killed_cli_loses_nothing(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(tokens=30, token_delay=0.05)
    before = chat_ids(daemon)
    proc = spawn("chat", "count", env=env)
    read_until(proc, "tok3 ")
    proc.kill()
    proc.wait(5)
    (chat_id,) = chat_ids(daemon) - before

    def finished() -> dict[str, Any] | None:
        answer = get_chat(daemon, chat_id)["chat"]["messages"][-1]
        return answer if answer.get("done") else None

    answer = poll(finished, timeout=15)
    assert answer["content"] == tokens(30)
    assert not answer.get("interrupted")


def test_ctrl_c_stops_the_answer_and_keeps_what_arrived(
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
    assert "stopped" in err
    closed = standin.wait_closed(timeout=5)  # the provider's request was cancelled
    assert closed.tokens_sent < 400
    (chat_id,) = chat_ids(daemon) - before
    answer = get_chat(daemon, chat_id)["chat"]["messages"][-1]
    assert answer["interrupted"] is True
    printed = head + out
    assert answer["content"].startswith("tok0 tok1 tok2 tok3 tok4 tok5 ")
    # What was shown is what was saved (and a newline ends the output's last line).
    assert answer["content"] + "\n" == printed
    assert len(answer["content"]) < len(tokens(400))


def test_attach_follows_a_running_answer(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(tokens=40, token_delay=0.04)
    before = chat_ids(daemon)
    first = spawn("chat", "count", env=env)
    read_until(first, "tok3 ")
    first.kill()  # the answer keeps going on the daemon
    first.wait(5)
    (chat_id,) = chat_ids(daemon) - before
    attached = webui("chat", "--attach", chat_id, env=env)
    assert attached.returncode == 0, attached.stderr
    assert attached.stdout == tokens(40) + "\n"  # what was there, then the rest as it came

    again = webui("chat", "--attach", chat_id, "--json", env=env)  # finished: the last answer
    assert again.returncode == 0, again.stderr
    body = json.loads(again.stdout)
    assert body["content"] == tokens(40) and body["chat_id"] == chat_id
    assert body["model"] == MODEL


def test_chat_imports_nothing_heavy(env: dict[str, str]) -> None:
    code = (
        "import sys\n"
        "from webui_tui.cli.main import main\n"
        "code = main(['chat', '--temporary', 'hi'])\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        f"{(*HEAVY, 'rich', 'markdown_it', 'pygments', 'keyring')!r}]\n"
        "print('\\nHEAVY', sorted(heavy), code)\n"
    )
    probe = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[-1] == "HEAVY [] 0", probe.stdout


def test_ctrl_c_with_json_still_prints_the_object(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(tokens=400, token_delay=0.03)
    proc = spawn("chat", "--json", "count", env=env)
    # 10 sent: the daemon relays in batches (WEBUI_STREAM_BATCH_MS), so the
    # last token or two sent may not have reached the CLI yet; the first five have.
    assert standin.wait_for(lambda: any(r.tokens_sent >= 10 for r in standin.chats()), 10)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    body = json.loads(out)
    assert body["interrupted"] is True
    assert body["content"].startswith("tok0 tok1 tok2 tok3 tok4 ")
    saved = message(daemon, body["chat_id"], body["message_id"])
    assert saved["interrupted"] is True and saved["content"] == body["content"]


def test_ctrl_c_on_a_temporary_answer_hangs_up(env: dict[str, str], standin: StandIn) -> None:
    standin.set(tokens=400, token_delay=0.03)
    proc = spawn("chat", "--temporary", "count", env=env)
    head = read_until(proc, "tok3 ")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert (head + out).startswith("tok0 tok1 tok2 tok3 ")
    assert err.strip() == "webui: stopped"
    assert standin.wait_closed(timeout=5).tokens_sent < 400


def test_an_answer_stopped_elsewhere_is_reported_as_stopped(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    standin.set(tokens=400, token_delay=0.03)
    before = chat_ids(daemon)
    proc = spawn("chat", "count", env=env)
    read_until(proc, "tok3 ")
    (chat_id,) = chat_ids(daemon) - before
    with api(daemon) as c:  # another client (the TUI, a script) stops it
        stopped = c.post(f"/api/tasks/chat/{chat_id}/stop").json()
        assert stopped["status"] is True and stopped["message"].endswith(" stopped.")
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert f"stopped; what arrived is saved in chat {chat_id}" in err
