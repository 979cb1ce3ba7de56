"""Find users and groups by what people type: an id, an email, a user or group name."""

from webui_daemon.schemas.groups import GroupResponse
from webui_daemon.schemas.users import UserModel
from webui_tui.cli.runtime import UsageProblem
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import AuthFailed, NotFound, RequestFailed


async def find_user(client: WebUIClient, ref: str) -> UserModel:
    """`ref` is an email (contains @), a user id, or a user's exact name (case does not
    matter; local accounts are named after their login)."""
    if "@" not in ref:
        try:
            return await client.get_user(ref)
        except AuthFailed:
            raise
        except RequestFailed as exc:
            # Open WebUI answers 400 for an unknown id (404 on some routes): maybe a name.
            if exc.status not in (400, 404):
                raise
        return await _by_name(client, ref)
    wanted = ref.casefold()
    # Narrow by the server's search first; fall back to the full list if it matched nothing.
    for query in (ref, None):
        listing = await client.all_users(query)
        for user in listing.users:
            if user.email.casefold() == wanted:
                return user
    raise NotFound(404, f"no user with email {ref}", "GET", "/api/v1/users/")


async def _by_name(client: WebUIClient, ref: str) -> UserModel:
    wanted = ref.strip().casefold()
    for query in (ref.strip(), None):
        named = [u for u in (await client.all_users(query)).users if u.name.casefold() == wanted]
        if len(named) > 1:
            emails = ", ".join(u.email for u in named)
            raise UsageProblem(f"several users are named {ref!r} ({emails}); use an email")
        if named:
            return named[0]
    raise NotFound(404, f"no user with id, email or name {ref!r}", "GET", "/api/v1/users/")


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
