"""Find users and groups by what people type: an id, an email, a group name."""

from webui_daemon.schemas.groups import GroupResponse
from webui_daemon.schemas.users import UserModel
from webui_tui.cli.runtime import UsageProblem
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import NotFound


async def find_user(client: WebUIClient, ref: str) -> UserModel:
    """`ref` is an email (contains @) or a user id."""
    if "@" not in ref:
        return await client.get_user(ref)
    wanted = ref.casefold()
    # Narrow by the server's search first; fall back to the full list if it matched nothing.
    for query in (ref, None):
        listing = await client.all_users(query)
        for user in listing.users:
            if user.email.casefold() == wanted:
                return user
    raise NotFound(404, f"no user with email {ref}", "GET", "/api/v1/users/")


async def find_group(client: WebUIClient, ref: str) -> GroupResponse:
    """`ref` is a group id or its exact name."""
    groups = await client.list_groups()
    for group in groups:
        if group.id == ref:
            return group
    named = [group for group in groups if group.name.casefold() == ref.casefold()]
    if len(named) > 1:
        raise UsageProblem(f"several groups are named {ref!r}; use the group id")
    if not named:
        raise NotFound(404, f"no group named {ref!r}", "GET", "/api/v1/groups/")
    return named[0]
