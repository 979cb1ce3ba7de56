"""Knowledge, admin and settings screens, and the error notice + reconnect, driven with Pilot."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc, start_daemon
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui_support import MODEL, OTHER_MODEL, Recording, make_app, until
from webui_tui.app.screens.dialogs import ChooseManyScreen, PickScreen, PromptScreen
from webui_tui.app.screens.knowledge import KnowledgeScreen


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, OTHER_MODEL], reply="Hi.")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: model_env(provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false")),
    tmp="tui-screens",
)


def get(daemon: DaemonProc, path: str) -> Any:
    with daemon.unix_client(timeout=10) as c:
        r = c.get(path)
        assert r.status_code == 200, r.text
        return r.json()


async def test_knowledge_create_add_search_remove(daemon: DaemonProc, tmp_path: Path) -> None:
    doc = tmp_path / "quokka.md"
    doc.write_text("# Quokkas\n\nQuokkas are small marsupials living on Rottnest Island.\n")
    app = make_app(daemon, tmp_path, mode="knowledge")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, KnowledgeScreen)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*"Animals", "enter")
        await until(pilot, lambda: screen.kb is not None and screen.kb.name == "Animals")
        assert screen.kb is not None
        kb_id = screen.kb.id
        await pilot.press("ctrl+u")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*str(tmp_path / "*.md"), "enter")
        await until(
            pilot,
            lambda: screen.kb is not None and [f.status for f in screen.kb.files] == ["completed"],
            timeout=60,
            what="the file processed and added",
        )
        files = get(daemon, f"/api/v1/knowledge/{kb_id}")["files"]
        assert [f["filename"] for f in files] == ["quokka.md"]
        screen.query_one("#kb-search").focus()
        await pilot.press(*"Rottnest", "enter")
        results = screen.query_one("#results")
        await until(pilot, lambda: results.row_count > 0, what="search results")  # type: ignore[attr-defined]
        row = results.get_row_at(0)  # type: ignore[attr-defined]
        assert row[1] == "quokka.md" and float(row[0]) > 0
        screen.query_one("#files").focus()
        await pilot.press("ctrl+d")
        await pilot.pause(0.2)
        await pilot.press("y")
        await until(pilot, lambda: not get(daemon, f"/api/v1/knowledge/{kb_id}")["files"])


async def test_admin_changes_a_role(daemon: DaemonProc, tmp_path: Path) -> None:
    with daemon.unix_client(timeout=10) as c:
        form = {"name": "Bob", "email": "bob@example.com", "password": "pw-123456", "role": "user"}
        bob = c.post("/api/v1/auths/add", json=form).json()
    app = make_app(daemon, tmp_path, mode="admin")
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.screen.query_one("#users")
        await until(pilot, lambda: table.row_count >= 2)  # type: ignore[attr-defined]
        keys = [row.key.value for row in table.ordered_rows]  # type: ignore[attr-defined]
        table.move_cursor(row=keys.index(bob["id"]))  # type: ignore[attr-defined]
        table.focus()
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        picker = app.screen.query_one("OptionList")
        picker.highlighted = 0  # type: ignore[attr-defined]  # "admin"
        await pilot.press("enter")
        await until(pilot, lambda: get(daemon, f"/api/v1/users/{bob['id']}")["role"] == "admin")


async def test_admin_edits_group_members(daemon: DaemonProc, tmp_path: Path) -> None:
    with daemon.unix_client(timeout=10) as c:
        form = {"name": "Cy", "email": "cy@example.com", "password": "pw-123456", "role": "user"}
        cy = c.post("/api/v1/auths/add", json=form).json()
        group = c.post("/api/v1/groups/create", json={"name": "Ops", "description": ""}).json()
        me = c.get("/api/v1/auths/").json()
        c.post(f"/api/v1/groups/id/{group['id']}/users/add", json={"user_ids": [me["id"]]})
    members = f"/api/v1/groups/id/{group['id']}"
    app = make_app(daemon, tmp_path, mode="admin")
    async with app.run_test(size=(80, 24)) as pilot:
        screen: Any = app.screen
        table = screen.query_one("#groups")
        await until(pilot, lambda: table.row_count >= 1)
        screen.query_one("#tabs").active = "groups-tab"
        await pilot.pause()
        keys = [row.key.value for row in table.ordered_rows]
        table.move_cursor(row=keys.index(group["id"]))
        table.focus()
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ChooseManyScreen))
        ticks = app.screen.query_one("SelectionList")
        assert list(ticks.selected) == [me["id"]]
        ticks.deselect(me["id"])
        ticks.select(cy["id"])
        await pilot.press("enter")
        await until(pilot, lambda: get(daemon, members)["user_ids"] == [cy["id"]])
        await until(pilot, lambda: "1: Cy" in str(table.get_row(group["id"])[1]))


async def test_admin_api_key_is_per_user(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path, mode="admin")
    async with app.run_test(size=(80, 24)) as pilot:
        screen: Any = app.screen
        text = screen.query_one("#apikey")
        await until(pilot, lambda: "per user" in str(text.render()))
        screen.query_one("#tabs").active = "key-tab"
        await pilot.pause()
        await pilot.press("k")
        await until(pilot, lambda: "none yet" not in str(text.render()), what="the new key")
        key = get(daemon, "/api/v1/auths/api_key")["api_key"]
        assert f"{key[:6]}…{key[-4:]}" in str(text.render())


async def test_settings_default_model(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path, mode="settings")
    async with app.run_test(size=(100, 30)) as pilot:
        screen: Any = app.screen
        await until(pilot, lambda: not screen._loading)
        screen.query_one("#default-model").value = OTHER_MODEL
        settings = "/api/v1/users/user/settings"
        await until(pilot, lambda: (get(daemon, settings).get("ui") or {}).get("models"))
        assert get(daemon, settings)["ui"]["models"] == [OTHER_MODEL]
        screen.query_one("#theme").value = "textual-light"
        toml = tmp_path / "tui.toml"
        await until(pilot, lambda: toml.exists() and "textual-light" in toml.read_text())
        assert app.theme == "textual-light"


async def test_daemon_gone_then_back(standin: StandIn, tmp_path: Path) -> None:
    env = provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false")
    (tmp_path / "d").mkdir()
    daemon = start_daemon(tmp_path / "d", env=env)
    app = make_app(daemon, tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen: Any = app.screen
            await until(pilot, lambda: screen.model)
            daemon.stop()
            await pilot.press(*"hello", "enter")
            await until(
                pilot,
                lambda: any("Daemon gone" in n.title for n in app._notifications),
                what="the daemon-gone notice",
            )
            daemon = start_daemon(tmp_path / "d", env=env)
            await until(
                pilot,
                lambda: any("Reconnected" in n.message for n in app._notifications),
                what="reconnected",
            )
    finally:
        daemon.stop()


class BrokenOnce(Recording):
    """The daemon's socket, except that the first knowledge listing fails with an error the
    client does not know (as a bug would): not a WebUIClientError."""

    def __init__(self, daemon: DaemonProc) -> None:
        super().__init__(daemon)
        self.broke = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/knowledge/" and not self.broke:
            self.broke = True
            raise RuntimeError("boom in the knowledge list")
        return await super().handle_async_request(request)


async def test_unexpected_worker_error_is_one_notice_and_the_app_lives(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    transport = BrokenOnce(daemon)
    app = make_app(daemon, tmp_path, mode="knowledge", transport=transport)
    async with app.run_test(size=(100, 30)) as pilot:
        notice = await until(
            pilot,
            lambda: [n for n in app._notifications if "boom" in n.message],
            what="the problem notice",
        )
        assert notice[0].title == "Problem"
        assert "\n" not in notice[0].message and "Traceback" not in notice[0].message
        assert app.is_running and app._exit_renderables == []
        # The app keeps working: another screen loads from the daemon.
        await pilot.press("f2")
        await until(pilot, lambda: getattr(app.screen, "model", None), what="the chat model")
    assert app.return_code in (0, None)
