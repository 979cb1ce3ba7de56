"""WebUIClient: typed async calls to a webui daemon or an Open WebUI server.

The plumbing is `base.BaseClient`; chats, folders and tags, models (and their administration),
completions, connections, knowledge, memories and permissions (with access grants) come from
the mixins of their modules. System, auth, users and groups are here.
"""

from pydantic import TypeAdapter

from webui_daemon.schemas.auths import (
    AddUserForm,
    AddUserResponse,
    ApiKey,
    Role,
    SessionUserResponse,
    SigninForm,
    SignoutResponse,
)
from webui_daemon.schemas.groups import (
    GroupForm,
    GroupResponse,
    GroupUpdateForm,
    UserIdsForm,
)
from webui_daemon.schemas.system import (
    ConfigResponse,
    StatusResponse,
    VersionResponse,
)
from webui_daemon.schemas.users import UserDetail, UserListResponse, UserModel, UserUpdateForm
from webui_tui.client.base import LATER
from webui_tui.client.chats import ChatsMixin
from webui_tui.client.completions import CompletionsMixin
from webui_tui.client.connections import ConnectionsMixin
from webui_tui.client.errors import Forbidden, RequestFailed
from webui_tui.client.folders import FoldersMixin
from webui_tui.client.knowledge import KnowledgeMixin
from webui_tui.client.memories import MemoriesMixin
from webui_tui.client.model_admin import ModelAdminMixin
from webui_tui.client.models import ModelsMixin
from webui_tui.client.notes import NotesMixin
from webui_tui.client.permissions import PermissionsMixin
from webui_tui.client.prompts import PromptsMixin
from webui_tui.client.tools import ToolsMixin

# Open WebUI 0.12: the caller's own user record; API keys may read it.
USER_STATUS = "/api/v1/users/user/status"

_GROUP_LIST: TypeAdapter[list[GroupResponse]] = TypeAdapter(list[GroupResponse], config=LATER)


class WebUIClient(
    CompletionsMixin,
    ChatsMixin,
    FoldersMixin,
    ModelsMixin,
    ModelAdminMixin,
    ConnectionsMixin,
    KnowledgeMixin,
    MemoriesMixin,
    PermissionsMixin,
    PromptsMixin,
    NotesMixin,
    ToolsMixin,
):
    """One connection pool to one server; use as `async with WebUIClient(target) as client`.

    Every method returns the daemon's wire schema or raises a `client.errors` error.
    """

    # Debugging/compat switch (`WEBUI_CLIENT_TURNS=1`): save turns from the client even on a
    # webui daemon, as against Open WebUI (see `client_turns`).
    client_turns = False

    # --- system ---

    async def health(self) -> bool:
        return (await self._get("/health", StatusResponse)).status

    async def version(self) -> VersionResponse:
        return await self._get("/api/version", VersionResponse)

    async def config(self) -> ConfigResponse:
        return await self._get("/api/config", ConfigResponse)

    async def shutdown_daemon(self) -> bool:
        """Ask a webui daemon to stop as SIGTERM would (`POST /api/webui/shutdown`: admins,
        and the daemon's own OS account); it stops once the answer is sent."""
        return (await self._post("/api/webui/shutdown", StatusResponse)).status

    async def server_turns(self) -> bool:
        """Whether the server streams and saves a chat's turns itself (a webui daemon does,
        Open WebUI does not)."""
        return not self.client_turns and await self.is_webui_daemon()

    # --- auths ---

    async def whoami(self) -> SessionUserResponse:
        """Who the caller is. Open WebUI 0.12 refuses API keys on `/auths/` ("A human session
        is required", 403); the caller's own record at `/users/user/status` is asked then."""
        try:
            return await self._get("/api/v1/auths/", SessionUserResponse)
        except Forbidden:
            if not (self.token or "").startswith("sk-"):
                raise
        me = await self._get(USER_STATUS, UserModel)
        return SessionUserResponse.model_validate(
            {**me.model_dump(exclude_none=True), "token": self.token}
        )

    async def signin(self, email: str, password: str) -> SessionUserResponse:
        """Sign in and use the new session token for the following calls."""
        form = SigninForm(email=email, password=password)
        session = await self._post("/api/v1/auths/signin", SessionUserResponse, form)
        self.token = session.token
        return session

    async def signout(self) -> SignoutResponse:
        try:
            result = await self._post("/api/v1/auths/signout", SignoutResponse)
        except RequestFailed as exc:
            if exc.status != 405:
                raise
            result = await self._get("/api/v1/auths/signout", SignoutResponse)  # Open WebUI 0.6
        self.token = None
        return result

    async def create_api_key(self) -> ApiKey:
        """A new key for the caller; it replaces the previous one (one key per user)."""
        return await self._post("/api/v1/auths/api_key", ApiKey)

    async def get_api_key(self) -> ApiKey:
        return await self._get("/api/v1/auths/api_key", ApiKey)

    async def delete_api_key(self) -> bool:
        return await self._bool("DELETE", "/api/v1/auths/api_key")

    async def add_user(self, form: AddUserForm) -> AddUserResponse:
        return await self._post("/api/v1/auths/add", AddUserResponse, form)

    # --- users ---

    async def list_users(self, query: str | None = None, page: int = 1) -> UserListResponse:
        params: dict[str, str | int | bool] = {"page": page}
        if query:
            params["query"] = query
        return await self._get("/api/v1/users/", UserListResponse, **params)

    async def all_users(self, query: str | None = None) -> UserListResponse:
        """Every page of the user list (30 a page on Open WebUI)."""
        first = await self.list_users(query)
        users = list(first.users)
        page = 1
        while first.users and len(users) < first.total:
            page += 1
            more = await self.list_users(query, page)
            if not more.users:
                break
            users.extend(more.users)
        return UserListResponse(users=users, total=max(first.total, len(users)))

    async def get_user(self, user_id: str) -> UserDetail:
        return await self._get(f"/api/v1/users/{user_id}", UserDetail)

    async def update_user(self, user_id: str, form: UserUpdateForm) -> UserModel:
        return await self._post(f"/api/v1/users/{user_id}/update", UserModel, form)

    async def set_role(self, user_id: str, role: Role) -> UserModel:
        # Open WebUI 0.6 requires name, email and image beside the role, so send them too.
        user = await self.get_user(user_id)
        form = UserUpdateForm(
            role=role, name=user.name, email=user.email, profile_image_url=user.profile_image_url
        )
        return await self.update_user(user_id, form)

    async def delete_user(self, user_id: str) -> bool:
        return await self._bool("DELETE", f"/api/v1/users/{user_id}")

    # --- groups ---

    async def list_groups(self) -> list[GroupResponse]:
        return await self._list("/api/v1/groups/", _GROUP_LIST)

    async def get_group(self, group_id: str) -> GroupResponse:
        return await self._get(f"/api/v1/groups/id/{group_id}", GroupResponse)

    async def create_group(self, form: GroupForm) -> GroupResponse:
        return await self._post("/api/v1/groups/create", GroupResponse, form)

    async def update_group(self, group_id: str, form: GroupUpdateForm) -> GroupResponse:
        return await self._post(f"/api/v1/groups/id/{group_id}/update", GroupResponse, form)

    async def delete_group(self, group_id: str) -> bool:
        return await self._bool("DELETE", f"/api/v1/groups/id/{group_id}/delete")

    async def add_group_members(self, group_id: str, user_ids: list[str]) -> GroupResponse:
        path = f"/api/v1/groups/id/{group_id}/users/add"
        return await self._post(path, GroupResponse, UserIdsForm(user_ids=user_ids))

    async def remove_group_members(self, group_id: str, user_ids: list[str]) -> GroupResponse:
        path = f"/api/v1/groups/id/{group_id}/users/remove"
        return await self._post(path, GroupResponse, UserIdsForm(user_ids=user_ids))
