"""`webui chat` output on a real terminal (tmux) and in a pipe: Ctrl-C mid-answer shows each
line of what arrived once, then "stopped; …"; a piped answer ends with a newline."""

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_chat_support import MODEL, chat_env, standin_env
from tests.cli_support import webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama

WIDTH, HEIGHT = 80, 24
FIRST = "First line of the answer."
ANSWER = FIRST + "\n\nSecond paragraph comes next, " + " ".join(f"w{i}" for i in range(300))


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=ANSWER, token_delay=0.03)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(standin: StandIn) -> None:
    standin.reset(models=[MODEL], reply=ANSWER, token_delay=0.03)


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="terminal")


@pytest.fixture
def tmux() -> Iterator[list[str]]:
    base = ["tmux", "-L", f"webui-test-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    yield base
    subprocess.run([*base, "kill-server"], capture_output=True, check=False)


def _capture(tmux: list[str]) -> str:
    result = subprocess.run(
        [*tmux, "capture-pane", "-p", "-S", "-", "-E", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def _wait_for(tmux: list[str], wanted: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    screen = _capture(tmux)
    while wanted not in screen and time.monotonic() < deadline:
        time.sleep(0.05)
        screen = _capture(tmux)
    assert wanted in screen, screen
    return screen


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("raw", [False, True])
def test_ctrl_c_shows_what_arrived_once(
    daemon: DaemonProc, tmp_path: Path, tmux: list[str], raw: bool
) -> None:
    env = chat_env(daemon, tmp_path)
    env.pop("COLUMNS", None)
    script = tmp_path / "run.sh"
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    flags = " --raw" if raw else ""
    # The shell outlives the Ctrl-C (a trap, not an ignore: the CLI gets the default).
    script.write_text(
        exports
        + "trap 'true' INT\n"
        + f"{shlex.quote(sys.executable)} -m webui_tui.cli.main chat{flags} 'go on'\n"
        "echo EXIT=$?\nsleep 60\n"
    )
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), f"sh {script}"],
        check=True,
        env=env | {"TERM": "xterm-256color"},
    )
    _wait_for(tmux, "w3 ")
    subprocess.run([*tmux, "send-keys", "C-c"], check=True)
    screen = _wait_for(tmux, "EXIT=")
    assert "EXIT=130" in screen, screen
    lines = [line.strip() for line in screen.splitlines() if line.strip()]
    assert sum(FIRST in line for line in lines) == 1, screen
    assert sum(line.startswith("Second paragraph") for line in lines) == 1, screen
    stopped = [n for n, line in enumerate(lines) if line.startswith("webui: stopped;")]
    assert len(stopped) == 1, screen
    assert stopped[0] > next(n for n, line in enumerate(lines) if FIRST in line)


def test_piped_answer_ends_with_one_newline(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    standin.reset(models=[MODEL], reply="No newline at the end.")
    env = chat_env(daemon, tmp_path)
    result = webui("chat", "hi", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "No newline at the end.\n"
    # An answer that ends with its own newline gets no second one.
    standin.reset(models=[MODEL], reply="Ends with a newline.\n")
    result = webui("chat", "hi", env=env)
    assert result.stdout == "Ends with a newline.\n"
