"""The admin screen's Permissions tab: the default permission tree with toggles, and a group's.

The selector above the table picks whose permissions are shown: everyone's (the defaults) or one
group's. Enter (or a click) on a row switches that permission there. A user may do what the
default or any of their groups allows, so for a group the table shows the default beside it: a
group's "off" never takes a default "on" away.
"""

import copy
from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Select, Static

from webui_daemon.schemas.groups import GroupResponse, GroupUpdateForm
from webui_tui.app.widgets.notice import Problem
from webui_tui.app.workers import work
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.permissions import Tree, group_tree
from webui_tui.client.tui_extra import TuiClient

EVERYONE = "*"
HINT = (
    "Enter switches the highlighted permission. A user may do what the default "
    "or any of their groups allows."
)


def _mark(value: bool) -> str:
    return "on" if value else "off"


class PermissionsTab(Screen[None]):
    """Mixed into AdminScreen (the screen starts the workers): compose with
    `permission_widgets`, call `setup_permissions` on mount and `load_permissions` to fill."""

    client: TuiClient

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.permission_defaults: Tree = {}
        self.permission_groups: dict[str, GroupResponse] = {}
        self.permission_scope = EVERYONE

    def permission_widgets(self) -> ComposeResult:
        yield Select[str](
            [("Everyone (defaults)", EVERYONE)],
            id="perm-scope",
            allow_blank=False,
            value=EVERYONE,
        )
        yield Static(HINT, id="perm-hint")
        yield DataTable(id="permissions", cursor_type="row")

    def setup_permissions(self) -> None:
        self._columns()

    def _columns(self) -> None:
        table = self.query_one("#permissions", DataTable)
        table.clear(columns=True)
        if self.permission_scope == EVERYONE:
            table.add_columns("Permission", "Everyone")
        else:
            table.add_columns("Permission", "Group", "Default")

    @work(exclusive=True, group="permissions")
    async def load_permissions(self) -> None:
        try:
            defaults = await self.client.default_permissions()
            groups = await self.client.list_groups()
        except WebUIClientError as exc:
            self.post_message(Problem(exc, "loading permissions"))
            return
        self.permission_defaults = defaults
        self.permission_groups = {g.id: g for g in groups}
        if self.permission_scope not in self.permission_groups:
            self.permission_scope = EVERYONE
        select = self.query_one("#perm-scope", Select)
        options = [("Everyone (defaults)", EVERYONE)]
        options += [(f"Group {g.name}", g.id) for g in groups]
        scope = self.permission_scope
        select.set_options(options)  # picks the first option: the one shown is set again
        select.value = scope
        self.show_permissions()

    def show_permissions(self) -> None:
        """The table for the scope chosen, from what was loaded (the cursor stays put)."""
        table = self.query_one("#permissions", DataTable)
        row = table.cursor_row
        self._columns()
        defaults = self.permission_defaults
        group = self.permission_groups.get(self.permission_scope)
        tree = defaults if group is None else group_tree(defaults, group.permissions)
        for section, values in tree.items():
            for name, value in values.items():
                key = f"{section}.{name}"
                if group is None:
                    table.add_row(key, _mark(value), key=key)
                else:
                    default = defaults.get(section, {}).get(name, False)
                    table.add_row(key, _mark(value), _mark(default), key=key)
        if table.row_count:
            table.move_cursor(row=min(max(row, 0), table.row_count - 1))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "perm-scope" or not isinstance(event.value, str):
            return
        if event.value != self.permission_scope:
            self.permission_scope = event.value
            self.show_permissions()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "permissions" and event.row_key.value:
            self.toggle_permission(str(event.row_key.value))

    @work(group="permissions-toggle")
    async def toggle_permission(self, key: str) -> None:
        section, _, name = key.partition(".")
        scope = self.permission_scope
        try:
            if scope == EVERYONE:
                # Fresh from the daemon (someone may have changed another key), sent whole.
                tree = copy.deepcopy(await self.client.default_permissions())
                tree.setdefault(section, {})[name] = not tree.get(section, {}).get(name, False)
                self.permission_defaults = await self.client.set_default_permissions(tree)
                now, whom = self.permission_defaults[section][name], "everyone"
            else:
                group = await self.client.get_group(scope)
                stored = copy.deepcopy(group.permissions or {})
                values = stored.setdefault(section, {})
                values[name] = not values.get(name, False)
                form = GroupUpdateForm(
                    name=group.name, description=group.description, permissions=stored
                )
                updated = await self.client.update_group(scope, form)
                self.permission_groups[scope] = updated
                now = bool((updated.permissions or {}).get(section, {}).get(name))
                whom = f"group {updated.name}"
        except WebUIClientError as exc:
            self.post_message(Problem(exc, f"changing {key}"))
            return
        self.show_permissions()
        self.notify(f"{key}: {_mark(now)} for {whom}")
