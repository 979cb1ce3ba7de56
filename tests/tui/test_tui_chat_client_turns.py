"""The chat screen saving turns from the client (as against Open WebUI), driven with Pilot on a
real daemon with client-side turns forced: the tree saved, esc, regenerate, edit, refusals."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli_chat_client_turns import tree_is_linked
from tests.cli_chat_support import chat_ids
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui.test_tui_chat import ask, screen, settled, start_running_chat, stored, views
from tests.tui_support import MODEL, Recording, make_app, until
from webui_tui.app.app import WebUIApp

REPLY = "Hello from the stand-in."


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply=REPLY)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(standin: StandIn) -> None:
    standin.reset(models=[MODEL], reply=REPLY)


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false"),
    tmp="tui-client-turns",
)


def asked(standin: StandIn) -> list[dict[str, Any]]:
    """The messages of the last completion the provider was asked."""
    return list(standin.chats()[-1].body["messages"])


def client_app(daemon: DaemonProc, tmp_path: Path) -> tuple[WebUIApp, Recording]:
    """The app with client-side turns forced, recording what it sends."""
    recording = Recording(daemon)
    return make_app(daemon, tmp_path, client_turns=True, transport=recording), recording


def all_client_side(recording: Recording) -> bool:
    """Every completion the app asked was a plain one (no chat named) and nothing was stopped
    through the server: the turns were the client's."""
    asked = recording.completions()
    stops = [path for _, path, _ in recording.sent if path.startswith("/api/tasks/")]
    return bool(asked) and not any("chat_id" in body for body in asked) and not stops


def notified(app: Any, text: str) -> bool:
    return any(text in n.message for n in app._notifications)


async def test_answers_stream_and_the_client_saves_the_tree(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    standin.set(reply_fn=lambda body: f"echo: {body['messages'][-1]['content']}")
    app, recording = client_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, app, "alpha")
        assert views(app)[-1].info.content == "echo: alpha"
        assert "out" in views(app)[-1].info.stats  # token usage shown
        await ask(pilot, app, "beta")
        chat = screen(app).chat
        assert chat is not None
        assert [v.info.content for v in views(app)] == [
            "alpha",
            "echo: alpha",
            "beta",
            "echo: beta",
        ]
        shown_ids = [v.info.id for v in views(app)]
    completions = recording.completions()
    assert len(completions) == 2
    assert all_client_side(recording)
    assert (
        completions[-1]["messages"]
        == asked(standin)
        == [
            {"role": "user", "content": "alpha"},
            {"role": "assistant", "content": "echo: alpha"},
            {"role": "user", "content": "beta"},
        ]
    )
    saved = stored(daemon, chat.id)
    assert saved["title"] == "alpha"
    path = tree_is_linked(saved["chat"])
    assert [(m["role"], m["content"]) for m in path] == [
        ("user", "alpha"),
        ("assistant", "echo: alpha"),
        ("user", "beta"),
        ("assistant", "echo: beta"),
    ]
    assert [m["id"] for m in path] == shown_ids
    assert path[-1]["done"] is True and path[-1]["usage"]["completion_tokens"] == 2
    assert "interrupted" not in path[-1]


async def test_escape_hangs_up_and_saves_what_arrived(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    standin.set(tokens=400, token_delay=0.02)
    app, recording = client_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen(app).model)
        await pilot.press(*"long", "enter")
        await until(pilot, lambda: "tok3" in views(app)[-1].info.content, what="tokens shown")
        await pilot.press("escape")
        await until(pilot, lambda: settled(app) and notified(app, "Stopped"), what="stopped")
        await until(pilot, lambda: "stopped" in views(app)[-1].info.notes, what="the saved note")
        shown = views(app)[-1].info.content
        chat = screen(app).chat
        assert chat is not None
        await until(pilot, lambda: any(r.closed_at for r in standin.chats()), what="hang-up")
    assert standin.chats()[-1].tokens_sent < 400
    assert all_client_side(recording)  # hung up, not stopped through the server
    answer = tree_is_linked(stored(daemon, chat.id)["chat"])[-1]
    assert answer["role"] == "assistant" and answer["interrupted"] is True
    assert answer["done"] is True
    assert answer["content"] == shown  # what was shown is what was saved
    assert answer["content"].startswith("tok0 tok1 tok2 tok3 ")


async def test_an_upstream_failure_is_saved_with_what_arrived(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    standin.set(tokens=10, cut_after=4)
    app, _ = client_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen(app).model)
        await pilot.press(*"hi", "enter")
        await until(pilot, lambda: settled(app) and views(app)[-1].info.notes, what="the note")
        assert views(app)[-1].info.content == "tok0 tok1 tok2 tok3 "
        assert views(app)[-1].info.notes[0].startswith("error: ")
        chat = screen(app).chat
        assert chat is not None
    answer = tree_is_linked(stored(daemon, chat.id)["chat"])[-1]
    assert answer["content"] == "tok0 tok1 tok2 tok3 "
    assert answer["error"]["content"]


async def test_regenerate_makes_a_sibling_answer(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    app, recording = client_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, app, "Question")
        question, first_answer = (v.info.id for v in views(app))
        standin.set(reply="Second answer.")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: settled(app) and views(app)[-1].info.total == 2)
        second_answer = views(app)[-1].info.id
        assert second_answer != first_answer
        assert views(app)[-1].info.index == 2
        assert views(app)[-1].info.content == "Second answer."
        chat = screen(app).chat
        assert chat is not None
        assert asked(standin) == [{"role": "user", "content": "Question"}]
        assert all_client_side(recording)
        saved = stored(daemon, chat.id)["chat"]
        assert [m["id"] for m in tree_is_linked(saved)] == [question, second_answer]
        tree = saved["history"]["messages"]
        assert tree[question]["childrenIds"] == [first_answer, second_answer]
        assert tree[first_answer]["content"] == REPLY
        assert tree[second_answer]["parentId"] == question
        await pilot.press("ctrl+l", "left")
        await until(pilot, lambda: views(app)[-1].info.id == first_answer)
        assert views(app)[-1].info.content == REPLY
        await until(
            pilot,
            lambda: stored(daemon, chat.id)["chat"]["history"]["currentId"] == first_answer,
            what="the branch choice saved",
        )
    # Saved with the whole tree, which Open WebUI needs (it replaces `history` whole).
    saves = [(m, p, body) for m, p, body in recording.sent if m == "POST"]
    sent = [body["chat"] for _, path, body in saves if path == f"/api/v1/chats/{chat.id}"]
    assert sent[-1]["history"]["currentId"] == first_answer
    assert set(sent[-1]["history"]["messages"]) == {question, first_answer, second_answer}
    assert [m["id"] for m in sent[-1]["messages"]] == [question, first_answer]
    assert [m["id"] for m in tree_is_linked(stored(daemon, chat.id)["chat"])] == [
        question,
        first_answer,
    ]


async def test_edit_and_resend_asks_under_the_edited_question_parent(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    app, recording = client_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, app, "Frist")
        original = views(app)[0].info.id
        views(app)[0].focus()
        await pilot.press("e")
        await pilot.press("ctrl+a", "ctrl+k", *"First", "enter")
        await until(pilot, lambda: settled(app) and views(app)[0].info.total == 2)
        assert [v.info.content for v in views(app)] == ["First", REPLY]
        chat = screen(app).chat
        assert chat is not None
    assert asked(standin) == [{"role": "user", "content": "First"}]  # not the old branch
    assert all_client_side(recording)
    saved = stored(daemon, chat.id)["chat"]
    path = tree_is_linked(saved)
    assert [m["content"] for m in path] == ["First", REPLY]
    tree = saved["history"]["messages"]
    assert path[0]["id"] != original and tree[original]["parentId"] is None
    assert len(tree) == 4  # both questions, each with its answer


async def test_a_refused_model_leaves_no_chat(daemon: DaemonProc, tmp_path: Path) -> None:
    before = chat_ids(daemon)
    app = make_app(daemon, tmp_path, client_turns=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen(app).model)
        screen(app).model = "ghost:1b"
        await pilot.press(*"hi", "enter")
        await until(pilot, lambda: notified(app, "asking: "), what="the problem shown")
        await until(pilot, lambda: not screen(app).streaming)
        assert screen(app).chat is None
        assert not views(app)
    assert chat_ids(daemon) == before


async def test_a_running_answer_is_not_reattached_but_noticed(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    standin.set(tokens=100, token_delay=0.03)
    chat_id = start_running_chat(daemon)
    app = make_app(daemon, tmp_path, client_turns=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen(app).model)
        screen(app).open_chat(chat_id)
        await until(pilot, lambda: notified(app, "still being generated"), what="the notice")
        assert not screen(app).streaming
        assert [v.info.id for v in views(app)] == ["ask-1", "answer-1"]


async def test_the_environment_switch_forces_client_side_turns(
    daemon: DaemonProc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBUI_CLIENT_TURNS", "1")
    recording = Recording(daemon)
    app = make_app(daemon, tmp_path, transport=recording)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, app, "Say hi")
        assert views(app)[-1].info.content == REPLY
    assert all_client_side(recording)
