"""`webui chat` on a real terminal (tmux): a Markdown answer three screens long is rendered,
and the scrollback holds every line once (no line repeated by the live redraw)."""

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

SECTIONS = 30
WIDTH, HEIGHT = 100, 24


def long_answer() -> str:
    parts = []
    for i in range(1, SECTIONS + 1):
        parts.append(f"## Section {i}")
        parts.append(
            f"Paragraph {i} says something **important** about item {i}, with `inline {i}` code "
            f"and enough words to wrap on a terminal {WIDTH} columns wide: this is the end of "
            f"paragraph number {i}."
        )
        if i % 3 == 0:
            parts.append(f"```python\ndef f{i}(x):\n    return x * {i}\n```")
        if i % 4 == 0:
            parts.append(f"- point {i}a\n- point {i}b\n  continued {i}b")
    return "\n\n".join(parts)


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=long_answer(), token_delay=0.002)
    yield s
    s.stop()


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="tmux")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[list[str]]:
    """A private tmux server (its own socket, no user config)."""
    base = ["tmux", "-L", f"webui-test-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    yield base
    subprocess.run([*base, "kill-server"], capture_output=True, check=False)


def test_long_markdown_answer_has_no_repeated_lines(
    daemon: DaemonProc, tmp_path: Path, tmux: list[str]
) -> None:
    env = chat_env(daemon, tmp_path)
    env.pop("COLUMNS", None)  # the terminal's own size
    script = tmp_path / "run.sh"
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    script.write_text(
        exports + f"{shlex.quote(sys.executable)} -m webui_tui.cli.main chat 'write it all'\n"
        "echo EXIT=$?\nsleep 60\n"
    )
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), f"sh {script}"],
        check=True,
        env=env | {"TERM": "xterm-256color"},
    )

    def capture() -> str:
        result = subprocess.run(
            [*tmux, "capture-pane", "-p", "-S", "-", "-E", "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    deadline = time.monotonic() + 60
    screen = capture()
    while "EXIT=" not in screen and time.monotonic() < deadline:
        time.sleep(0.2)
        screen = capture()
    assert "EXIT=0" in screen, screen

    lines = [line.rstrip() for line in screen.splitlines()]
    text = [line.strip() for line in lines if line.strip()]
    repeated = sorted({line for line in text if text.count(line) > 1})
    assert repeated == [], repeated
    assert len(text) > 3 * HEIGHT  # three screens and more went by
    for i in range(1, SECTIONS + 1):
        assert f"Section {i}" in text
        assert sum(line.startswith(f"Paragraph {i} says") for line in text) == 1
    assert sum(line.startswith("def f") for line in text) == SECTIONS // 3
    assert any(line.startswith("• point 4a") for line in text)
    # Rendered, not raw Markdown.
    assert not any(line.startswith("## ") or "**" in line or "```" in line for line in text)
    # The blocks come in order.
    order = [next(n for n, line in enumerate(text) if line == f"Section {i}") for i in (1, 15, 30)]
    assert order == sorted(order)
