"""`webui kb` against a real daemon (shared local embedding model): create, list, show, rm;
add files, folders and globs (unchanged files free, changed ones replaced); remove; search;
Ctrl-C during a big add (finished files stay and are searchable, the rest leave nothing), also
when it comes while the daemon is adding a file."""

import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_files_api import index_rows
from tests.cli_chat_support import api, chat_env, poll, spawn
from tests.cli_support import one_error_line, webui
from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture

VOLCANO = "# Volcano\n\nMount Quillon erupted in 1822 and its ash darkened the valley of Serre.\n"
GARDEN = "The walled garden of Ostry grows saffron, quince and heirloom beans.\n"
HARBOUR = "The harbour of Lune freezes every winter; ferries then sail from Cape Varn.\n"
BELLS = "The bell tower of Amsel rings thirteen times at noon on the day of the fair.\n"


daemon = daemon_fixture(env=lambda: model_env(), tmp="clikb")


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def ok(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = webui(*args, env=env, timeout=timeout)
    assert result.returncode == 0, result.stderr
    return result.stdout


def as_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(ok(env, *args, "--json"))


def kb_files(daemon: DaemonProc, name: str) -> list[dict[str, Any]]:
    with api(daemon) as c:
        kb = next(k for k in c.get("/api/v1/knowledge/").json()["items"] if k["name"] == name)
        return list(c.get(f"/api/v1/knowledge/{kb['id']}").json()["files"])


def all_file_ids(daemon: DaemonProc) -> set[str]:
    with api(daemon) as c:
        return {f["id"] for f in c.get("/api/v1/files/", params={"content": False}).json()["items"]}


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_create_list_show_rm(env: dict[str, str], daemon: DaemonProc, tmp_path: Path) -> None:
    made = as_json(env, "kb", "create", "Atlas", "-d", "maps and places")
    assert made["name"] == "Atlas" and made["description"] == "maps and places"
    again = webui("kb", "create", "atlas", env=env)
    assert again.returncode == 1 and "exists already" in one_error_line(again)

    listed = ok(env, "kb", "list")  # a pipe: tab-separated rows
    row = next(line.split("\t") for line in listed.splitlines() if "\tAtlas\t" in line)
    assert row[0] == made["id"] and row[2] == "0"
    assert made["id"] in {kb["id"] for kb in as_json(env, "kb", "list")}

    write(tmp_path, {"volcano.md": VOLCANO})
    ok(env, "kb", "add", "Atlas", str(tmp_path / "volcano.md"))
    shown = as_json(env, "kb", "show", "Atlas")
    assert [f["filename"] for f in shown["files"]] == ["volcano.md"]
    assert ok(env, "kb", "show", made["id"]).split("\t")[1] == "volcano.md"  # by id too
    file_id = shown["files"][0]["id"]

    refused = webui("kb", "rm", "Atlas", env=env)  # no terminal: --yes is required
    assert refused.returncode == 1 and "--yes" in one_error_line(refused)
    gone = as_json(env, "kb", "rm", "Atlas", "--yes")
    assert gone["deleted"] is True and gone["files_deleted"] == [file_id]
    assert made["id"] not in {kb["id"] for kb in as_json(env, "kb", "list")}
    assert file_id not in all_file_ids(daemon)


def test_unknown_knowledge_base_is_one_line_exit_2(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    for args in (
        ("kb", "show", "Nowhere"),
        ("kb", "search", "Nowhere", "x"),
        ("kb", "add", "Nowhere", str(tmp_path / "a.txt")),
        ("kb", "rm", "Nowhere", "--yes"),
    ):
        result = webui(*args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert "no knowledge base matches Nowhere" in one_error_line(result)
    missing = webui("kb", "add", "Nowhere", str(tmp_path / "absent.txt"), env=env)
    assert missing.returncode == 1 and "no such file" in one_error_line(missing)


def test_add_files_folder_and_glob_then_readd_is_free(
    env: dict[str, str], daemon: DaemonProc, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    write(
        src,
        {
            "volcano.md": VOLCANO,
            "notes/garden.txt": GARDEN,
            "notes/deep/harbour.txt": HARBOUR,
            "notes/.secret.txt": "hidden files are skipped",
            "more/bells.txt": BELLS,
            "more/skip.md": "not matched by the glob",
        },
    )
    ok(env, "kb", "create", "Places")
    args = ("kb", "add", "Places", str(src / "volcano.md"), str(src / "notes"))
    report = as_json(env, *args, str(src / "more" / "*.txt"), "-j", "3")
    assert report["counts"] == {
        "added": 4,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
        "cancelled": 0,
    }
    names = {Path(f["path"]).name for f in report["files"]}
    assert names == {"volcano.md", "garden.txt", "harbour.txt", "bells.txt"}
    # The daemon reports each file's chunk count, so the summary (and the bar) has chunks/s.
    assert all(f["chunks"] >= 1 for f in report["files"])
    assert report["chunks"] == sum(f["chunks"] for f in report["files"])
    files = kb_files(daemon, "Places")
    assert sorted(f["filename"] for f in files) == sorted(names)
    assert {f["status"] for f in files} == {"completed"}
    before = all_file_ids(daemon)

    # The same again: nothing uploaded, nothing embedded (piped: rows and a summary line).
    started = time.monotonic()
    out = ok(env, "kb", "add", "Places", str(src / "volcano.md"), str(src / "notes"))
    assert time.monotonic() - started < 10
    lines = out.splitlines()
    assert [line.split("\t")[0] for line in lines[:-1]] == ["unchanged"] * 3
    assert lines[-1].startswith("Places: 3 unchanged in ")
    assert all_file_ids(daemon) == before

    # A changed file replaces its older version.
    (src / "volcano.md").write_text(VOLCANO + "\nIt erupted again in 1901.\n")
    report = as_json(env, "kb", "add", "Places", str(src / "volcano.md"))
    assert [f["status"] for f in report["files"]] == ["updated"]
    files = kb_files(daemon, "Places")
    assert len(files) == 4 and report["files"][0]["file_id"] in {f["id"] for f in files}
    assert len(all_file_ids(daemon)) == len(before)  # the old version was deleted


def test_remove_and_search(env: dict[str, str], daemon: DaemonProc, tmp_path: Path) -> None:
    write(tmp_path, {"volcano.md": VOLCANO, "garden.txt": GARDEN, "harbour.txt": HARBOUR})
    ok(env, "kb", "create", "Lore")
    ok(env, "kb", "add", "Lore", str(tmp_path))

    hits = as_json(env, "kb", "search", "Lore", "When did Mount Quillon erupt?", "-k", "2")
    assert len(hits) == 2 and hits[0]["file"] == "volcano.md"
    assert hits[0]["headers"] == ["Volcano"] and "1822" in hits[0]["text"]
    assert 0 < hits[1]["score"] <= hits[0]["score"] <= 1
    human = ok(env, "kb", "search", "Lore", "saffron and quince").splitlines()
    score, name, _, text = human[0].split("\t")
    assert name == "garden.txt" and float(score) > 0 and "saffron" in text

    # By the path it was added from, then by its name.
    removed = as_json(env, "kb", "remove", "Lore", str(tmp_path / "volcano.md"))
    assert removed["filename"] == "volcano.md"
    ok(env, "kb", "remove", "Lore", "garden.txt")
    assert [f["filename"] for f in kb_files(daemon, "Lore")] == ["harbour.txt"]
    # By 4+ characters of its id (the same prefix rule as chats, knowledge bases and notes).
    harbour = kb_files(daemon, "Lore")[0]["id"]
    gone = as_json(env, "kb", "remove", "Lore", harbour[:6])
    assert gone["filename"] == "harbour.txt" and kb_files(daemon, "Lore") == []
    ok(env, "kb", "add", "Lore", str(tmp_path / "harbour.txt"))
    assert removed["removed"] not in all_file_ids(daemon)
    hits = as_json(env, "kb", "search", "Lore", "When did Mount Quillon erupt?")
    assert {h["file"] for h in hits} == {"harbour.txt"}

    absent = webui("kb", "remove", "Lore", "volcano.md", env=env)
    assert absent.returncode == 2 and "holds no file" in one_error_line(absent)


def volume(number: int) -> str:
    words = " ".join(f"zorb{number}x{j}" for j in range(6))
    return "\n\n".join(f"Volume {number} part {p}: {words} " * 14 for p in range(8))


def test_ctrl_c_keeps_finished_files_and_cancels_the_rest(
    env: dict[str, str], daemon: DaemonProc, tmp_path: Path
) -> None:
    write(tmp_path, {f"volume{i:02}.txt": volume(i) for i in range(24)})
    ok(env, "kb", "create", "Big")
    before = all_file_ids(daemon)
    proc = spawn("kb", "add", "Big", str(tmp_path), "-j", "2", "--json", env=env)
    try:
        poll(lambda: len(kb_files(daemon, "Big")) >= 2, timeout=120, step=0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().startswith("webui: stopped")
    report = json.loads(out)
    assert report["interrupted"] is True
    added = [f for f in report["files"] if f["status"] == "added"]
    assert len(added) >= 2 and report["counts"]["cancelled"] > 0
    assert report["counts"]["added"] + report["counts"]["cancelled"] == 24

    files = kb_files(daemon, "Big")
    assert {f["id"] for f in files} == {f["file_id"] for f in added}
    assert {f["status"] for f in files} == {"completed"}
    # Nothing else is left: no stray uploads, no index rows of cancelled files.
    assert all_file_ids(daemon) - before == {f["id"] for f in files}
    rows = index_rows(daemon)
    assert {fid for fid, n in rows.items() if n} - before == {f["id"] for f in files}
    first = Path(added[0]["path"]).stem.removeprefix("volume")
    hits = as_json(env, "kb", "search", "Big", f"zorb{int(first)}x3", "-k", "1")
    assert hits[0]["file_id"] == added[0]["file_id"]


class AddInterrupter:
    """A Unix-socket relay to the daemon that sends Ctrl-C to the CLI as soon as a request to
    add a file to a knowledge base has gone through, and holds the daemon's answer back a
    moment, so the interrupt lands while the add is on the wire."""

    def __init__(self, target: Path, path: Path) -> None:
        self.target, self.path = target, path
        self.proc: subprocess.Popen[str] | None = None
        self.fired = threading.Event()
        self._server = socket.socket(socket.AF_UNIX)
        self._server.bind(str(path))
        self._server.listen()
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(str(self.target))
            hold = threading.Event()
            threading.Thread(target=self._pump, args=(client, upstream, hold, True)).start()
            threading.Thread(target=self._pump, args=(upstream, client, hold, False)).start()

    def _pump(
        self, src: socket.socket, dst: socket.socket, hold: threading.Event, up: bool
    ) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                if not up and hold.is_set():
                    time.sleep(0.5)  # the daemon has answered; the CLI has its Ctrl-C first
                    hold.clear()
                dst.sendall(data)
                if up and b"/file/add " in data and not self.fired.is_set():
                    self.fired.set()
                    hold.set()
                    assert self.proc is not None
                    self.proc.send_signal(signal.SIGINT)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def test_ctrl_c_while_the_daemon_adds_a_file_keeps_that_file(
    env: dict[str, str], daemon: DaemonProc, tmp_path: Path
) -> None:
    write(tmp_path / "docs", {f"volume{i:02}.txt": volume(i) for i in (40, 41, 42)})
    ok(env, "kb", "create", "Shelf")
    relay = AddInterrupter(daemon.socket_path, tmp_path / "relay.sock")
    try:
        relay.proc = spawn(
            "kb", "add", "Shelf", str(tmp_path / "docs"), "-j", "1", "--json",
            env=env | {"WEBUI_SOCKET": str(relay.path)},
        )  # fmt: skip
        out, err = relay.proc.communicate(timeout=120)
    finally:
        relay.close()
        if relay.proc is not None and relay.proc.poll() is None:
            relay.proc.kill()
    assert relay.fired.is_set() and relay.proc.returncode == 130, err
    report = json.loads(out)
    # The first file was in the knowledge base when Ctrl-C came: it stays, reported as added.
    assert [f["status"] for f in report["files"]] == ["added", "cancelled", "cancelled"]
    files = kb_files(daemon, "Shelf")
    assert [f["id"] for f in files] == [report["files"][0]["file_id"]]
    assert {f["status"] for f in files} == {"completed"}
