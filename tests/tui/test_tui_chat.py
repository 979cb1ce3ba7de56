"""The chat screen driven with Pilot against a real daemon and a stand-in Ollama."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui_support import MODEL, OTHER_MODEL, make_app, until
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.dialogs import ConfirmScreen, PromptScreen
from webui_tui.app.widgets.chat_list import ChatList
from webui_tui.app.widgets.conversation import PAGE
from webui_tui.app.widgets.message_view import MessageView

REPLY = "Hello from the stand-in."


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, OTHER_MODEL], reply=REPLY)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(standin: StandIn) -> None:
    standin.reset(models=[MODEL, OTHER_MODEL], reply=REPLY)


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false"),
    tmp="tui-chat",
)


def api(daemon: DaemonProc) -> httpx.Client:
    return daemon.unix_client(timeout=10)


def stored(daemon: DaemonProc, chat_id: str) -> dict[str, Any]:
    with api(daemon) as c:
        r = c.get(f"/api/v1/chats/{chat_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def screen(app: Any) -> ChatScreen:
    assert isinstance(app.screen, ChatScreen)
    return app.screen


def views(app: Any) -> list[MessageView]:
    return list(app.screen.query(MessageView))


def settled(app: Any) -> bool:
    """No answer streaming, and every shown message has its saved id."""
    chat = screen(app)
    return not chat.streaming and bool(views(app)) and all(v.info.id for v in views(app))


async def ask(pilot: Any, app: Any, text: str) -> None:
    await until(pilot, lambda: screen(app).model, what="the model list")
    app.screen.query_one("#composer").focus()
    await pilot.press(*text)
    await pilot.press("enter")
    await until(pilot, lambda: settled(app) and views(app)[-1].info.content, what="answer")


async def test_enter_streams_the_answer_and_saves_it(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, app, "Say hi")
        chat = screen(app).chat
        assert chat is not None
        assert [v.info.role for v in views(app)] == ["user", "assistant"]
        assert views(app)[-1].info.content == REPLY
        assert "out" in views(app)[-1].info.stats  # token usage shown
        listed = app.screen.query_one(ChatList)
        assert any(o.id == chat.id for o in listed.options)
    saved = stored(daemon, chat.id)
    contents = [m["content"] for m in saved["chat"]["messages"]]
    assert contents == ["Say hi", REPLY]


async def test_newline_key_and_multiline_message(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen(app).model)
        await pilot.press("a", "ctrl+j", "b")
        assert app.screen.query_one("#composer").text == "a\nb"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: settled(app) and len(views(app)) == 2)
        chat = screen(app).chat
        assert chat is not None
    assert stored(daemon, chat.id)["chat"]["messages"][0]["content"] == "a\nb"


async def test_regenerate_then_switch_branch(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, app, "Question")
        first_answer = views(app)[-1].info.id
        standin.set(reply="Second answer.")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: settled(app) and views(app)[-1].info.total == 2)
        second_answer = views(app)[-1].info.id
        assert second_answer != first_answer
        assert views(app)[-1].info.index == 2
        chat = screen(app).chat
        assert chat is not None
        assert stored(daemon, chat.id)["chat"]["history"]["currentId"] == second_answer
        await pilot.press("ctrl+l", "left")
        await until(pilot, lambda: views(app)[-1].info.id == first_answer)
        assert views(app)[-1].info.index == 1
        assert views(app)[-1].info.content == REPLY
        await until(
            pilot,
            lambda: stored(daemon, chat.id)["chat"]["history"]["currentId"] == first_answer,
            what="the branch choice saved",
        )


async def test_edit_and_resend_makes_a_sibling(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, app, "Frist")
        original = views(app)[0].info.id
        views(app)[0].focus()
        await pilot.press("e")
        composer = app.screen.query_one("#composer")
        assert composer.text == "Frist"  # type: ignore[attr-defined]
        await pilot.press("ctrl+a", "ctrl+k", *"First", "enter")
        await until(pilot, lambda: settled(app) and views(app)[0].info.total == 2)
        chat = screen(app).chat
        assert chat is not None
    messages = stored(daemon, chat.id)["chat"]["history"]["messages"]
    users = [m for m in messages.values() if m["role"] == "user"]
    assert sorted(m["content"] for m in users) == ["First", "Frist"]
    edited = next(m for m in users if m["content"] == "First")
    assert edited["id"] != original and edited["parentId"] == messages[original]["parentId"]


async def test_escape_stops_a_running_answer(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    standin.set(tokens=400, token_delay=0.02)
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen(app).model)
        await pilot.press(*"long", "enter")
        await until(pilot, lambda: "tok3" in views(app)[-1].info.content, what="tokens shown")
        await pilot.press("escape")
        await until(pilot, lambda: settled(app), what="stopped")
        chat = screen(app).chat
        assert chat is not None
    answer = stored(daemon, chat.id)["chat"]["messages"][-1]
    assert answer["interrupted"] is True
    assert "tok399" not in answer["content"]


def start_running_chat(daemon: DaemonProc) -> str:
    """A chat whose answer (`answer-1` to `ask-1`) the daemon is generating with nobody
    reading it; its id."""
    with api(daemon) as c:
        chat = c.post("/api/v1/chats/new", json={"chat": {"title": "Running", "models": [MODEL]}})
        chat_id = chat.json()["id"]
        body = {
            "model": MODEL,
            "stream": True,
            "chat_id": chat_id,
            "id": "answer-1",
            "parent_id": "ask-1",
            "user_message": {"id": "ask-1", "parentId": None, "role": "user", "content": "go"},
        }
        with c.stream("POST", "/api/chat/completions", json=body) as r:
            assert r.status_code == 200
            next(r.iter_lines())  # started; hang up, the daemon goes on
    return str(chat_id)


async def test_opening_a_running_chat_reattaches(
    daemon: DaemonProc, tmp_path: Path, standin: StandIn
) -> None:
    standin.set(tokens=60, token_delay=0.03)
    chat_id = start_running_chat(daemon)
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen(app).model)
        screen(app).open_chat(chat_id)
        await until(pilot, lambda: screen(app).streaming, what="re-attached")
        await until(pilot, lambda: settled(app) and "tok59" in views(app)[-1].info.content)


async def test_sidebar_actions_rename_pin_tag_delete(daemon: DaemonProc, tmp_path: Path) -> None:
    with api(daemon) as c:
        made = c.post("/api/v1/chats/new", json={"chat": {"title": "Zzz old", "models": [MODEL]}})
        chat_id = made.json()["id"]
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        chats = app.screen.query_one(ChatList)
        await until(pilot, lambda: any(o.id == chat_id for o in chats.options))
        chats.focus()
        chats.highlighted = next(i for i, o in enumerate(chats.options) if o.id == chat_id)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), what="the prompt")
        await pilot.press("ctrl+a", "ctrl+k", *"Renamed", "enter")
        await until(pilot, lambda: stored(daemon, chat_id)["title"] == "Renamed")
        await pilot.press("p")
        await until(pilot, lambda: stored(daemon, chat_id)["pinned"])
        await until(pilot, lambda: chats.options and chats.options[0].id == chat_id)
        chats.highlighted = 0
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), what="the prompt")
        await pilot.press(*"work", "enter")
        with api(daemon) as c:
            await until(
                pilot, lambda: [t["name"] for t in c.get(f"/api/v1/chats/{chat_id}/tags").json()]
            )
        chats.focus()
        chats.highlighted = 0
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        with api(daemon) as c:  # Open WebUI answers 401 for a chat that is not there
            await until(pilot, lambda: c.get(f"/api/v1/chats/{chat_id}").status_code in (401, 404))


async def test_search_uses_the_daemon(daemon: DaemonProc, tmp_path: Path) -> None:
    with api(daemon) as c:
        c.post("/api/v1/chats/new", json={"chat": {"title": "Quokka facts", "models": [MODEL]}})
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        chats = app.screen.query_one(ChatList)
        await until(pilot, lambda: chats.option_count > 1)
        await pilot.press("ctrl+f", *"quokka")
        await until(pilot, lambda: chats.option_count == 1, what="search results")
        assert "Quokka" in str(chats.get_option_at_index(0).prompt)


async def test_a_2000_message_chat_opens_lazily(daemon: DaemonProc, tmp_path: Path) -> None:
    messages: dict[str, Any] = {}
    parent = None
    for i in range(2000):
        mid = f"m{i}"
        role = "user" if i % 2 == 0 else "assistant"
        messages[mid] = {
            "id": mid,
            "parentId": parent,
            "childrenIds": [f"m{i + 1}"] if i < 1999 else [],
            "role": role,
            "content": f"message {i}",
        }
        parent = mid
    doc = {
        "title": "Long",
        "models": [MODEL],
        "history": {"messages": messages, "currentId": "m1999"},
    }
    with api(daemon) as c:
        chat_id = c.post("/api/v1/chats/new", json={"chat": doc}).json()["id"]
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: screen(app).model)
        screen(app).open_chat(chat_id)
        await until(pilot, lambda: len(views(app)) == PAGE, what="the last page")
        assert views(app)[-1].info.content == "message 1999"
        await pilot.press("ctrl+l", "home")
        await until(pilot, lambda: len(views(app)) == 2 * PAGE, what="the page before")
