"""`webui` in a real terminal (tmux, 80×24): the footer shows F1 help and ctrl+p whole, F1 opens
the keys of the chat screen, escape closes them, ctrl+q quits. And `--inline` is gone."""

import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_chat_support import MODEL, chat_env, standin_env
from tests.cli_support import webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama
from tests.tui.test_tui_tmux import keys, screen, tmux, wait_for

__all__ = ["tmux"]  # the fixture, used by name

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "tmux"], capture_output=True).returncode != 0,
    reason="tmux is not installed",
)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply="Hi.")
    yield s
    s.stop()


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="tui-tmux-help")


def test_f1_in_a_real_terminal(daemon: DaemonProc, tmux: list[str], tmp_path: Path) -> None:
    env = chat_env(daemon, tmp_path)
    env["TERM"] = "xterm-256color"
    env.pop("COLUMNS", None)
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.isidentifier())
    command = f"env -i {exports} {shlex.quote(sys.executable)} -m webui_tui.cli.main"
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "tui", "-x", "80", "-y", "24", command], check=True
    )
    subprocess.run([*tmux, "set-option", "-t", "tui", "remain-on-exit", "on"], check=True)
    shown = wait_for(tmux, "Ask anything")
    footer = shown.rstrip("\n").splitlines()[-1]
    assert footer.startswith(" F1 Help  ^n New  ^o Model"), footer
    assert footer.rstrip().endswith("^p Commands"), footer
    # Keys sent while the app is still starting its input thread can be lost: press again.
    for attempt in range(3):
        keys(tmux, "F1")
        try:
            shown = wait_for(tmux, "Keys: Chat", timeout=3)
            break
        except AssertionError:
            if attempt == 2:
                raise
    assert "New chat" in shown and "Attach knowledge bases or files" in shown
    keys(tmux, "Escape")
    deadline = time.monotonic() + 5
    while "Keys: Chat" in screen(tmux) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "Keys: Chat" not in screen(tmux)
    keys(tmux, "C-q")
    deadline = time.monotonic() + 10
    dead = ""
    while time.monotonic() < deadline:
        dead = subprocess.run(
            [*tmux, "list-panes", "-t", "tui", "-F", "#{pane_dead}"], capture_output=True, text=True
        ).stdout.strip()
        if dead == "1":
            break
        time.sleep(0.1)
    assert dead == "1", "webui did not quit on ctrl+q"


def test_inline_is_gone(daemon: DaemonProc, tmp_path: Path) -> None:
    result = webui("tui", "--inline", env=chat_env(daemon, tmp_path))
    assert result.returncode != 0
    assert "No such option: --inline" in result.stderr
