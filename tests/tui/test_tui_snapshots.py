"""SVG snapshots of each screen and the chat's key states, at 80×24 (one daemon, fixed data).

Chats are made through the API with fixed ids and contents; nothing shown depends on a clock.
Update with `pytest tests/tui/test_tui_snapshots.py --snapshot-update`.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui_support import MODEL, OTHER_MODEL, make_app, until
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.conversation import Conversation
from webui_tui.app.widgets.message_view import MessageInfo, MessageView
from webui_tui.app.widgets.notice import Problem
from webui_tui.client.errors import ServerError

SIZE = (80, 24)
SOURCES = [
    {
        "source": {"id": "kb1", "name": "Handbook", "type": "collection"},
        "document": ["Quokkas live on Rottnest Island.", "They are marsupials."],
        "metadata": [{"source": "quokka.md"}, {"source": "mammals.pdf"}],
    }
]


def msg(mid: str, parent: str | None, role: str, content: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "parentId": parent,
        "childrenIds": [],
        "role": role,
        "content": content,
        "model": MODEL if role == "assistant" else None,
        **extra,
    }


def tree(*messages: dict[str, Any], current: str) -> dict[str, Any]:
    by_id = {m["id"]: m for m in messages}
    for m in messages:
        if m["parentId"]:
            by_id[m["parentId"]]["childrenIds"].append(m["id"])
    return {"messages": by_id, "currentId": current}


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, OTHER_MODEL], reply="Hi.")
    yield s
    s.stop()


def _seed(proc: DaemonProc) -> None:
    branches = tree(
        msg("u1", None, "user", "Name a marsupial."),
        msg("a1", "u1", "assistant", "The kangaroo."),
        msg(
            "a2",
            "u1",
            "assistant",
            "The **quokka**: a small wallaby.\n\n```python\nprint('quokka')\n```",
        ),
        msg("a3", "u1", "assistant", "The koala."),
        current="a2",
    )
    cited = tree(
        msg("q1", None, "user", "Where do quokkas live?"),
        msg(
            "r1",
            "q1",
            "assistant",
            "On Rottnest Island [1]; they are marsupials [2].",
            sources=SOURCES,
            usage={"prompt_tokens": 12, "completion_tokens": 9},
        ),
        current="r1",
    )
    with proc.unix_client(timeout=10) as c:
        # Created newest-last with titles in the same order, so the sidebar order is fixed.
        for title, history in (("C branches", branches), ("B citations", cited)):
            doc = {"title": title, "models": [MODEL], "history": history}
            made = c.post("/api/v1/chats/new", json={"chat": doc})
            assert made.status_code == 200, made.text
        group = c.post(
            "/api/v1/groups/create", json={"name": "Editors", "description": "Write access"}
        ).json()
        me = c.get("/api/v1/auths/").json()
        c.post(f"/api/v1/groups/id/{group['id']}/users/add", json={"user_ids": [me["id"]]})
        # A folder shown open with one chat, and a tag on one chat.
        work = c.post("/api/v1/folders/", json={"name": "Work"}).json()["id"]
        c.post(f"/api/v1/folders/{work}/update/expanded", json={"is_expanded": True})
        doc = {"title": "A plans", "models": [MODEL], "history": {"messages": {}}}
        c.post("/api/v1/chats/new", json={"chat": doc, "folder_id": work})
        c.post(f"/api/v1/chats/{chat_id_in(c, 'C branches')}/tags", json={"name": "marsupials"})
        # Prompts for the picker (`/`).
        for command, name in (("summarize", "Summarize"), ("tldr", "Summary in brief")):
            form = {"command": command, "name": name, "content": "Summarize {{CLIPBOARD}}"}
            assert c.post("/api/v1/prompts/create", json=form).status_code == 200


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false"),
    tmp="tui-snap",
    setup=_seed,
)


def chat_id_in(c: Any, title: str) -> str:
    listed = c.get("/api/v1/chats/", params={"include_pinned": True}).json()
    return str(next(chat["id"] for chat in listed if chat["title"] == title))


def chat_id(daemon: DaemonProc, title: str) -> str:
    with daemon.unix_client(timeout=10) as c:
        return chat_id_in(c, title)


async def ready(pilot: Any) -> None:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.model)
    await until(pilot, lambda: app.screen.query_one("#chats").option_count >= 2)
    app.screen.query_one(Composer).cursor_blink = False
    await pilot.pause()


async def opened(pilot: Any, daemon: DaemonProc, title: str) -> None:
    await ready(pilot)
    screen = pilot.app.screen
    screen.open_chat(chat_id(daemon, title))
    await until(pilot, lambda: screen.chat is not None and screen.chat.title == title)
    await until(pilot, lambda: all(v.info.id for v in screen.query(MessageView)))
    await pilot.pause()


def test_chat_empty(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    assert snap_compare(make_app(daemon, tmp_path), terminal_size=SIZE, run_before=ready)


def test_chat_branch_2_of_3(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await opened(pilot, daemon, "C branches")
        await pilot.press("ctrl+l")
        await pilot.pause()

    assert snap_compare(make_app(daemon, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_chat_sidebar_folder(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    """The folder Work open with its chat, the chat list focused."""

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await until(pilot, lambda: pilot.app.screen.query_one("#chats").option_count >= 4)
        await pilot.press("ctrl+t")
        await pilot.pause(0.3)

    assert snap_compare(make_app(daemon, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_chat_tag_filter(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        screen = pilot.app.screen
        await pilot.press("ctrl+g")
        await until(pilot, lambda: pilot.app.screen is not screen)
        picker = pilot.app.screen.query_one("OptionList")
        picker.highlighted = 1  # "# marsupials"
        await pilot.press("enter")
        await until(pilot, lambda: screen.query_one("#chats").option_count == 1)
        await pilot.pause()

    assert snap_compare(make_app(daemon, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_chat_citations_panel(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await opened(pilot, daemon, "B citations")
        await pilot.press("ctrl+l", "s")
        await pilot.pause()

    assert snap_compare(make_app(daemon, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_chat_streaming(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    """A fixed partial answer, as the coalescing timer shows it mid-stream."""

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        screen = pilot.app.screen
        conversation = screen.query_one(Conversation)
        conversation.add(MessageInfo(id="u", role="user", speaker="You", content="Count to five"))
        view = conversation.add(MessageInfo(id="a", role="assistant", speaker=MODEL, content=""))
        conversation.begin_stream(view)
        conversation.feed("One, two, ")
        conversation.feed("three")
        await pilot.pause(0.2)

    assert snap_compare(make_app(daemon, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_chat_prompt_picker(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    """`/su` typed: the prompts whose command or name holds "su", the second highlighted."""

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        screen = pilot.app.screen
        await pilot.press("/", "s", "u", "down")
        await until(pilot, lambda: len(screen.picker.matches) == 2)
        await pilot.pause()

    assert snap_compare(make_app(daemon, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_error_notice(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        error = ServerError(502, "the provider is down", "POST", "/api/chat/completions")
        pilot.app.screen.post_message(Problem(error, "asking"))
        await pilot.pause(0.3)

    assert snap_compare(make_app(daemon, tmp_path), terminal_size=SIZE, run_before=run_before)


def test_knowledge_empty(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        await pilot.pause(0.5)

    app = make_app(daemon, tmp_path, mode="knowledge")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_admin_groups(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await until(pilot, lambda: app.screen.query_one("#groups").row_count == 1)
        app.screen.query_one("#tabs").active = "groups-tab"
        await pilot.pause(0.3)

    app = make_app(daemon, tmp_path, mode="admin")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_admin_api_key(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await until(pilot, lambda: "per user" in str(app.screen.query_one("#apikey").render()))
        app.screen.query_one("#tabs").active = "key-tab"
        await pilot.pause(0.3)

    app = make_app(daemon, tmp_path, mode="admin")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_admin_permissions(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await until(pilot, lambda: app.screen.query_one("#permissions").row_count > 20)
        app.screen.query_one("#tabs").active = "perm-tab"
        await pilot.pause(0.3)

    app = make_app(daemon, tmp_path, mode="admin")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_settings(snap_compare: Any, daemon: DaemonProc) -> None:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await until(pilot, lambda: not app.screen._loading)
        # The memory switch slides to its loaded value: the picture is taken once it stopped.
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()

    app = make_app(daemon, Path("/nonexistent/webui"), mode="settings")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare: Any, daemon: DaemonProc, tmp_path: Path) -> None:
    """F1 on the chat screen: its keys, read from the bindings."""

    async def run_before(pilot: Any) -> None:
        await ready(pilot)
        await pilot.press("f1")
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")
        await pilot.pause(0.3)

    assert snap_compare(make_app(daemon, tmp_path), terminal_size=SIZE, run_before=run_before)
