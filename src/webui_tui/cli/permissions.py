"""`webui permissions show|set`: what users may do, by Open WebUI's permission keys
(`workspace.knowledge`, `sharing.public_models`, `chat.file_upload`, ...), for everyone (the
defaults) or for one group (admins only).

A permission holds for a user when the default or any of their groups allows it: a group adds
permissions, it never takes one away.
"""

import copy
from typing import Annotated

import typer

from webui_daemon.schemas.groups import GroupResponse, GroupUpdateForm
from webui_tui.cli.lookup import find_group
from webui_tui.cli.output import JsonFlag, note, print_json, print_table, say, stdout_is_tty
from webui_tui.cli.runtime import UsageProblem, call
from webui_tui.client.api import WebUIClient
from webui_tui.client.permissions import Tree, group_tree

app = typer.Typer(
    help="Show and set what users may do: the defaults, or a group's (admins only).",
    no_args_is_help=True,
)

GroupOpt = Annotated[
    str | None,
    typer.Option(
        "--group", "-g", help="A group (id or name) instead of the defaults.", show_default=False
    ),
]
_TRUE = {"true", "on", "yes", "1"}
_FALSE = {"false", "off", "no", "0"}


def split_key(tree: Tree, key: str) -> tuple[str, str]:
    """`section.name`, checked against the server's tree (its keys are the valid ones)."""
    section, dot, name = key.strip().partition(".")
    if not dot or section not in tree:
        sections = ", ".join(tree)
        raise UsageProblem(
            f"unknown permission {key!r}: a key is SECTION.NAME, sections are {sections}"
        )
    if name not in tree[section]:
        names = ", ".join(f"{section}.{n}" for n in tree[section])
        raise UsageProblem(f"unknown permission {key!r}: the keys of {section} are {names}")
    return section, name


def parse_value(value: str) -> bool:
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise UsageProblem(f"a permission is true or false, not {value!r}")


def _yes(value: bool) -> str:
    return "yes" if value else "no"


@app.command("show")
def show(ctx: typer.Context, group: GroupOpt = None, json_out: JsonFlag = False) -> None:
    """Show the permission tree: the defaults (everyone), or a group's beside them."""

    async def work(client: WebUIClient) -> tuple[Tree, GroupResponse | None]:
        defaults = await client.default_permissions()
        return defaults, (await find_group(client, group) if group is not None else None)

    defaults, found = call(ctx, work)
    if found is None:
        if json_out:
            print_json(defaults)
            return
        rows = [[f"{s}.{k}", _yes(v)] for s, values in defaults.items() for k, v in values.items()]
        print_table(["PERMISSION", "ALLOWED"], rows)
        return
    tree = group_tree(defaults, found.permissions)
    if json_out:
        print_json(tree)
        return
    if stdout_is_tty():
        say(f"Group {found.name}: a user may do what the default or any of their groups allows.")
    rows = [
        [f"{s}.{k}", _yes(v), _yes(defaults.get(s, {}).get(k, False))]
        for s, values in tree.items()
        for k, v in values.items()
    ]
    print_table(["PERMISSION", "GROUP", "DEFAULT"], rows)


@app.command("set")
def set_permission(
    ctx: typer.Context,
    key: Annotated[
        str, typer.Argument(help="SECTION.NAME, e.g. workspace.knowledge.", show_default=False)
    ],
    value: Annotated[str, typer.Argument(help="true or false.", show_default=False)],
    group: GroupOpt = None,
    json_out: JsonFlag = False,
) -> None:
    """Allow (true) or refuse (false) something for everyone, or for one group's members."""
    allowed = parse_value(value)

    async def work(client: WebUIClient) -> tuple[Tree, GroupResponse | None, bool]:
        defaults = await client.default_permissions()
        section, name = split_key(defaults, key)
        by_default = defaults[section][name]
        if group is None:
            tree = copy.deepcopy(defaults)
            tree[section][name] = allowed
            # The whole tree: keys left out would go back to their built-in values.
            return await client.set_default_permissions(tree), None, by_default
        found = await find_group(client, group)
        stored = copy.deepcopy(found.permissions or {})
        stored.setdefault(section, {})[name] = allowed
        # Name and description too: Open WebUI 0.12 wants them on every update.
        form = GroupUpdateForm(name=found.name, description=found.description, permissions=stored)
        updated = await client.update_group(found.id, form)
        return group_tree(defaults, updated.permissions), updated, by_default

    tree, updated, by_default = call(ctx, work)
    section, name = key.strip().split(".", 1)
    if updated is not None and by_default and not allowed:
        note(
            f"the default allows {section}.{name}, so every user keeps it (a group adds "
            f"permissions, it cannot take one away): `webui permissions set {section}.{name} "
            "false` changes the default"
        )
    if json_out:
        print_json(tree)
        return
    state = "on" if tree.get(section, {}).get(name) else "off"
    whom = "for everyone (the default)" if updated is None else f"for group {updated.name}"
    say(f"{section}.{name} is {state} {whom}.")
