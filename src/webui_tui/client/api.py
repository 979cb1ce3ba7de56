"""WebUIClient: typed async calls to a webui daemon or an Open WebUI server."""

from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

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
    DaemonInfo,
    StatusResponse,
    VersionResponse,
)
from webui_daemon.schemas.users import UserDetail, UserListResponse, UserModel, UserUpdateForm
from webui_tui.client.discovery import Target
from webui_tui.client.errors import (
    BadResponse,
    DaemonUnreachable,
    NotFound,
    RequestFailed,
    error_for_status,
)

M = TypeVar("M", bound=BaseModel)
Method = Literal["GET", "POST", "DELETE"]

_GROUP_LIST: TypeAdapter[list[GroupResponse]] = TypeAdapter(list[GroupResponse])


class WebUIClient:
    """One connection pool to one server; use as `async with WebUIClient(target) as client`.

    Every method returns the daemon's wire schema or raises a `client.errors` error.
    """

    def __init__(
        self,
        target: Target,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        if transport is None:
            uds = None if target.socket is None else str(target.socket)
            transport = httpx.AsyncHTTPTransport(uds=uds)
        self._http = httpx.AsyncClient(
            transport=transport,
            base_url="http://webui" if target.socket is not None else str(target.url),
            timeout=timeout,
            headers={"Accept": "application/json"},
        )
        self.token = token

    @property
    def token(self) -> str | None:
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        self._token = value
        if value:
            self._http.headers["Authorization"] = f"Bearer {value}"
        else:
            self._http.headers.pop("Authorization", None)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- plumbing ---

    async def request(
        self,
        method: Method,
        path: str,
        *,
        body: BaseModel | None = None,
        params: dict[str, str | int] | None = None,
    ) -> Any:
        """Send one request and return its decoded JSON, or raise a typed error."""
        payload = None if body is None else body.model_dump(mode="json", exclude_none=True)
        try:
            response = await self._http.request(method, path, json=payload, params=params)
        except httpx.ConnectError as exc:
            raise self._unreachable(exc) from None
        except httpx.TimeoutException:
            raise DaemonUnreachable(f"{self.target.address} did not answer in time") from None
        except httpx.TransportError as exc:
            raise DaemonUnreachable(
                f"lost the connection to {self.target.address}: {exc}"
            ) from None
        finally:
            # Identity comes from the token we hold (or the socket), never from a stray cookie.
            self._http.cookies.clear()
        if response.status_code >= 400:
            raise error_for_status(response.status_code, _json_or_text(response), method, path)
        try:
            return response.json()
        except ValueError:
            raise BadResponse(
                f"{self.target.address} answered {method} {path} with something that is not JSON"
            ) from None

    def _unreachable(self, exc: httpx.ConnectError) -> DaemonUnreachable:
        if self.target.socket is not None:
            return DaemonUnreachable(
                f"no webui daemon answers on {self.target.socket}", "start one with `webui serve`"
            )
        return DaemonUnreachable(
            f"cannot connect to {self.target.url}: {exc}", "is the server running?"
        )

    async def _get(self, path: str, model: type[M], **params: str | int) -> M:
        return _parse(model, await self.request("GET", path, params=params or None), path)

    async def _post(self, path: str, model: type[M], body: BaseModel | None = None) -> M:
        return _parse(model, await self.request("POST", path, body=body), path)

    async def _bool(self, method: Method, path: str, body: BaseModel | None = None) -> bool:
        data = await self.request(method, path, body=body)
        if not isinstance(data, bool):
            raise BadResponse(f"{path} answered {data!r} where true or false was expected")
        return data

    # --- system ---

    async def health(self) -> bool:
        return (await self._get("/health", StatusResponse)).status

    async def version(self) -> VersionResponse:
        return await self._get("/api/version", VersionResponse)

    async def config(self) -> ConfigResponse:
        return await self._get("/api/config", ConfigResponse)

    async def daemon_info(self) -> DaemonInfo | None:
        """webui's own `/api/webui/info`; None when the server is not a webui daemon."""
        try:
            return await self._get("/api/webui/info", DaemonInfo)
        except (NotFound, BadResponse):
            # Open WebUI has no such route: a 404, or its web app's index page.
            return None

    # --- auths ---

    async def whoami(self) -> SessionUserResponse:
        return await self._get("/api/v1/auths/", SessionUserResponse)

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
        params: dict[str, str | int] = {"page": page}
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
        data = await self.request("GET", "/api/v1/groups/")
        try:
            return _GROUP_LIST.validate_python(data)
        except ValidationError as exc:
            raise _bad("/api/v1/groups/", exc) from None

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


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        text = response.text.strip()
        # A proxy's or web app's HTML error page is no message for a terminal.
        short = len(text) <= 200 and "<" not in text
        return text if short and text else response.reason_phrase


def _parse(model: type[M], data: Any, path: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _bad(path, exc) from None


def _bad(path: str, exc: ValidationError) -> BadResponse:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return BadResponse(f"unexpected answer from {path}: {where}: {first['msg']}")
