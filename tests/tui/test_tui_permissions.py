"""The admin screen's Permissions tab, driven with Pilot against a real daemon: the default tree
with toggles, and a group's permissions beside the defaults."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.tui_support import MODEL, make_app, until


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply="Hi.")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false"),
    tmp="tui-perms",
)


def get(daemon: DaemonProc, path: str) -> Any:
    with daemon.unix_client(timeout=10) as c:
        r = c.get(path)
        assert r.status_code == 200, r.text
        return r.json()


def cell(table: Any, key: str, column: int = 1) -> str:
    return str(table.get_row(key)[column])


async def test_toggle_a_default_then_a_groups_permission(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    with daemon.unix_client(timeout=10) as c:
        group = c.post("/api/v1/groups/create", json={"name": "gpu", "description": ""}).json()
    defaults = "/api/v1/users/default/permissions"
    app = make_app(daemon, tmp_path, mode="admin")
    async with app.run_test(size=(100, 40)) as pilot:
        screen: Any = app.screen
        table = screen.query_one("#permissions")
        await until(pilot, lambda: table.row_count > 20, what="the default tree")
        screen.query_one("#tabs").active = "perm-tab"
        await pilot.pause()
        assert cell(table, "workspace.knowledge") == "off"
        assert cell(table, "chat.file_upload") == "on"

        # Enter on a row switches the default, for everyone.
        keys = [row.key.value for row in table.ordered_rows]
        table.move_cursor(row=keys.index("workspace.knowledge"))
        table.focus()
        await pilot.press("enter")
        await until(pilot, lambda: get(daemon, defaults)["workspace"]["knowledge"] is True)
        await until(pilot, lambda: cell(table, "workspace.knowledge") == "on")
        assert get(daemon, defaults)["chat"]["file_upload"] is True  # the rest kept

        # A group: its own value beside the default; Enter switches the group's.
        scope = screen.query_one("#perm-scope")
        await until(pilot, lambda: ("Group gpu", group["id"]) in scope._options)
        scope.value = group["id"]
        await until(pilot, lambda: len(table.columns) == 3)
        assert cell(table, "workspace.models") == "off"
        assert (cell(table, "workspace.knowledge"), cell(table, "workspace.knowledge", 2)) == (
            "off",
            "on",
        )
        keys = [row.key.value for row in table.ordered_rows]
        table.move_cursor(row=keys.index("workspace.models"))
        table.focus()
        await pilot.press("enter")
        stored = f"/api/v1/groups/id/{group['id']}"
        await until(
            pilot, lambda: get(daemon, stored)["permissions"] == {"workspace": {"models": True}}
        )
        await until(pilot, lambda: cell(table, "workspace.models") == "on")
        assert get(daemon, defaults)["workspace"]["models"] is False  # the default untouched

        # Back to everyone: two columns, the defaults again.
        scope.value = "*"
        await until(pilot, lambda: len(table.columns) == 2)
        assert cell(table, "workspace.models") == "off"
        assert cell(table, "workspace.knowledge") == "on"
