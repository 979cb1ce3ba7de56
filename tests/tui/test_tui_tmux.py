"""`webui` in a real terminal (tmux), as a person uses it: open, ask, read the streamed answer,
make a second answer, switch back to the first branch, quit. Bounded waits throughout."""

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
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

FIRST = "Quokkas are small marsupials."


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=FIRST, token_delay=0.01)
    yield s
    s.stop()


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="tui-tmux")


@pytest.fixture
def tmux() -> Iterator[list[str]]:
    base = ["tmux", "-L", f"webui-tui-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    yield base
    subprocess.run([*base, "kill-server"], capture_output=True, check=False)


def screen(tmux: list[str]) -> str:
    out = subprocess.run([*tmux, "capture-pane", "-p", "-t", "tui"], capture_output=True, text=True)
    return out.stdout


def wait_for(tmux: list[str], text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        seen = screen(tmux)
        if text in seen:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"{text!r} did not appear; the screen was:\n{seen}")


def keys(tmux: list[str], *sent: str) -> None:
    subprocess.run([*tmux, "send-keys", "-t", "tui", *sent], check=True)


def test_open_ask_branch_quit(
    daemon: DaemonProc, standin: StandIn, tmux: list[str], tmp_path: Path
) -> None:
    env = chat_env(daemon, tmp_path)
    env["TERM"] = "xterm-256color"
    env.pop("COLUMNS", None)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.isidentifier())
    command = f"env -i {exports} {shlex.quote(sys.executable)} -m webui_tui.cli.main"
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "tui", "-x", "80", "-y", "24", command], check=True
    )
    subprocess.run([*tmux, "set-option", "-t", "tui", "remain-on-exit", "on"], check=True)
    wait_for(tmux, "Ask anything")
    # Keys sent while the app is still starting its input thread can be lost: type again.
    for attempt in range(3):
        keys(tmux, "-l", "Tell me about quokkas")
        try:
            wait_for(tmux, "Tell me about quokkas", timeout=3)
            break
        except AssertionError:
            if attempt == 2:
                raise
    keys(tmux, "Enter")
    try:
        wait_for(tmux, FIRST)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\ndaemon log:\n{daemon.log()[-3000:]}") from None
    wait_for(tmux, "out")  # the usage line after the answer
    standin.set(reply="A second answer.")
    keys(tmux, "C-r")
    wait_for(tmux, "2/2")
    wait_for(tmux, "A second answer.")
    keys(tmux, "C-l")
    time.sleep(0.3)
    keys(tmux, "Left")
    shown = wait_for(tmux, "1/2")
    assert FIRST in shown
    keys(tmux, "C-q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        dead = subprocess.run(
            [*tmux, "list-panes", "-t", "tui", "-F", "#{pane_dead}"], capture_output=True, text=True
        ).stdout.strip()
        if dead == "1":
            break
        time.sleep(0.1)
    assert dead == "1", "webui did not quit on ctrl+q"
