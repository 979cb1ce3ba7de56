"""`webui memories` and `webui chat --memory/--no-memory` against a real daemon (the shared local
embedding model, a stand-in Ollama that logs what it received)."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import api, chat_env, standin_env
from tests.cli_support import one_error_line, webui
from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama

MODEL = "standin:latest"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply="Noted.")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: standin_env(standin, **model_env({"WEBUI_MEMORY_MAX_CHARS": "300"})),
    tmp="cli-memories",
)


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def ok(env: dict[str, str], *args: str, stdin: str = "") -> str:
    result = webui(*args, env=env, stdin=stdin, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def as_json(env: dict[str, str], *args: str) -> Any:
    return json.loads(ok(env, *args, "--json"))


def memories(daemon: DaemonProc) -> list[dict[str, Any]]:
    with api(daemon) as c:
        return list(c.get("/api/v1/memories/").json())


def test_add_list_edit_search_rm_clear(env: dict[str, str], daemon: DaemonProc) -> None:
    fact = as_json(env, "memories", "add", "I", "am", "allergic", "to", "peanuts.", "--user")
    assert fact["type"] == "user" and fact["content"] == "I am allergic to peanuts."
    piped = json.loads(ok(env, "memories", "add", "--path", "home", "--json", stdin="Bins: Tue\n"))
    assert piped["content"] == "Bins: Tue" and piped["path"] == "home"
    other = as_json(env, "memories", "add", "My sister lives in Lisbon.")
    assert [m["id"] for m in memories(daemon)] == [fact["id"], piped["id"], other["id"]]

    rows = ok(env, "memories", "list").splitlines()  # a pipe: tab-separated, no header
    assert rows[0].split("\t")[:3] == [fact["id"], "user", ""]
    assert rows[1].split("\t")[2] == "home" and rows[1].endswith("\tBins: Tue")

    changed = as_json(env, "memories", "edit", piped["id"][:8], "Bins go out on Wednesday.")
    assert changed["content"] == "Bins go out on Wednesday." and changed["path"] == "home"
    as_json(env, "memories", "edit", piped["id"], "--path", "", "--user")
    now = next(m for m in memories(daemon) if m["id"] == piped["id"])
    assert now["path"] is None and now["type"] == "user"

    hits = as_json(env, "memories", "search", "where", "does", "my", "sister", "live", "-k", "2")
    assert hits[0]["id"] == other["id"] and len(hits) == 2
    assert hits[0]["score"] >= hits[1]["score"]
    table = ok(env, "memories", "search", "Lisbon", "-k", "1")
    assert table.startswith(other["id"] + "\t")

    out = ok(env, "memories", "rm", other["id"][:6])
    assert other["id"] in out and "Lisbon" in out
    assert other["id"] not in {m["id"] for m in memories(daemon)}

    refused = webui("memories", "clear", env=env)  # no terminal: --yes is required
    assert refused.returncode == 1 and "--yes" in one_error_line(refused)
    assert len(memories(daemon)) == 2
    assert "Forgot 2 memories." in ok(env, "memories", "clear", "--yes")
    assert memories(daemon) == []
    # A search with no memories: nothing found, not an error.
    empty = webui("memories", "search", "anything", env=env)
    assert empty.returncode == 0 and empty.stdout == "" and "no memory matches" in empty.stderr
    assert as_json(env, "memories", "search", "anything") == []


def test_errors(env: dict[str, str]) -> None:
    result = webui("memories", "add", env=env)
    assert result.returncode == 1 and "nothing to remember" in one_error_line(result)
    result = webui("memories", "add", "x" * 301, env=env)
    line = one_error_line(result)
    assert result.returncode == 2 and "300" in line and "too long" in line
    result = webui("memories", "rm", "ffffffff", env=env)
    assert result.returncode == 2 and "no memory matches ffffffff" in one_error_line(result)
    result = webui("memories", "rm", "ab", env=env)
    assert result.returncode == 1 and "at least 4" in one_error_line(result)
    result = webui("memories", "add", "fine", "--path", "a/../b", env=env)
    assert result.returncode == 2 and "Invalid memory path" in one_error_line(result)


def test_chat_memory_switch(env: dict[str, str], daemon: DaemonProc, standin: StandIn) -> None:
    ok(env, "memories", "add", "My name is Quentin.", "--user")
    try:

        def system_sent(*args: str) -> str:
            standin.reset(models=[MODEL], reply="Noted.")
            assert ok(env, "chat", *args, "Who am I?").strip() == "Noted."
            first = standin.chats()[-1].body["messages"][0]
            return str(first["content"]) if first["role"] == "system" else ""

        # The setting is unset: on, as the web UI. Saved turns and temporary ones alike.
        assert "- My name is Quentin." in system_sent()
        assert system_sent("--no-memory") == ""
        assert system_sent("--temporary", "--no-memory") == ""
        with api(daemon) as c:
            c.post("/api/v1/users/user/settings/update", json={"ui": {"memory": False}})
        assert system_sent() == ""
        assert "<memory_context>" in system_sent("--memory")
        assert "<memory_context>" in system_sent("--temporary", "--memory")
    finally:
        with api(daemon) as c:
            c.post("/api/v1/users/user/settings/update", json={"ui": {}})
            c.delete("/api/v1/memories/delete/user")
