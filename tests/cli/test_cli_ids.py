"""Ids as people type them: a unique prefix (4+ characters) of a chat id, `last`, knowledge bases
by name or id prefix; an ambiguous prefix names the candidates; "not found" reads the same."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_support import cli_env, one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture

# Enough chats that two ids share their first 4 characters (65,536 prefixes: with 1,500 ids,
# the odds that none do are below 1e-7).
CHATS = 1500


daemon = daemon_fixture(tmp="ids")


@pytest.fixture(scope="module")
def chats(daemon: DaemonProc) -> list[dict[str, Any]]:
    """The chats of the daemon's OS user: "Chat 0" ... (ids and titles)."""
    made: list[dict[str, Any]] = []
    with daemon.unix_client(timeout=30) as c:
        for start in range(0, CHATS, 250):
            items = [
                {"chat": {"title": f"Chat {i}", "models": ["m"], "history": {"messages": {}}}}
                for i in range(start, min(start + 250, CHATS))
            ]
            r = c.post("/api/v1/chats/import", json={"chats": items})
            assert r.status_code == 200, r.text
            made += [{"id": chat["id"], "title": chat["title"]} for chat in r.json()]
    return made


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path, WEBUI_SOCKET=str(daemon.socket_path), WEBUI_NO_AUTOSTART="1")


def _unique_prefix(chats: list[dict[str, Any]], chat_id: str) -> str:
    for length in range(4, len(chat_id)):
        prefix = chat_id[:length]
        if sum(c["id"].startswith(prefix) for c in chats) == 1:
            return prefix
    return chat_id


def _shared_prefix(chats: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    by_prefix: dict[str, list[dict[str, Any]]] = {}
    for chat in chats:
        by_prefix.setdefault(chat["id"][:4], []).append(chat)
    prefix, sharing = max(by_prefix.items(), key=lambda item: len(item[1]))
    assert len(sharing) > 1
    return prefix, sharing


def _json(env: dict[str, str], *args: str) -> Any:
    result = webui(*args, "--json", env=env)
    assert result.returncode == 0, (args, result.stderr)
    return json.loads(result.stdout)


def test_a_unique_prefix_names_a_chat(env: dict[str, str], chats: list[dict[str, Any]]) -> None:
    chat = chats[7]
    prefix = _unique_prefix(chats, chat["id"])
    assert _json(env, "chats", "show", prefix)["id"] == chat["id"]
    assert _json(env, "chats", "show", prefix.upper())["id"] == chat["id"]  # case aside
    assert _json(env, "chats", "show", chat["id"])["id"] == chat["id"]  # whole, as before
    renamed = _json(env, "chats", "rename", prefix, "Renamed by prefix")
    assert renamed == {"id": chat["id"], "title": "Renamed by prefix"}
    # Archived chats are found too.
    assert _json(env, "chats", "archive", prefix)["archived"] is True
    assert _json(env, "chats", "show", prefix)["archived"] is True
    assert _json(env, "chats", "archive", prefix)["archived"] is False


def test_last_is_the_latest_chat(env: dict[str, str], chats: list[dict[str, Any]]) -> None:
    chat = chats[11]
    _json(env, "chats", "rename", chat["id"], "The latest one")  # now the most recent
    shown = _json(env, "chats", "show", "last")
    assert (shown["id"], shown["title"]) == (chat["id"], "The latest one")
    exported = webui("chats", "export", "last", "-f", "md", env=env)
    assert exported.returncode == 0 and exported.stdout.startswith("# The latest one")


def test_rm_by_prefix_asks_about_the_chat_it_found(
    env: dict[str, str], chats: list[dict[str, Any]]
) -> None:
    chat = chats[-1]
    prefix = _unique_prefix(chats, chat["id"])
    unconfirmed = webui("chats", "rm", prefix, env=env)
    assert unconfirmed.returncode == 1
    assert f"Delete chat {chat['id']} ({chat['title']})?" in one_error_line(unconfirmed)
    removed = _json(env, "chats", "rm", prefix, "--yes")
    assert removed == {"id": chat["id"], "deleted": True}
    gone = webui("chats", "show", chat["id"], env=env)
    assert gone.returncode == 2
    assert one_error_line(gone) == f"webui: not found: no chat matches {chat['id']}"
    chats.remove(chat)


def test_not_found_reads_the_same_everywhere(
    env: dict[str, str], chats: list[dict[str, Any]]
) -> None:
    missing = "386851d2"
    assert not any(c["id"].startswith(missing) for c in chats)
    for args in (
        ("chats", "show", missing),
        ("chats", "rm", missing, "--yes"),
        ("chats", "rename", missing, "New"),
        ("chats", "pin", missing),
        ("chats", "archive", missing),
        ("chats", "tag", missing, "x"),
        ("chats", "export", missing),
        ("chat", "--chat", missing, "hello?"),
        ("chat", "--attach", missing),
    ):
        result = webui(*args, env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert one_error_line(result) == f"webui: not found: no chat matches {missing}", args
    nonexist = webui("chat", "--chat", "nonexist", "hello?", env=env)
    assert one_error_line(nonexist) == "webui: not found: no chat matches nonexist"


def test_a_short_or_ambiguous_prefix_is_one_line(
    env: dict[str, str], chats: list[dict[str, Any]]
) -> None:
    short = webui("chats", "show", "abc", env=env)
    assert short.returncode == 1
    assert "give at least 4 characters of a chat id, or `last`" in one_error_line(short)

    prefix, sharing = _shared_prefix(chats)
    for args in (("chats", "show", prefix), ("chat", "--chat", prefix, "hello?")):
        result = webui(*args, env=env)
        assert result.returncode == 1, result.stderr
        line = one_error_line(result)
        assert line.startswith(f"webui: {prefix} matches {len(sharing)} chats: ")
        for chat in sharing[:4]:
            assert f"{chat['id']} ({chat['title']})" in line
        assert line.endswith("; give more of the id")


def test_knowledge_bases_by_name_or_id_prefix(env: dict[str, str]) -> None:
    made = _json(env, "kb", "create", "Atlas")
    other = _json(env, "kb", "create", "Atlas two")
    prefix = next(
        made["id"][:n]
        for n in range(4, len(made["id"]))
        if not other["id"].startswith(made["id"][:n])
    )
    assert _json(env, "kb", "show", prefix)["id"] == made["id"]
    assert _json(env, "kb", "show", "atlas")["id"] == made["id"]  # a name, case aside
    assert _json(env, "kb", "show", "Atlas two")["id"] == other["id"]
    for args in (("kb", "show", "Nowhere"), ("kb", "rm", "Nowhere", "--yes")):
        result = webui(*args, env=env)
        assert result.returncode == 2
        assert one_error_line(result) == "webui: not found: no knowledge base matches Nowhere"
    spaced = webui("chat", "-m", "m", "--kb", "No such base", "hello?", env=env)
    assert spaced.returncode == 2
    line = one_error_line(spaced)
    assert line == "webui: not found: no knowledge base matches 'No such base'"
