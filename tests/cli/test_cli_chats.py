"""`webui chats ...` against a real daemon: list, show, search, change, export and import."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import (
    MODEL,
    chat_env,
    chat_ids,
    get_chat,
    standin_env,
)
from tests.cli_support import one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama


def _message(mid: str, parent: str | None, children: list[str], role: str, text: str) -> Any:
    extra = {"model": MODEL, "done": True} if role == "assistant" else {"models": [MODEL]}
    return {
        "id": mid,
        "parentId": parent,
        "childrenIds": children,
        "role": role,
        "content": text,
        "timestamp": 1730000000,
        **extra,
    }


def owui_export(title: str, word: str) -> dict[str, Any]:
    """One chat as Open WebUI exports it: a tree where the first answer was regenerated."""
    messages = {
        "u1": _message("u1", None, ["a1", "a2"], "user", f"Tell me about {word}"),
        "a1": _message("a1", "u1", [], "assistant", "First try, discarded."),
        "a2": _message("a2", "u1", ["u2"], "assistant", f"All about {word}."),
        "u2": _message("u2", "a2", ["a3"], "user", "And more?"),
        "a3": _message("a3", "u2", [], "assistant", "**Much** more."),
    }
    order = ["u1", "a2", "u2", "a3"]
    return {
        "id": f"owui-{word}",
        "user_id": "someone-else",
        "title": title,
        "chat": {
            "id": "",
            "title": title,
            "models": [MODEL],
            "history": {"messages": messages, "currentId": "a3"},
            "messages": [messages[m] for m in order],
            "tags": [],
            "timestamp": 1730000000000,
        },
        "updated_at": 1730000100,
        "created_at": 1730000000,
        "share_id": None,
        "archived": False,
        "pinned": False,
        "meta": {"tags": ["imported"]},
        "folder_id": "a-folder-elsewhere",
    }


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL])
    yield s
    s.stop()


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="chats")


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def _import(env: dict[str, str], tmp_path: Path, *chats: dict[str, Any]) -> list[str]:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(list(chats)))
    result = webui("chats", "import", str(path), "--json", env=env)
    assert result.returncode == 0, result.stderr
    return [c["id"] for c in json.loads(result.stdout)]


def _listed(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    result = webui("chats", "list", "--json", *args, env=env)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def test_import_open_webui_export_and_show_the_current_branch(
    env: dict[str, str], tmp_path: Path, daemon: DaemonProc
) -> None:
    (chat_id,) = _import(env, tmp_path, owui_export("Volcanoes", "volcanoes"))
    assert chat_id != "owui-volcanoes"  # a new id
    stored = get_chat(daemon, chat_id)
    assert stored["title"] == "Volcanoes"
    assert stored["folder_id"] is None  # that folder is not here

    shown = webui("chats", "show", chat_id, env=env)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert out.startswith("# Volcanoes\n")
    # Only the branch shown in the chat: the regenerated answer, not the discarded one.
    assert "All about volcanoes." in out and "First try" not in out
    order = [out.index(text) for text in ("Tell me about", "All about", "And more?", "Much")]
    assert order == sorted(order)
    assert "### You" in out and f"### {MODEL}" in out

    as_json = json.loads(webui("chats", "show", chat_id, "--json", env=env).stdout)
    assert as_json["id"] == chat_id and as_json["chat"]["history"]["currentId"] == "a3"


def test_list_search_rename_pin_archive_tag_rm(env: dict[str, str], tmp_path: Path) -> None:
    glaciers, deserts = _import(
        env, tmp_path, owui_export("Glaciers", "glaciers"), owui_export("Deserts", "deserts")
    )
    listed = _listed(env)
    assert {glaciers, deserts} <= {c["id"] for c in listed}
    updated = [c["updated_at"] for c in listed]
    assert updated == sorted(updated, reverse=True)
    rows = webui("chats", "list", env=env).stdout.splitlines()
    assert any(row.startswith(f"{glaciers}\tGlaciers\t") for row in rows)
    assert len(_listed(env, "--limit", "1")) == 1

    found = json.loads(webui("chats", "search", "glaciers", "--json", env=env).stdout)
    assert [c["id"] for c in found] == [glaciers]

    renamed = webui("chats", "rename", glaciers, "Ice rivers", env=env)
    assert renamed.returncode == 0, renamed.stderr
    assert "Ice rivers" in renamed.stdout
    assert json.loads(webui("chats", "show", glaciers, "--json", env=env).stdout)["title"] == (
        "Ice rivers"
    )

    pinned = webui("chats", "pin", glaciers, "--json", env=env)
    assert json.loads(pinned.stdout) == {"id": glaciers, "pinned": True}
    flags = {c["id"]: c for c in _listed(env)}
    assert flags[glaciers]["pinned"] is True  # pinned chats stay in the list
    assert "pinned" in webui("chats", "list", env=env).stdout
    assert "Unpinned" in webui("chats", "pin", glaciers, env=env).stdout

    archived = webui("chats", "archive", deserts, env=env)
    assert "Archived chat" in archived.stdout
    assert deserts not in {c["id"] for c in _listed(env)}
    assert deserts in {c["id"] for c in _listed(env, "--archived")}
    assert "Unarchived" in webui("chats", "archive", deserts, env=env).stdout
    assert deserts in {c["id"] for c in _listed(env)}

    tagged = webui("chats", "tag", deserts, "Dry Places", "--json", env=env)
    assert tagged.returncode == 0, tagged.stderr
    assert "Dry Places" in [t["name"] for t in json.loads(tagged.stdout)]
    by_tag = json.loads(webui("chats", "search", "tag:dry_places", "--json", env=env).stdout)
    assert [c["id"] for c in by_tag] == [deserts]
    untagged = webui("chats", "tag", deserts, "Dry Places", "--remove", env=env)
    assert untagged.returncode == 0, untagged.stderr
    assert "Dry Places" not in untagged.stdout

    refused = webui("chats", "rm", deserts, env=env)
    assert refused.returncode == 1
    assert "--yes" in one_error_line(refused)
    removed = webui("chats", "rm", deserts, "--yes", env=env)
    assert removed.returncode == 0, removed.stderr
    assert deserts not in {c["id"] for c in _listed(env)}
    missing = webui("chats", "show", deserts, env=env)
    assert missing.returncode == 2
    one_error_line(missing)


def test_export_round_trip_and_markdown(
    env: dict[str, str], tmp_path: Path, daemon: DaemonProc
) -> None:
    (chat_id,) = _import(env, tmp_path, owui_export("Rivers", "rivers"))
    whole = webui("chats", "export", env=env)
    assert whole.returncode == 0, whole.stderr
    exported = json.loads(whole.stdout)
    assert chat_id in {c["id"] for c in exported}

    out = tmp_path / "one.json"
    one = webui("chats", "export", chat_id, "-o", str(out), env=env)
    assert one.returncode == 0, one.stderr
    assert "Exported 1 chat(s)" in one.stdout
    (single,) = json.loads(out.read_text())
    assert single["chat"]["history"] == get_chat(daemon, chat_id)["chat"]["history"]

    before = chat_ids(daemon)
    again = webui("chats", "import", str(out), "--json", env=env)
    assert again.returncode == 0, again.stderr
    (copy_id,) = [c["id"] for c in json.loads(again.stdout)]
    assert copy_id not in before
    copy = get_chat(daemon, copy_id)["chat"]
    original = get_chat(daemon, chat_id)["chat"]
    assert copy["history"] == original["history"]  # lossless, the discarded branch too
    assert copy["title"] == "Rivers"

    from_stdin = webui("chats", "import", "-", env=env, stdin=out.read_text())
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert "Imported 1 chat(s)" in from_stdin.stdout

    md = webui("chats", "export", chat_id, "--format", "md", env=env)
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Rivers\n") and "**Much** more." in md.stdout
    assert "First try" not in md.stdout


def test_import_mistakes(env: dict[str, str], tmp_path: Path) -> None:
    missing = webui("chats", "import", str(tmp_path / "nope.json"), env=env)
    assert missing.returncode == 1
    assert "cannot read" in one_error_line(missing)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json at all")
    bad = webui("chats", "import", str(garbage), env=env)
    assert bad.returncode == 1
    assert "not JSON" in one_error_line(bad)
    garbage.write_text("[1, 2]")
    wrong = webui("chats", "import", str(garbage), env=env)
    assert wrong.returncode == 1
    one_error_line(wrong)
    garbage.write_text('[{"title": "no document"}]')
    refused = webui("chats", "import", str(garbage), env=env)
    assert refused.returncode == 2
    assert "document" in one_error_line(refused)
