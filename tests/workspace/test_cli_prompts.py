"""`webui prompts` and `webui chat -p` against a real daemon and a stand-in provider: create,
list, show, edit in $EDITOR, rm, export and import, access; a template expanded with every kind
of variable (clock, user, clipboard, custom with --var, defaults, asked on a real terminal in
tmux), and the one-line refusals that send nothing upstream."""

import datetime as dt
import json
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import MODEL, api, chat_env, standin_env
from tests.cli_support import one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama

REPLY = "Looks fine."


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=REPLY)
    yield s
    s.stop()


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="prompts")


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def ok(env: dict[str, str], *args: str, stdin: str = "") -> str:
    result = webui(*args, env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def make(env: dict[str, str], command: str, content: str, *args: str) -> Any:
    return json.loads(ok(env, "prompts", "create", command, *args, "--json", stdin=content))


def last_question(standin: StandIn) -> str:
    chats = [rec for rec in standin.chats() if rec.messages]
    assert chats, "the stand-in was asked nothing"
    return str(chats[-1].messages[-1]["content"])


def editor(tmp_path: Path, replacement: str) -> str:
    """An $EDITOR that writes `replacement` into the file it is given."""
    script = tmp_path / "editor.py"
    script.write_text(
        f"import sys, pathlib\npathlib.Path(sys.argv[1]).write_text({replacement!r})\n"
    )
    return f"{sys.executable} {script}"


def test_create_list_show_edit_rm(env: dict[str, str], tmp_path: Path) -> None:
    made = make(env, "/tidy", "Tidy this up:\n", "--name", "Tidy", "-t", "text")
    assert made["command"] == "tidy" and made["name"] == "Tidy" and made["tags"] == ["text"]
    listed = ok(env, "prompts", "list")
    row = next(line.split("\t") for line in listed.splitlines() if line.startswith("/tidy\t"))
    assert row[1] == "Tidy" and row[3] == "text" and row[4] == "write"
    assert ok(env, "prompts", "show", "tidy") == "Tidy this up:\n"  # exact text in a pipe

    env_edit = env | {"EDITOR": editor(tmp_path, "Tidy and shorten:\n")}
    assert "Saved /tidy" in ok(env_edit, "prompts", "edit", "/tidy")
    assert ok(env, "prompts", "show", "tidy") == "Tidy and shorten:\n"
    env_same = env | {"EDITOR": editor(tmp_path, "Tidy and shorten:\n")}
    assert "unchanged" in ok(env_same, "prompts", "edit", "tidy")
    renamed = json.loads(ok(env, "prompts", "edit", "tidy", "--command", "neat", "--json"))
    assert renamed["command"] == "neat" and renamed["content"] == "Tidy and shorten:\n"

    refused = webui("prompts", "rm", "neat", env=env)  # no terminal: --yes is required
    assert refused.returncode == 1 and "--yes" in one_error_line(refused)
    assert "Deleted /neat" in ok(env, "prompts", "rm", "neat", "-y")
    gone = webui("prompts", "show", "neat", env=env)
    assert gone.returncode == 2 and "no prompt /neat" in one_error_line(gone)


def test_refusals_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    make(env, "dup", "x")
    taken = webui("prompts", "create", "dup", env=env, stdin="y")
    assert taken.returncode == 2 and "already registered" in one_error_line(taken)
    empty = webui("prompts", "create", "blank", env=env, stdin="  \n")
    assert empty.returncode == 1 and "empty" in one_error_line(empty)
    failing = webui("prompts", "edit", "dup", env=env | {"EDITOR": "false"})
    assert failing.returncode == 1 and "exited with 1; nothing saved" in one_error_line(failing)
    result = webui("prompts", "edit", "dup", "--file", str(tmp_path / "missing.txt"), env=env)
    assert result.returncode == 1 and "cannot read" in one_error_line(result)
    assert ok(env, "prompts", "show", "dup") == "x"


def test_export_and_import(env: dict[str, str], tmp_path: Path) -> None:
    make(env, "exp-one", "One {{thing}}", "-t", "x")
    make(env, "exp-two", "Two")
    out = tmp_path / "prompts.json"
    assert "Exported" in ok(env, "prompts", "export", "-o", str(out))
    records = {r["command"]: r for r in json.loads(out.read_text())}
    assert records["exp-one"] == {
        "command": "exp-one",
        "name": "exp-one",
        "content": "One {{thing}}",
        "tags": ["x"],
    }
    ok(env, "prompts", "rm", "exp-one", "-y")
    done = json.loads(ok(env, "prompts", "import", str(out), "--json"))
    assert done["created"] == ["exp-one"] and "exp-two" in done["skipped"]
    assert ok(env, "prompts", "show", "exp-one") == "One {{thing}}"
    # Open WebUI 0.6's export (a slash, `title`) overwrites with --replace.
    old = [{"command": "/exp-two", "title": "Second", "content": "Two, again"}]
    result = webui("prompts", "import", "-", "--replace", env=env, stdin=json.dumps(old))
    assert result.returncode == 0 and "replaced 1" in result.stdout
    assert ok(env, "prompts", "show", "exp-two") == "Two, again"
    bad = webui("prompts", "import", "-", env=env, stdin='[{"command": "x"}]')
    assert bad.returncode == 1 and "no content" in one_error_line(bad)


def test_access_grant_and_revoke(env: dict[str, str], daemon: DaemonProc) -> None:
    with api(daemon) as c:
        group = c.post("/api/v1/groups/create", json={"name": "reviewers"}).json()
    make(env, "shared", "Shared")
    told = ok(env, "prompts", "access", "shared", "--group", "reviewers", "--write")
    assert "group reviewers can now read and change prompt /shared" in told
    report = json.loads(ok(env, "prompts", "access", "shared", "--json"))
    assert report["access"] == [
        {"type": "group", "id": group["id"], "name": "reviewers", "access": "write"}
    ]
    ok(env, "prompts", "access", "shared", "--group", "reviewers", "--none")
    assert json.loads(ok(env, "prompts", "access", "shared", "--json"))["access"] == []


def test_chat_with_a_template(env: dict[str, str], standin: StandIn, daemon: DaemonProc) -> None:
    make(
        env,
        "review",
        "Review in {{language}} for {{USER_NAME}} on {{CURRENT_DATE}}, "
        '{{tone | select:options=["short","long"]:default="short"}}:',
    )
    result = webui("chat", "-p", "/review", "--var", "language=French", env=env, stdin="- a\n+ b\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == REPLY + "\n"
    with api(daemon) as c:
        name = c.get("/api/v1/auths/").json()["name"]
    today = dt.date.today().isoformat()
    assert last_question(standin) == (f"Review in French for {name} on {today}, short:\n\n- a\n+ b")
    # --var sets a default-bearing variable too, and PROMPT words follow the template.
    ok(env, "chat", "-p", "review", "--var", "language=Dutch", "--var", "tone=long", "now")
    assert last_question(standin).endswith("Dutch for " + name + f" on {today}, long:\n\nnow")


def test_clipboard_takes_the_given_text(env: dict[str, str], standin: StandIn) -> None:
    make(env, "quote", "Explain:\n> {{CLIPBOARD}}\nBriefly.")
    ok(env, "chat", "-p", "quote", stdin="x = 1\n")
    assert last_question(standin) == "Explain:\n> x = 1\nBriefly."


def test_missing_or_unknown_variables_send_nothing(env: dict[str, str], standin: StandIn) -> None:
    make(env, "needs", "Write about {{topic}} for {{audience}}.")
    before = len(standin.chats())
    missing = webui("chat", "-p", "needs", "--var", "topic=bees", env=env, stdin="x")
    assert missing.returncode == 1
    assert "/needs needs audience: give --var audience=VALUE" in one_error_line(missing)
    unknown = webui("chat", "-p", "needs", "--var", "colour=red", env=env, stdin="x")
    assert unknown.returncode == 1 and "has no variable colour" in one_error_line(unknown)
    absent = webui("chat", "-p", "nope", "hi", env=env)
    assert absent.returncode == 2 and "no prompt /nope" in one_error_line(absent)
    stray = webui("chat", "--var", "a=b", "hi", env=env)
    assert stray.returncode == 1 and "-p" in one_error_line(stray)
    assert len(standin.chats()) == before


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_variables_are_asked_on_a_terminal(
    env: dict[str, str], standin: StandIn, tmp_path: Path
) -> None:
    make(env, "ask", 'Plan {{trip}} by {{mode | select:options=["train","boat"]}}.')
    base = ["tmux", "-L", f"webui-test-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    script = tmp_path / "run.sh"
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    script.write_text(
        exports + f"{shlex.quote(sys.executable)} -m webui_tui.cli.main chat -p ask --raw\n"
        "echo EXIT=$?\nsleep 60\n"
    )
    try:
        subprocess.run(
            [*base, "new-session", "-d", "-x", "120", "-y", "30", f"sh {script}"],
            check=True,
            env=env | {"TERM": "xterm-256color"},
        )

        def screen() -> str:
            return subprocess.run(
                [*base, "capture-pane", "-p"], capture_output=True, text=True, check=False
            ).stdout

        def wait_for(text: str) -> str:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                shown = screen()
                if text in shown:
                    return shown
                time.sleep(0.1)
            raise AssertionError(f"{text!r} never appeared:\n{screen()}")

        wait_for("trip:")
        subprocess.run([*base, "send-keys", "a week in Norway", "Enter"], check=True)
        assert "1) train  2) boat" in wait_for("(number or text)")
        subprocess.run([*base, "send-keys", "2", "Enter"], check=True)
        assert REPLY in wait_for("EXIT=0")
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True, check=False)
    assert last_question(standin) == "Plan a week in Norway by boat."
