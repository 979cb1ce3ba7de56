"""Shell completion: `webui completion bash|zsh|fish`, commands and options, and from the daemon
model ids, chat ids (with titles) and knowledge base names; nothing (and no daemon started) when
none runs. The shells' own protocol in a subprocess, and Tab pressed in real shells (tmux)."""

import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_chat_support import MODEL, OTHER_MODEL, chat_env, standin_env
from tests.cli_support import HEAVY, cli_env, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama

BASH_BREAKS = " \t\n\"'><=;|&(:"  # bash's default COMP_WORDBREAKS


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, OTHER_MODEL], reply="Hi.")
    yield s
    s.stop()


def _seed(proc: DaemonProc) -> None:
    with proc.unix_client(timeout=10) as c:
        for title in ("Glaciers of Norway", "Let's talk: colons"):
            body = {"chat": {"title": title, "models": [MODEL], "history": {"messages": {}}}}
            assert c.post("/api/v1/chats/new", json=body).status_code == 200
        for name in ("My Docs", "Atlas"):
            made = c.post("/api/v1/knowledge/create", json={"name": name, "description": "d"})
            assert made.status_code == 200, made.text


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="completion", setup=_seed)


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def _chats(daemon: DaemonProc) -> dict[str, str]:
    """Title by chat id."""
    with daemon.unix_client(timeout=10) as c:
        return {chat["id"]: chat["title"] for chat in c.get("/api/v1/chats/").json()}


def complete(env: dict[str, str], shell: str, line: str) -> list[str]:
    """What `webui` answers the shell's completion request for `line` (cursor at its end)."""
    ask = {"_WEBUI_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        ask |= {"_WEBUI_COMPLETE_LINE": line, "_WEBUI_COMPLETE_BREAKS": BASH_BREAKS}
    else:
        ask |= {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    result = subprocess.run(
        [sys.executable, "-m", "webui_tui.cli.main"],
        env=env | ask,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]  # as the shells read it


def test_scripts_for_each_shell(env: dict[str, str], tmp_path: Path) -> None:
    checks = {"bash": ["bash", "-n"], "zsh": ["zsh", "-n"], "fish": ["fish", "--no-execute"]}
    for shell, check in checks.items():
        result = webui("completion", shell, env=env)
        assert result.returncode == 0, result.stderr
        assert "_WEBUI_COMPLETE=complete_" + shell in result.stdout
        if shutil.which(check[0]):
            script = tmp_path / f"webui.{shell}"
            script.write_text(result.stdout)
            syntax = subprocess.run([*check, str(script)], capture_output=True, text=True)
            assert syntax.returncode == 0, (shell, syntax.stderr)
    bad = webui("completion", "tcsh", env=env)
    assert bad.returncode == 1 and "tcsh" in bad.stderr


def test_commands_and_options(env: dict[str, str]) -> None:
    assert complete(env, "bash", "webui ch") == ["chat", "chats"]
    assert complete(env, "bash", "webui daemon ") == ["start", "stop", "restart", "logs"]
    assert {"--json", "--help"} <= set(complete(env, "bash", "webui chats show --"))
    assert complete(env, "bash", "webui completion ") == ["bash", "zsh", "fish"]
    # A path: nothing from us, so that the shell completes file names.
    assert complete(env, "bash", "webui chat --file ") == []
    assert complete(env, "zsh", "webui chat --file ") == ["_files"]
    assert complete(env, "fish", "webui chat --file ") == []
    zsh = complete(env, "zsh", "webui chats ")
    assert any(line.startswith('"show":"') for line in zsh), zsh


def test_models_chats_and_knowledge_bases_from_the_daemon(
    env: dict[str, str], daemon: DaemonProc
) -> None:
    assert complete(env, "bash", "webui chat -m ") == [MODEL, OTHER_MODEL]
    assert complete(env, "fish", "webui chat --model z") == [f"{OTHER_MODEL}\t{OTHER_MODEL}"]
    # bash cuts words at ':' and replaces only what follows it.
    assert complete(env, "bash", "webui chat -m standin:") == ["latest"]
    assert complete(env, "bash", "webui chat --model=standin:l") == ["latest"]
    assert complete(env, "zsh", "webui chat -m standin:") == [
        """_arguments '*: :(("standin\\\\:latest":"standin\\\\:latest"))'"""
    ]

    chats = _chats(daemon)
    offered = complete(env, "bash", "webui chats show ")
    assert offered[0] == "last" and set(offered[1:]) == set(chats)
    some_id, title = next((i, t) for i, t in chats.items() if t == "Glaciers of Norway")
    assert complete(env, "bash", f"webui chat --chat {some_id[:5]}") == [some_id]
    assert complete(env, "fish", f"webui chats rm {some_id[:5]}") == [f"{some_id}\t{title}"]
    zsh = complete(env, "zsh", "webui chats show ")
    assert """"last":"the latest\\\\: """ in zsh[0]
    assert """Let'\\''s talk\\\\: colons""" in "\n".join(zsh)  # quotes survive zsh's eval

    assert sorted(complete(env, "bash", "webui kb show ")) == ["Atlas", "My\\ Docs"]
    assert complete(env, "bash", "webui chat --kb A") == ["Atlas"]
    assert complete(env, "fish", "webui kb add My") == ["My Docs\td"]


def test_no_daemon_no_candidates_and_none_started(tmp_path: Path) -> None:
    env = cli_env(tmp_path, DATA_DIR=str(tmp_path / "data"))  # auto-start would apply here
    started = time.monotonic()
    assert complete(env, "bash", "webui chats show ") == []
    assert complete(env, "zsh", "webui chat -m ") == ["_files"]
    assert complete(env, "fish", "webui kb show ") == []
    assert time.monotonic() - started < 20
    assert not (tmp_path / "data").exists()  # no daemon.log: nothing was started
    assert not (tmp_path / "run" / "webui" / "webui.sock").exists()
    assert complete(env, "bash", "webui ch") == ["chat", "chats"]  # commands need no daemon


def test_completion_imports_nothing_heavy(env: dict[str, str]) -> None:
    code = (
        "import sys\n"
        "from webui_tui.cli.main import main\n"
        "try:\n"
        "    main([])\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"heavy = [m for m in {HEAVY!r} + ('keyring',) if m in sys.modules]\n"
        "print('HEAVY', heavy, code)\n"
    )
    ask = {"_WEBUI_COMPLETE": "complete_bash", "_WEBUI_COMPLETE_LINE": "webui chat -m "}
    probe = subprocess.run(
        [sys.executable, "-c", code], env=env | ask, capture_output=True, text=True, timeout=30
    )
    lines = probe.stdout.splitlines()
    assert lines[:-1] == [MODEL, OTHER_MODEL], probe.stdout
    assert lines[-1] == "HEAVY [] 0", probe.stdout


# --- Tab in real shells ---------------------------------------------------------------------

ZFUNC = "mkdir -p ~/.zfunc && webui completion zsh > ~/.zfunc/_webui && fpath+=(~/.zfunc)"
SHELLS = {  # how it starts, and how the script is installed
    "bash": ("bash --norc --noprofile", "source <(webui completion bash)"),
    "zsh": ("zsh -f", "autoload -Uz compinit && compinit -u; source <(webui completion zsh)"),
    "zsh-fpath": ("zsh -f", f"{ZFUNC}; autoload -Uz compinit && compinit -u"),
    "fish": ("fish --no-config", "webui completion fish | source"),
}


@pytest.mark.parametrize("shell", list(SHELLS))
def test_tab_in_a_real_shell(
    shell: str, env: dict[str, str], daemon: DaemonProc, tmp_path: Path
) -> None:
    start, setup = SHELLS[shell]
    if shutil.which("tmux") is None or shutil.which(start.split()[0]) is None:
        pytest.skip(f"tmux and {start.split()[0]} are needed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "webui"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m webui_tui.cli.main "$@"\n')
    shim.chmod(0o755)
    shell_env = env | {"PATH": f"{bin_dir}:{env['PATH']}", "TERM": "xterm", "HOME": str(tmp_path)}
    shell_env.pop("COLUMNS", None)
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in shell_env.items())
    (tmp_path / "start.sh").write_text(exports + f"exec {start}\n")
    tmux = ["tmux", "-L", f"webui-test-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    size = ["-x", "160", "-y", "20"]
    subprocess.run([*tmux, "new-session", "-d", *size, f"sh {tmp_path / 'start.sh'}"], check=True)
    try:

        def typed(*keys: str, expect: str) -> None:
            subprocess.run([*tmux, "send-keys", *keys], check=True)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                pane = subprocess.run(
                    [*tmux, "capture-pane", "-p"], capture_output=True, text=True, check=True
                ).stdout
                if expect in pane:
                    return
                time.sleep(0.1)
            raise AssertionError(f"{expect!r} did not appear:\n{pane}")

        typed(setup, "Enter", expect="")
        time.sleep(1.0)  # the script is sourced
        typed("webui chat -m standin:", "Tab", expect=f"webui chat -m {MODEL}")
        chat_id = next(i for i, t in _chats(daemon).items() if t == "Glaciers of Norway")
        typed("C-u", f"webui chats show {chat_id[:6]}", "Tab", expect=f"chats show {chat_id}")
        typed("C-u", "webui kb show My", "Tab", expect="kb show My\\ Docs")
        typed("C-u", "webui dae", "Tab", expect="webui daemon")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
