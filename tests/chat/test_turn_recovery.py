"""Crash recovery: answers a killed daemon (SIGKILL, a power cut) left half-written are finished
at the next start as a stopped daemon finishes them: done, interrupted, with the text saved."""

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chat.test_turns import message, new_chat, read_tokens, sse_payloads, text_of, turn_body
from tests.daemon_proc import start_daemon
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import assert_no_traceback, unix

TURNS = 20
TOKENS = 400
FULL = "".join(f"tok{i} " for i in range(TOKENS))


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    # Slow enough that no answer finishes in the test's lifetime.
    s = start_ollama(models=["standin:latest"], tokens=TOKENS, token_delay=0.05)
    yield s
    s.stop()


def all_messages(client: httpx.Client) -> dict[str, dict[str, Any]]:
    """Every message of every chat of the caller, by message id."""
    out: dict[str, dict[str, Any]] = {}
    # A client that accepts only JSON gets 0.6's array rather than 0.12's NDJSON.
    listing = client.get("/api/v1/chats/all", headers={"Accept": "application/json"})
    for listed in listing.json():
        chat = client.get(f"/api/v1/chats/{listed['id']}").json()
        out.update(chat["chat"]["history"]["messages"])
    return out


def wait_saved(client: httpx.Client, chats: list[tuple[str, str]]) -> dict[str, str]:
    """The text each answer has saved so far, once every one has saved some (bounded)."""
    deadline = time.monotonic() + 15
    saved: dict[str, str] = {}
    while time.monotonic() < deadline:
        saved = {mid: str(message(client, cid, mid).get("content") or "") for cid, mid in chats}
        if all(saved.values()):
            return saved
        time.sleep(0.1)
    raise AssertionError(f"not every answer saved text in time: {saved}")


def test_answers_left_running_by_a_killed_daemon_are_finished_at_start(
    tmp_path: Path, standin: StandIn
) -> None:
    env = provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false")
    first = start_daemon(tmp_path, env=env)
    chats: list[tuple[str, str]] = []
    try:
        with unix(first) as c:
            for _ in range(TURNS):
                chat_id = new_chat(c)
                body = turn_body(chat_id)
                with c.stream("POST", "/api/chat/completions", json=body) as r:
                    read_tokens(r, 1)  # then hang up: the answer goes on in the daemon
                chats.append((chat_id, body["id"]))
            running = c.get(f"/api/tasks/chat/{chats[0][0]}").json()
            assert running == {"task_ids": [chats[0][1]]}
            before = wait_saved(c, chats)
            assert all(not message(c, cid, mid)["done"] for cid, mid in chats)
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        first.stop(signal.SIGKILL)

    (tmp_path / "again").mkdir()
    again = start_daemon(tmp_path / "again", env=env, data_dir=first.data_dir)
    try:
        with unix(again) as c:
            messages = all_messages(c)
            assert [m for m in messages.values() if m.get("done") is False] == []
            for chat_id, message_id in chats:
                saved = messages[message_id]
                assert saved["done"] is True and saved["interrupted"] is True, saved
                assert "error" not in saved
                # What was saved before the kill is kept (maybe a little more, never less).
                assert saved["content"].startswith(before[message_id]), saved
                assert FULL.startswith(saved["content"]) and saved["content"] != FULL
                # Nothing runs for it; stopping is a harmless no-op.
                assert c.get(f"/api/tasks/chat/{chat_id}").json() == {"task_ids": []}
                assert c.post(f"/api/tasks/stop/{message_id}").json()["status"] is False
                stopped = c.post(f"/api/tasks/chat/{chat_id}/stop").json()
                assert stopped == {"status": True, "message": "No tasks found."}
                assert message(c, chat_id, message_id) == saved
            # Re-attaching replays the partial answer and says it was cut short.
            chat_id, message_id = chats[0]
            url = f"/api/v1/chats/{chat_id}/messages/{message_id}/stream"
            with c.stream("GET", url) as r:
                replay = list(sse_payloads(r.iter_lines()))
            assert text_of(replay) == messages[message_id]["content"]
            assert replay[-1] == "[DONE]" and replay[-2]["interrupted"] is True
            # The user messages are untouched (only unfinished assistant messages change).
            questions = [m for m in messages.values() if m["role"] == "user"]
            assert len(questions) == TURNS and all("interrupted" not in m for m in questions)
        assert f"{TURNS} answers of a previous run were left unfinished" in again.log()
        assert_no_traceback(again)
    finally:
        again.stop()

    # A clean restart finds nothing left to finish.
    (tmp_path / "third").mkdir()
    third = start_daemon(tmp_path / "third", env=env, data_dir=first.data_dir)
    try:
        assert "left unfinished" not in third.log()
    finally:
        third.stop()
