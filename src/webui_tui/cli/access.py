"""`webui models access`, `webui kb access`, `webui prompts access`: who may use a model, a
knowledge base or a prompt.

Without --user or --group: who has access now. With one of them: give it read access (the
default) or write access, or take its grant away (--none). Users are named by id, email or
name, groups by id or name. Admins and the owner always have access; the daemon keeps the grants
in Open WebUI 0.12's form and replaces them whole (`.../access/update`).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from webui_daemon.schemas.models import ModelModel
from webui_tui.cli.lookup import find_group, find_user
from webui_tui.cli.output import JsonFlag, note, print_json, print_table, say, stdout_is_tty
from webui_tui.cli.runtime import UsageProblem, call
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import NotFound, RequestFailed
from webui_tui.client.permissions import Grant, grants_of

if TYPE_CHECKING:
    from webui_daemon.schemas.prompts import Prompt

Kind = Literal["user", "group"]
Level = Literal["read", "write", "none"]

UserOpt = Annotated[
    str | None,
    typer.Option("--user", "-u", help="A user (id, email or name).", show_default=False),
]
GroupOpt = Annotated[
    str | None, typer.Option("--group", "-g", help="A group (id or name).", show_default=False)
]
ReadFlag = Annotated[bool, typer.Option("--read", help="Read access (the default).")]
WriteFlag = Annotated[bool, typer.Option("--write", help="Write access (and read).")]
NoneFlag = Annotated[bool, typer.Option("--none", help="Take the grant away.")]


@dataclass(slots=True)
class Change:
    """What the command line asks: a principal (as typed) and the access it should have."""

    kind: Kind
    ref: str
    level: Level


@dataclass(slots=True)
class Principal:
    kind: Kind
    id: str
    label: str


@dataclass(slots=True)
class Report:
    """A resource's grants, with names for people."""

    what: str  # "model", "knowledge base", "prompt" or "note"
    id: str
    name: str
    record: bool = True  # False: a provider model nobody gave a record yet
    owner: str | None = None
    owner_name: str | None = None
    grants: list[Grant] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        key = {"model": "model", "prompt": "prompt_id", "note": "note_id"}.get(
            self.what, "knowledge_id"
        )
        return {
            key: self.id,
            "name": self.name,
            "record": self.record,
            "owner": self.owner,
            "owner_name": self.owner_name,
            "access_grants": self.grants,
            "access": self.rows,
        }


def parse_change(
    user: str | None, group: str | None, read: bool, write: bool, none: bool
) -> Change | None:
    """None: only show. A usage problem for contradicting or incomplete options."""
    if user is not None and group is not None:
        raise UsageProblem("give --user or --group, not both")
    flags: dict[Level, bool] = {"read": read, "write": write, "none": none}
    levels = [level for level, on in flags.items() if on]
    if len(levels) > 1:
        raise UsageProblem("give one of --read, --write and --none")
    if user is None and group is None:
        if levels:
            raise UsageProblem(f"--{levels[0]} needs --user or --group")
        return None
    level: Level = levels[0] if levels else "read"
    if user is not None:
        return Change("user", user, level)
    assert group is not None
    return Change("group", group, level)


def apply(grants: list[Grant], principal: Principal, level: Level) -> list[Grant]:
    """`grants` with the principal's replaced by `level`. Write comes with read: Open WebUI
    0.12 reads a write grant as write only."""
    kept = [
        g
        for g in grants
        if not (g["principal_type"] == principal.kind and g["principal_id"] == principal.id)
    ]
    for permission in {"read": ["read"], "write": ["read", "write"], "none": []}[level]:
        kept.append(
            {
                "principal_type": principal.kind,
                "principal_id": principal.id,
                "permission": permission,
            }
        )
    return kept


def access_of(grants: list[Grant], kind: str, principal_id: str) -> Level:
    held = {
        g["permission"]
        for g in grants
        if g["principal_type"] == kind and g["principal_id"] == principal_id
    }
    return "write" if "write" in held else "read" if "read" in held else "none"


async def resolve(client: WebUIClient, change: Change) -> Principal:
    if change.kind == "user":
        user = await find_user(client, change.ref)
        return Principal("user", user.id, f"{user.name} <{user.email}>")
    group = await find_group(client, change.ref)
    return Principal("group", group.id, f"group {group.name}")


async def _names(
    client: WebUIClient, grants: list[Grant], owner: str | None
) -> dict[tuple[str, str], str]:
    """Names for the principals of `grants` and the owner (ids where the caller may not list
    users or groups)."""
    names: dict[tuple[str, str], str] = {("user", "*"): "everyone"}
    kinds = {g["principal_type"] for g in grants if g["principal_id"] != "*"}
    if owner:
        kinds.add("user")
    try:
        if "user" in kinds:
            for user in (await client.all_users()).users:
                names["user", user.id] = f"{user.name} <{user.email}>"
        if "group" in kinds:
            for group in await client.list_groups():
                names["group", group.id] = group.name
    except RequestFailed:
        pass  # not an admin: ids will do
    return names


async def describe(client: WebUIClient, report: Report) -> Report:
    names = await _names(client, report.grants, report.owner)
    if report.owner:
        report.owner_name = names.get(("user", report.owner), report.owner)
    seen: list[tuple[str, str]] = []
    for grant in report.grants:
        key = (grant["principal_type"], grant["principal_id"])
        if key not in seen:
            seen.append(key)
    report.rows = [
        {
            "type": kind,
            "id": principal_id,
            "name": names.get((kind, principal_id), principal_id),
            "access": access_of(report.grants, kind, principal_id),
        }
        for kind, principal_id in seen
    ]
    return report


def _title(report: Report) -> str:
    if report.what == "model":
        return f"model {report.id}"
    if report.what == "prompt":
        return f"prompt /{report.name}"
    return f"{report.what} {report.name!r}"


def show(report: Report, *, local_trusted: bool = False) -> None:
    if stdout_is_tty():
        title = _title(report)
        title = title[0].upper() + title[1:]
        if report.what != "model":
            title += f" ({report.id})"
        if report.owner_name:
            title += f", owner {report.owner_name}"
        say(title if report.record else f"{title}: no access record")
    if report.rows:
        rows = [[r["id"], r["type"], r["name"], r["access"]] for r in report.rows]
        print_table(["ID", "TYPE", "NAME", "ACCESS"], rows)
    elif not report.record:
        local = " and every local account (trusted local users)" if local_trusted else ""
        say(f"No grants: admins{local} may use it.")
    else:
        say("No grants: only its owner and admins have access.")


def told(report: Report, principal: Principal, level: Level) -> str:
    what = _title(report)
    if level == "none":
        return f"{principal.label} has no grant on {what} now."
    verb = "read" if level == "read" else "read and change"
    return f"{principal.label} can now {verb} {what}."


def conclude(
    report: Report,
    change: Change | None,
    principal: Principal | None,
    json_out: bool,
    *,
    local_trusted: bool = False,
) -> None:
    """The grants as they are (nothing was changed), or what the change did."""
    if change is None or principal is None:
        if json_out:
            print_json(report.to_json())
        else:
            show(report, local_trusted=local_trusted)
        return
    finish(report, principal, change.level, json_out)


def finish(report: Report, principal: Principal, level: Level, json_out: bool) -> None:
    if level == "none" and any(g["principal_id"] == "*" for g in report.grants):
        note("everyone may still read it (a public grant)")
    if json_out:
        print_json(report.to_json())
        return
    say(told(report, principal, level))


# ---- models ---------------------------------------------------------------------------------


async def _record(client: WebUIClient, model_id: str) -> ModelModel | None:
    try:
        return await client.get_model_record(model_id)
    except NotFound:
        return None


def model_access(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="Model id.", show_default=False)],
    user: UserOpt = None,
    group: GroupOpt = None,
    read: ReadFlag = False,
    write: WriteFlag = False,
    none: NoneFlag = False,
    json_out: JsonFlag = False,
) -> None:
    """Who may use a model; with --user or --group, give read (default) or write access, or
    take it away (--none). A provider model gets an access record on its first grant: from then
    on only admins and those granted may use it."""
    change = parse_change(user, group, read, write, none)

    async def work(client: WebUIClient) -> tuple[Report, Principal | None, bool]:
        record = await _record(client, model_id)
        name = record.name if record else (await client.get_model(model_id)).display_name
        report = Report("model", model_id, name, record is not None)
        report.owner = record.user_id if record else None
        report.grants = grants_of(record.access_grants) if record else []
        if change is None:
            info = None if record else await client.daemon_info()
            return (
                await describe(client, report),
                None,
                bool(info and info.local_users == "trusted"),
            )
        principal = await resolve(client, change)
        wanted = apply(report.grants, principal, change.level)
        if record is None and not wanted:
            return await describe(client, report), principal, False
        updated = await client.update_model_access(model_id, wanted, name=name)
        report.record, report.owner = True, updated.user_id
        report.grants = grants_of(updated.access_grants)
        if record is None:
            note(f"{model_id} had no access record: now only admins and those granted may use it")
        return await describe(client, report), principal, False

    report, principal, local_trusted = call(ctx, work)
    conclude(report, change, principal, json_out, local_trusted=local_trusted)


# ---- knowledge bases and prompts: records with an owner -------------------------------------

# What a record's access command needs: its report (with the current grants), and how to store
# new grants (answering the grants stored).
Load = Callable[[WebUIClient], Awaitable[Report]]
Store = Callable[[WebUIClient, Report, list[Grant]], Awaitable[list[Grant]]]


def owned_access(
    ctx: typer.Context, change: Change | None, load: Load, store: Store, json_out: bool
) -> None:
    """Show a record's grants, or change one principal's and show the outcome."""

    async def work(client: WebUIClient) -> tuple[Report, Principal | None]:
        report = await load(client)
        if change is None:
            return await describe(client, report), None
        principal = await resolve(client, change)
        report.grants = await store(client, report, apply(report.grants, principal, change.level))
        return await describe(client, report), principal

    report, principal = call(ctx, work)
    conclude(report, change, principal, json_out)


def kb_access(
    ctx: typer.Context,
    kb_ref: Annotated[str, typer.Argument(help="Knowledge base name (or id).", show_default=False)],
    user: UserOpt = None,
    group: GroupOpt = None,
    read: ReadFlag = False,
    write: WriteFlag = False,
    none: NoneFlag = False,
    json_out: JsonFlag = False,
) -> None:
    """Who may use a knowledge base; with --user or --group, give read (default) or write
    access, or take it away (--none). Its owner and admins always have access."""
    from webui_tui.cli.kb import find_knowledge

    async def load(client: WebUIClient) -> Report:
        kb = await find_knowledge(client, kb_ref)
        report = Report("knowledge base", kb.id, kb.name, owner=kb.user_id)
        report.grants = grants_of(kb.access_grants)
        return report

    async def store(client: WebUIClient, report: Report, grants: list[Grant]) -> list[Grant]:
        return grants_of((await client.update_knowledge_access(report.id, grants)).access_grants)

    owned_access(ctx, parse_change(user, group, read, write, none), load, store, json_out)


def prompt_access(
    ctx: typer.Context,
    command: Annotated[str, typer.Argument(help="The prompt's command.", show_default=False)],
    user: UserOpt = None,
    group: GroupOpt = None,
    read: ReadFlag = False,
    write: WriteFlag = False,
    none: NoneFlag = False,
    json_out: JsonFlag = False,
) -> None:
    """Who may use a prompt; with --user or --group, give read (default) or write access, or
    take it away (--none). Its owner and admins always have access."""
    found: list[Prompt] = []

    async def load(client: WebUIClient) -> Report:
        prompt = await client.find_prompt(command)
        found.append(prompt)
        report = Report("prompt", prompt.id or "", prompt.command, owner=prompt.user_id)
        report.grants = grants_of(prompt.access_grants)
        return report

    async def store(client: WebUIClient, report: Report, grants: list[Grant]) -> list[Grant]:
        return grants_of((await client.update_prompt_access(found[-1], grants)).access_grants)

    owned_access(ctx, parse_change(user, group, read, write, none), load, store, json_out)


def note_access(
    ctx: typer.Context,
    note_ref: Annotated[
        str, typer.Argument(help="The note: its id, 4+ characters of it, or its title.")
    ],
    user: UserOpt = None,
    group: GroupOpt = None,
    read: ReadFlag = False,
    write: WriteFlag = False,
    none: NoneFlag = False,
    json_out: JsonFlag = False,
) -> None:
    """Who may read a note; with --user or --group, give read (default) or write access, or
    take it away (--none). Its owner and admins always have access."""
    from webui_tui.cli.ids import find_note_id

    async def load(client: WebUIClient) -> Report:
        note = await client.get_note(await find_note_id(client, note_ref))
        report = Report("note", note.id, note.title, owner=note.user_id)
        report.grants = grants_of(note.access_grants)
        return report

    async def store(client: WebUIClient, report: Report, grants: list[Grant]) -> list[Grant]:
        return grants_of((await client.update_note_access(report.id, grants)).access_grants)

    owned_access(ctx, parse_change(user, group, read, write, none), load, store, json_out)
