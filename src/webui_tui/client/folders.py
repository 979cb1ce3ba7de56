"""Chat folders (`/api/v1/folders/...`, a chat's folder) and tags across chats."""

from pydantic import TypeAdapter

from webui_daemon.schemas.chats import (
    ChatFolderIdForm,
    ChatResponse,
    ChatTitleIdResponse,
    TagFilterForm,
    TagModel,
)
from webui_daemon.schemas.folders import (
    FolderForm,
    FolderIsExpandedForm,
    FolderModel,
    FolderUpdateForm,
)
from webui_tui.client.base import LATER, BaseClient
from webui_tui.client.chats import CHATS
from webui_tui.client.errors import BadResponse

FOLDERS = "/api/v1/folders"
TAG_PAGE = 1000

_FOLDERS: TypeAdapter[list[FolderModel]] = TypeAdapter(list[FolderModel], config=LATER)
_CHATS: TypeAdapter[list[ChatResponse]] = TypeAdapter(list[ChatResponse], config=LATER)
_TITLES: TypeAdapter[list[ChatTitleIdResponse]] = TypeAdapter(
    list[ChatTitleIdResponse], config=LATER
)
_TAGS: TypeAdapter[list[TagModel]] = TypeAdapter(list[TagModel], config=LATER)


class FoldersMixin(BaseClient):
    # --- folders ---

    async def list_folders(self) -> list[FolderModel]:
        return await self._list(f"{FOLDERS}/", _FOLDERS)

    async def create_folder(self, name: str, parent_id: str | None = None) -> FolderModel:
        return await self._post(
            f"{FOLDERS}/", FolderModel, FolderForm(name=name, parent_id=parent_id)
        )

    async def get_folder(self, folder_id: str) -> FolderModel:
        return await self._get(f"{FOLDERS}/{folder_id}", FolderModel)

    async def rename_folder(self, folder_id: str, name: str) -> FolderModel:
        """A Conflict when a sibling folder already has the name."""
        form = FolderUpdateForm(name=name)
        return await self._post(f"{FOLDERS}/{folder_id}/update", FolderModel, form)

    async def delete_folder(self, folder_id: str, *, delete_contents: bool = True) -> bool:
        """Delete the folder and its subfolders; their chats go too (Open WebUI's default),
        or with `delete_contents=False` they stay, out of any folder."""
        path = f"{FOLDERS}/{folder_id}"
        data = await self.request("DELETE", path, params={"delete_contents": delete_contents})
        if not isinstance(data, bool):
            raise BadResponse(f"{path} answered {data!r} where true or false was expected")
        return data

    async def set_folder_expanded(self, folder_id: str, expanded: bool) -> FolderModel:
        """Remember whether the folder is shown open (kept by the daemon, like the web app)."""
        form = FolderIsExpandedForm(is_expanded=expanded)
        return await self._post(f"{FOLDERS}/{folder_id}/update/expanded", FolderModel, form)

    async def chats_in_folder(self, folder_id: str) -> list[ChatResponse]:
        """Unpinned, unarchived chats of the folder and of its subfolders (see `folder_id`)."""
        return await self._list(f"{CHATS}/folder/{folder_id}", _CHATS)

    async def move_to_folder(self, chat_id: str, folder_id: str | None) -> ChatResponse:
        """Put a chat in a folder; None takes it out of any folder."""
        form = ChatFolderIdForm(folder_id=folder_id)
        return await self._post(f"{CHATS}/{chat_id}/folder", ChatResponse, form)

    # --- tags across chats ---

    async def all_tags(self) -> list[TagModel]:
        """Every tag used on your chats."""
        return await self._list(f"{CHATS}/all/tags", _TAGS)

    async def chats_with_tag(self, name: str) -> list[ChatTitleIdResponse]:
        """Your chats (archived too) with the tag `name`, every page."""
        found: list[ChatTitleIdResponse] = []
        while True:
            form = TagFilterForm(name=name, skip=len(found), limit=TAG_PAGE)
            page = await self._list(f"{CHATS}/tags", _TITLES, method="POST", body=form)
            found += page
            if len(page) < TAG_PAGE:
                return found
