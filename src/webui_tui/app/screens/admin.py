"""The admin screen (admins only): users, groups, your API key, provider connections,
permissions (screens/admin_permissions.py).

Keys act on the tab shown: a add, d delete, r change a user's role, m edit a group's members,
t test a connection, k make a new API key (yours: keys are per user); on Permissions, Enter
switches the highlighted permission.
"""

from typing import Any, ClassVar, cast, get_args

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from webui_daemon.schemas.auths import AddUserForm, Role
from webui_daemon.schemas.groups import GroupForm
from webui_tui.app.screens.admin_permissions import PermissionsTab
from webui_tui.app.screens.dialogs import (
    ChooseManyScreen,
    ConfirmScreen,
    PickScreen,
    PromptScreen,
)
from webui_tui.app.widgets.keys_footer import KeysFooter
from webui_tui.app.widgets.notice import Problem, Reconnected
from webui_tui.app.workers import ReportsWorkerFailures, work
from webui_tui.client.connections import guess_kind
from webui_tui.client.errors import NotFound, WebUIClientError
from webui_tui.client.tui_extra import TuiClient

ROLES: tuple[str, ...] = get_args(Role)


def key_text(email: str, key: str | None) -> str:
    """The API key tab: whether you have a key, what the keys do, that they are per user."""
    shown = f"{key[:6]}…{key[-4:]}" if key else "none yet"
    action = (
        "k makes a new one (the old one stops working); d deletes it."
        if key
        else ("k makes one (copied to the clipboard).")
    )
    return (
        f"Your API key ({email}): {shown}\n{action}\n\n"
        "API keys are per user: each person has at most one and makes it\n"
        "in their own session (here, or `webui apikey create`).\n"
        "Admins cannot read or reset other users' keys.\n"
        "A key acts with its owner's role and permissions."
    )


class AdminScreen(ReportsWorkerFailures, PermissionsTab):
    CSS_PATH = "admin.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", id="admin.add"),
        Binding("d", "delete", "Delete", id="admin.delete"),
        Binding("r", "role", "Role", id="admin.role"),
        Binding("m", "members", "Members", id="admin.members"),
        Binding("t", "test", "Test", id="admin.test"),
        Binding("k", "new_key", "New key", id="admin.key"),
    ]

    def __init__(self, client: TuiClient) -> None:
        super().__init__()
        self.client = client
        self.is_admin: bool | None = None

    def compose(self) -> ComposeResult:
        yield Static("webui · Admin", id="topbar")
        yield Static("", id="denied")
        with TabbedContent(id="tabs"):
            with TabPane("Users", id="users-tab"):
                yield DataTable(id="users", cursor_type="row")
            with TabPane("Groups", id="groups-tab"):
                yield DataTable(id="groups", cursor_type="row")
            with TabPane("API key", id="key-tab"):
                yield Static("", id="apikey")
            with TabPane("Connections", id="conn-tab"):
                yield DataTable(id="connections", cursor_type="row")
            with TabPane("Permissions", id="perm-tab"):
                yield from self.permission_widgets()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#users", DataTable).add_columns("Name", "Email", "Role")
        self.query_one("#groups", DataTable).add_columns("Group", "Members", "Description")
        self.query_one("#connections", DataTable).add_columns("Kind", "URL", "Key", "On")
        self.setup_permissions()
        self.query_one("#denied").display = False
        self.load()

    def on_reconnected(self, _: Reconnected) -> None:
        self.load()

    def _problem(self, exc: BaseException, doing: str) -> None:
        self.post_message(Problem(exc, doing))

    def _tab(self) -> str:
        return self.query_one(TabbedContent).active or "users-tab"

    def _row_key(self, table_id: str) -> str | None:
        table = self.query_one(f"#{table_id}", DataTable)
        if not table.row_count:
            return None
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(value) if value else None

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        client = self.client
        try:
            me = await client.whoami()
            self.is_admin = me.role == "admin"
            if not self.is_admin:
                denied = self.query_one("#denied", Static)
                denied.update("The admin screen is for admins only.")
                denied.display = True
                self.query_one("#tabs").display = False
                return
            users = await client.all_users()
            groups = await client.list_groups()
            connections = await client.list_connections()
            try:
                key: str | None = (await client.get_api_key()).api_key
            except NotFound:
                key = None
        except WebUIClientError as exc:
            self._problem(exc, "loading the admin screen")
            return
        table = self.query_one("#users", DataTable)
        table.clear()
        for user in users.users:
            table.add_row(user.name, user.email, user.role, key=user.id)
        table = self.query_one("#groups", DataTable)
        table.clear()
        names = {user.id: user.name or user.email for user in users.users}
        for group in groups:
            members = sorted(names.get(i, i) for i in group.user_ids)
            shown_members = f"{len(members)}: {', '.join(members)}" if members else "0"
            table.add_row(group.name, shown_members, group.description, key=group.id)
        table = self.query_one("#connections", DataTable)
        table.clear()
        for conn in connections:
            on = "yes" if conn.enabled else "no"
            table.add_row(conn.kind, conn.url, conn.masked_key, on, key=conn.url)
        self.query_one("#apikey", Static).update(key_text(me.email, key))
        self.load_permissions()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("add", "delete", "role", "members", "test", "new_key"):
            return bool(self.is_admin)
        return True

    def action_add(self) -> None:
        self._act("add")

    def action_delete(self) -> None:
        self._act("delete")

    def action_role(self) -> None:
        self._act("role")

    def action_members(self) -> None:
        self._act("members")

    def action_test(self) -> None:
        self._act("test")

    def action_new_key(self) -> None:
        self._act("new_key")

    @work(group="admin-action")
    async def _act(self, action: str) -> None:
        tab = self._tab()
        try:
            if tab == "users-tab":
                await self._users(action)
            elif tab == "groups-tab":
                await self._groups(action)
            elif tab == "key-tab":
                await self._key(action)
            elif tab == "conn-tab":
                await self._connections(action)
        except WebUIClientError as exc:
            self._problem(exc, action.replace("_", " "))
        self.load()

    async def _ask(self, question: str, value: str = "", *, password: bool = False) -> str:
        answer = await self.app.push_screen_wait(PromptScreen(question, value, password=password))
        return (answer or "").strip()

    async def _confirm(self, question: str) -> bool:
        answer: bool = await self.app.push_screen_wait(ConfirmScreen(question))
        return answer

    async def _users(self, action: str) -> None:
        user_id = self._row_key("users")
        if action == "add":
            name = await self._ask("Name")
            email = await self._ask("Email") if name else ""
            password = await self._ask("Password", password=True) if email else ""
            if not password:
                return
            chosen = await self.app.push_screen_wait(
                PickScreen("Role", [(r, r) for r in ROLES], "user")
            )
            role: Any = chosen if chosen in ROLES else "user"
            form = AddUserForm(name=name, email=email, password=password, role=role)
            await self.client.add_user(form)
            self.notify(f"Added {email}")
        elif action == "delete" and user_id:
            if await self.app.push_screen_wait(ConfirmScreen("Delete this user?")):
                await self.client.delete_user(user_id)
        elif action == "role" and user_id:
            user = await self.client.get_user(user_id)
            picked = await self.app.push_screen_wait(
                PickScreen(f"Role of {user.email}", [(r, r) for r in ROLES], user.role)
            )
            if picked and picked in ROLES and picked != user.role:
                await self.client.set_role(user_id, cast(Role, picked))
                self.notify(f"{user.email} is now {picked}")

    async def _groups(self, action: str) -> None:
        group_id = self._row_key("groups")
        if action == "add":
            name = await self._ask("Group name")
            if name:
                await self.client.create_group(GroupForm(name=name, description=""))
        elif action == "delete" and group_id and await self._confirm("Delete this group?"):
            await self.client.delete_group(group_id)
        elif action == "members" and group_id:
            await self._members(group_id)

    async def _members(self, group_id: str) -> None:
        """Tick the group's members among all users; only the differences are sent."""
        group = await self.client.get_group(group_id)
        users = (await self.client.all_users()).users
        options = [(u.id, f"{u.name} <{u.email}>") for u in users]
        before = set(group.user_ids)
        chosen = await self.app.push_screen_wait(
            ChooseManyScreen(f"Members of {group.name}", options, before)
        )
        if chosen is None:
            return
        added = [i for i in chosen if i not in before]
        removed = sorted(before - set(chosen))
        if added:
            await self.client.add_group_members(group_id, added)
        if removed:
            await self.client.remove_group_members(group_id, removed)
        self.notify(f"{group.name}: {len(added)} added, {len(removed)} removed")

    async def _key(self, action: str) -> None:
        if action == "new_key":
            key = await self.client.create_api_key()
            self.app.copy_to_clipboard(key.api_key)
            self.notify("New API key copied to the clipboard (OSC 52)")
        elif action == "delete" and await self._confirm("Delete your API key?"):
            await self.client.delete_api_key()

    async def _connections(self, action: str) -> None:
        url = self._row_key("connections")
        if action == "add":
            new = await self._ask("Provider URL (…/v1 for OpenAI-compatible)")
            if new:
                key = await self._ask("API key (empty for none)", password=True)
                await self.client.add_connection(guess_kind(new), new, key)
        elif action == "delete" and url:
            if await self.app.push_screen_wait(ConfirmScreen(f"Remove {url}?")):
                await self.client.remove_connection(url)
        elif action == "test" and url:
            conn = await self.client.find_connection(url)
            if conn is not None:
                await self.client.verify_connection(conn.kind, conn.url, conn.key)
                self.notify(f"{url} answers")
