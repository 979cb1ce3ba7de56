"""`webui groups list|create|add-member|remove-member|rm`: groups of users (admins only)."""

from typing import Annotated

import typer

from webui_daemon.schemas.groups import GroupForm, GroupResponse
from webui_tui.cli.lookup import find_group, find_user
from webui_tui.cli.output import JsonFlag, print_json, print_table, say
from webui_tui.cli.runtime import call, confirm_or_yes
from webui_tui.client.api import WebUIClient

app = typer.Typer(help="List, create and change groups (admins only).", no_args_is_help=True)

GroupArg = Annotated[str, typer.Argument(help="Group id or name.", show_default=False)]
UsersArg = Annotated[
    list[str], typer.Argument(help="User ids, emails or names.", show_default=False)
]


@app.command("list")
def list_groups(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """List groups: id, name, members, description."""
    groups = call(ctx, lambda client: client.list_groups())
    if json_out:
        print_json(groups)
        return
    rows = [[g.id, g.name, str(g.member_count), g.description] for g in groups]
    print_table(["ID", "NAME", "MEMBERS", "DESCRIPTION"], rows)


@app.command("create")
def create_group(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Group name.", show_default=False)],
    description: Annotated[str, typer.Option("--description", "-d", help="What it is for.")] = "",
    json_out: JsonFlag = False,
) -> None:
    """Create a group."""
    form = GroupForm(name=name, description=description)
    group = call(ctx, lambda client: client.create_group(form))
    if json_out:
        print_json(group)
        return
    say(f"Created group {group.name} (id {group.id}).")


def _change_members(ctx: typer.Context, group: str, users: list[str], add: bool) -> GroupResponse:
    async def work(client: WebUIClient) -> GroupResponse:
        found = await find_group(client, group)
        ids = [(await find_user(client, ref)).id for ref in users]
        if add:
            return await client.add_group_members(found.id, ids)
        return await client.remove_group_members(found.id, ids)

    return call(ctx, work)


@app.command("add-member")
def add_member(
    ctx: typer.Context, group: GroupArg, users: UsersArg, json_out: JsonFlag = False
) -> None:
    """Add users to a group."""
    changed = _change_members(ctx, group, users, add=True)
    if json_out:
        print_json(changed)
        return
    say(f"Group {changed.name} has {changed.member_count} member(s).")


@app.command("remove-member")
def remove_member(
    ctx: typer.Context, group: GroupArg, users: UsersArg, json_out: JsonFlag = False
) -> None:
    """Remove users from a group."""
    changed = _change_members(ctx, group, users, add=False)
    if json_out:
        print_json(changed)
        return
    say(f"Group {changed.name} has {changed.member_count} member(s).")


@app.command("rm")
def remove_group(
    ctx: typer.Context,
    group: GroupArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Delete a group (its members keep their accounts)."""
    # Found first: a group that is not there is said so before anything is asked.
    deleted = call(ctx, lambda client: find_group(client, group))
    confirm_or_yes(yes, f"Delete group {deleted.name}?")
    call(ctx, lambda client: client.delete_group(deleted.id))
    if json_out:
        print_json({"id": deleted.id, "deleted": True})
        return
    say(f"Deleted group {deleted.name}.")
