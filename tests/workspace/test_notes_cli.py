"""`webui notes` and `webui chat --note` against a real daemon and a stand-in Ollama: notes
written through $EDITOR (a small script here) or stdin, shown as Markdown on a terminal and as
text in a pipe; another user's note stays unseen (CLI and chat) until a group grant opens it;
a note attached to a chat reaches the model as context, as Open WebUI 0.12 sends it."""

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import MODEL, api, chat_env
from tests.cli_support import cli_env, one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import PASSWORD, bearer, tcp

REPLY = "Pack the red tent [1]."
TRIP = "# Trip\n\nPack the **red** tent and two stoves.\n"
SECRET = "The admin's door code is 8086."

# $EDITOR for the tests: saves what it was given to $SEEN, then writes $WRITE into the file
# (or leaves it alone when WRITE is unset) and exits with $EXIT (default 0).
EDITOR = """
import os, sys
path = sys.argv[1]
with open(os.environ["SEEN"], "w") as seen, open(path) as given:
    seen.write(given.read())
if "WRITE" in os.environ:
    with open(path, "w") as out:
        out.write(os.environ["WRITE"])
sys.exit(int(os.environ.get("EXIT", "0")))
"""


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=REPLY)
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: provider_env(
        ollama=[standin], ENABLE_TITLE_GENERATION="false", BYPASS_MODEL_ACCESS_CONTROL="true"
    ),
    tmp="notes-cli",
)


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    """The daemon's own OS user (its admin) on the socket, with the test editor."""
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    return chat_env(daemon, tmp_path) | {
        "EDITOR": f"{sys.executable} {script}",
        "SEEN": str(tmp_path / "seen.md"),
        "VISUAL": "",
    }


@pytest.fixture(scope="module")
def bob(daemon: DaemonProc, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A plain user with a token, the CLI environment that speaks as him over TCP, and the
    group `crew` (without him yet)."""
    with api(daemon) as c:
        form = {"name": "Bob", "email": "bob@example.com", "password": PASSWORD, "role": "user"}
        r = c.post("/api/v1/auths/add", json=form)
        assert r.status_code == 200, r.text
        crew = c.post("/api/v1/groups/create", json={"name": "crew", "description": ""}).json()
    person = r.json()
    tmp = tmp_path_factory.mktemp("bob")
    person["env"] = cli_env(tmp, WEBUI_URL=daemon.base_url, WEBUI_TOKEN=person["token"])
    person["crew"] = crew["id"]
    return person


def ok(env: dict[str, str], *args: str, stdin: str = "") -> str:
    result = webui(*args, env=env, stdin=stdin)
    assert result.returncode == 0, result.stderr
    return result.stdout


def admin_note(daemon: DaemonProc, title: str, text: str) -> dict[str, Any]:
    with api(daemon) as c:
        r = c.post("/api/v1/notes/create", json={"title": title, "data": {"content": {"md": text}}})
        assert r.status_code == 200, r.text
        return dict(r.json())


def note_ids(daemon: DaemonProc) -> set[str]:
    with api(daemon) as c:
        return {n["id"] for n in c.get("/api/v1/notes/").json()}


def prompt_sent(standin: StandIn) -> str:
    return "\n".join(str(m.get("content")) for m in standin.chats()[-1].messages)


def test_new_list_show_edit_rm(env: dict[str, str], daemon: DaemonProc) -> None:
    said = ok(env | {"WRITE": TRIP}, "notes", "new")
    assert said.startswith("Created note 'Trip' (")
    note_id = said.strip().rsplit("(", 1)[1].rstrip(").")
    assert Path(env["SEEN"]).read_text() == ""  # a new note starts empty

    row = next(
        r.split("\t") for r in ok(env, "notes", "list").splitlines() if r.startswith(note_id)
    )
    assert row[1] == "Trip" and row[4] == "# Trip"
    assert ok(env, "notes", "show", note_id[:8]) == TRIP  # a pipe: the exact text
    shown = json.loads(ok(env, "notes", "show", "trip", "--json"))
    assert shown["id"] == note_id and shown["data"]["content"]["md"] == TRIP

    edited = TRIP + "\nAnd a lantern.\n"
    said = ok(env | {"WRITE": edited}, "notes", "edit", "Trip", "--title", "Trip list")
    assert said.strip() == f"Saved note 'Trip list' ({note_id})."
    assert Path(env["SEEN"]).read_text() == TRIP  # the editor opened on the current text
    assert ok(env, "notes", "show", note_id) == edited
    assert ok(env, "notes", "edit", note_id).strip() == "No change to note 'Trip list'."

    refused = webui("notes", "rm", note_id, env=env)  # no terminal: --yes is required
    assert refused.returncode == 1 and "--yes" in one_error_line(refused)
    gone = json.loads(ok(env, "notes", "rm", note_id[:6], "--yes", "--json"))
    assert gone == {"id": note_id, "title": "Trip list", "deleted": True}
    missing = webui("notes", "show", note_id, env=env)
    assert missing.returncode == 2
    assert f"no note matches {note_id}" in one_error_line(missing)


def test_piped_text_and_failed_editors_store_nothing_partial(
    env: dict[str, str], daemon: DaemonProc
) -> None:
    before = note_ids(daemon)
    for extra, wanted in (
        ({"WRITE": "half a thought", "EXIT": "3"}, "the editor exited with 3; nothing saved"),
        ({"WRITE": "  \n"}, "the note is empty; nothing saved"),
        ({"EDITOR": "/no/such/editor"}, "cannot run the editor"),
    ):
        result = webui("notes", "new", env=env | extra)
        assert result.returncode == 1 and wanted in one_error_line(result), result.stderr
    assert note_ids(daemon) == before

    made = json.loads(ok(env, "notes", "new", "--json", stdin="## Groceries\n- figs\n"))
    assert (
        made["title"] == "Groceries" and made["data"]["content"]["md"] == "## Groceries\n- figs\n"
    )
    ok(env, "notes", "edit", made["id"], stdin="- dates\n")  # stdin replaces the text
    assert ok(env, "notes", "show", made["id"]) == "- dates\n"


def test_show_renders_markdown_on_a_terminal(env: dict[str, str], daemon: DaemonProc) -> None:
    note = admin_note(daemon, "Render me", "# Heading\n\nSome **bold** words.\n")
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "webui_tui.cli.main", "notes", "show", note["id"]],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert proc.wait(30) == 0
    text = out.decode(errors="replace")
    assert "Render me" in text and "bold" in text and "Heading" in text
    assert "**bold**" not in text and "# Heading" not in text  # rendered, not the source
    assert "\x1b[" in text  # styled for the terminal


def test_chat_with_a_note_gives_the_model_its_text(
    env: dict[str, str], daemon: DaemonProc, standin: StandIn
) -> None:
    note = admin_note(daemon, "Camping", TRIP)
    result = webui("chat", "--note", note["id"][:8], "What should I pack?", env=env)
    assert result.returncode == 0, result.stderr
    sent = prompt_sent(standin)
    assert '<source id="1" name="Camping">' in sent and "two stoves" in sent
    assert sent.rstrip().endswith("What should I pack?")
    answer, _, listing = result.stdout.partition("\n\nSources:\n")
    assert answer == REPLY and listing.splitlines() == ["[1] Camping"]


def test_another_users_note_stays_unseen_until_a_group_grant(
    daemon: DaemonProc, standin: StandIn, bob: dict[str, Any]
) -> None:
    secret = admin_note(daemon, "Door", SECRET)
    nid, benv = secret["id"], bob["env"]
    assert nid not in ok(benv, "notes", "list")
    for args in (("notes", "show", nid), ("notes", "show", "Door"), ("notes", "rm", nid, "--yes")):
        result = webui(*args, env=benv)
        assert result.returncode == 2, (args, result.stderr)
        assert "no note matches" in one_error_line(result) and "8086" not in result.stdout
    asked = len(standin.chats())
    refused = webui("chat", "--note", nid, "What is the code?", env=benv)
    assert refused.returncode == 2 and "no note matches" in one_error_line(refused)
    assert len(standin.chats()) == asked  # nothing was asked

    # Named directly in a completion (as a web client would), the note adds nothing.
    with tcp(daemon, headers=bearer(bob["token"])) as c:
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": "What is the door code?"}],
            "files": [{"type": "note", "id": nid, "name": "Door"}],
        }
        r = c.post("/api/chat/completions", json=body)
        assert r.status_code == 200, r.text
        assert "8086" not in prompt_sent(standin) and "8086" not in r.text

    with api(daemon) as c:
        r = c.post(
            f"/api/v1/notes/{nid}/access/update",
            json={"access_grants": [{"principal_type": "group", "principal_id": bob["crew"]}]},
        )
        assert r.status_code == 200, r.text
        c.post(f"/api/v1/groups/id/{bob['crew']}/users/add", json={"user_ids": [bob["id"]]})
    assert ok(benv, "notes", "show", "Door") == SECRET + "\n"
    ok(benv, "chat", "--note", nid[:8], "What is the code?")
    assert SECRET in prompt_sent(standin)
    # Read, not write: an edit is refused and leaves the note as it was.
    edit = webui("notes", "edit", nid, env=benv, stdin="mine now")
    assert edit.returncode == 2 and "mine now" not in one_error_line(edit)
    with api(daemon) as c:
        assert c.get(f"/api/v1/notes/{nid}").json()["data"]["content"]["md"] == SECRET


def test_access_gives_and_takes_a_note(
    env: dict[str, str], daemon: DaemonProc, bob: dict[str, Any]
) -> None:
    """`webui notes access`: the owner shares a note with one user, read then write, and takes
    it back; the shared user cannot change who sees it."""
    admin_env = env
    plan = admin_note(daemon, "Plans", "# Plans\n\nSail on Friday.\n")
    nid, benv = plan["id"], bob["env"]
    assert webui("notes", "show", "Plans", env=benv).returncode == 2

    told = ok(admin_env, "notes", "access", "Plans", "--user", "bob@example.com")
    assert told == "Bob <bob@example.com> can now read note 'Plans'.\n"
    assert "Sail on Friday." in ok(benv, "notes", "show", nid[:6])
    refused = webui("notes", "edit", nid, env=benv, stdin="# Plans\n\nStay home.\n")
    assert refused.returncode == 2
    # Only the owner (or an admin) says who may see it.
    taken = webui("notes", "access", nid, "--user", "bob@example.com", "--none", env=benv)
    assert taken.returncode == 2, taken.stdout

    ok(admin_env, "notes", "access", nid[:8], "--user", "bob@example.com", "--write")
    report = json.loads(ok(admin_env, "notes", "access", "Plans", "--json"))
    assert report["note_id"] == nid and report["name"] == "Plans"
    assert report["access"] == [
        {"type": "user", "id": bob["id"], "name": "Bob <bob@example.com>", "access": "write"}
    ]
    ok(benv, "notes", "edit", nid, stdin="# Plans\n\nSail on Saturday.\n")
    with api(daemon) as c:
        assert "Saturday" in c.get(f"/api/v1/notes/{nid}").json()["data"]["content"]["md"]

    ok(admin_env, "notes", "access", "Plans", "--user", "bob@example.com", "--none")
    assert json.loads(ok(admin_env, "notes", "access", "Plans", "--json"))["access"] == []
    gone = webui("notes", "show", nid, env=benv)
    assert gone.returncode == 2 and "no note matches" in one_error_line(gone)
