"""`webui users list|add|set-role|rm`: user administration (admins only)."""

from enum import StrEnum
from typing import Annotated

import typer

from webui_daemon.schemas.auths import AddUserForm
from webui_daemon.schemas.users import UserWithGroups
from webui_tui.cli.lookup import find_user
from webui_tui.cli.output import JsonFlag, print_json, print_table, say, when
from webui_tui.cli.runtime import call, confirm_or_yes, read_secret
from webui_tui.client.api import WebUIClient

app = typer.Typer(help="List, add, change and remove users (admins only).", no_args_is_help=True)


class RoleName(StrEnum):
    admin = "admin"
    user = "user"
    pending = "pending"


UserArg = Annotated[str, typer.Argument(help="User id, email or name.", show_default=False)]


@app.command("list")
def list_users(
    ctx: typer.Context,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="Only names or emails matching this.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """List users: id, name, email, role, groups, last active."""
    listing = call(ctx, lambda client: client.all_users(query))
    if json_out:
        print_json(listing)
        return
    print_table(["ID", "NAME", "EMAIL", "ROLE", "GROUPS", "LAST ACTIVE"], _rows(listing.users))


def _rows(users: list[UserWithGroups]) -> list[list[str]]:
    return [
        [u.id, u.name, u.email, u.role, str(len(u.group_ids)), when(u.last_active_at)]
        for u in users
    ]


@app.command("add")
def add_user(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Display name.", show_default=False)],
    email: Annotated[str, typer.Argument(help="Sign-in email.", show_default=False)],
    role: Annotated[RoleName, typer.Option(help="Role of the new user.")] = RoleName.user,
    json_out: JsonFlag = False,
) -> None:
    """Add a user with a password (prompted, or read from stdin)."""
    password = read_secret("Password", confirm=True)
    form = AddUserForm(name=name, email=email, password=password, role=role.value)
    added = call(ctx, lambda client: client.add_user(form))
    if json_out:
        print_json(added.model_dump(mode="json", exclude={"token", "token_type"}))
        return
    say(f"Added {added.name} <{added.email}> as {added.role} (id {added.id}).")


@app.command("set-role")
def set_role(
    ctx: typer.Context,
    user: UserArg,
    role: Annotated[RoleName, typer.Argument(help="New role.", show_default=False)],
    json_out: JsonFlag = False,
) -> None:
    """Change a user's role (admin, user or pending)."""

    async def work(client: WebUIClient) -> str:
        found = await find_user(client, user)
        await client.set_role(found.id, role.value)
        return found.id

    user_id = call(ctx, work)
    if json_out:
        print_json({"id": user_id, "role": role.value})
        return
    say(f"{user} is now {role.value}.")


@app.command("rm")
def remove_user(
    ctx: typer.Context,
    user: UserArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Delete a user and everything they own."""
    confirm_or_yes(yes, f"Delete user {user} and all their data?")

    async def work(client: WebUIClient) -> str:
        found = await find_user(client, user)
        await client.delete_user(found.id)
        return found.id

    user_id = call(ctx, work)
    if json_out:
        print_json({"id": user_id, "deleted": True})
        return
    say(f"Deleted user {user}.")
