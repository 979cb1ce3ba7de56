"""Wire models of /api/v1/chats: the chat form, ChatResponse, ChatTitleId, tags, import."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The largest INTEGER SQLite stores: a bigger number would be a 500 (OverflowError) there.
SQLITE_INT_MAX = 2**63 - 1


class ChatForm(BaseModel):
    """`{chat: {...document...}, folder_id?}`; the document is free-form (Open WebUI's)."""

    model_config = ConfigDict(extra="allow")

    chat: dict[str, Any]
    folder_id: str | None = None
    # [0.12] Messages to drop from the stored tree on update (history is merged key by key).
    deleted_message_ids: list[str] | None = Field(default=None, max_length=100_000)


class ChatResponse(BaseModel):
    id: str
    user_id: str
    title: str
    chat: dict[str, Any]
    updated_at: int
    created_at: int
    share_id: str | None = None
    archived: bool = False
    pinned: bool | None = False
    meta: dict[str, Any] = Field(default_factory=dict)
    # [0.12] the chat's template variables: webui keeps none, so always {}.
    variables: dict[str, Any] = Field(default_factory=dict)
    folder_id: str | None = None
    # [0.12] automation tasks and a compaction summary: webui has neither, so null.
    tasks: list[Any] | None = None
    summary: str | None = None
    # [0.12] the id of the message currently shown (history.currentId).
    current_message_id: str | None = None
    # [0.12] how full the model's context is; webui does not measure it: null.
    context_usage: dict[str, Any] | None = None


class ChatTitleIdResponse(BaseModel):
    id: str
    title: str
    updated_at: int
    created_at: int
    # [0.12] when the owner last opened the chat: webui does not track reads, so null.
    last_read_at: int | None = None
    # [0.12] search only: the message text around the first match.
    snippet: str | None = None
    # [0.12] a reply is being generated in this chat now.
    active: bool = False
    archived: bool | None = None
    # webui's extension: whether the chat is pinned.
    pinned: bool | None = None


class TagModel(BaseModel):
    id: str
    name: str
    user_id: str
    meta: dict[str, Any] | None = None


class TagForm(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TagFilterForm(TagForm):
    skip: int | None = Field(default=0, ge=0, le=SQLITE_INT_MAX)
    limit: int | None = Field(default=50, ge=0, le=10_000)


class CloneForm(BaseModel):
    title: str | None = Field(default=None, max_length=1000)


class ShareForm(BaseModel):
    """[0.12] `share_mode` is accepted and ignored: a share is always a read-only snapshot."""

    model_config = ConfigDict(extra="allow")

    share_mode: str | None = None


class ChatFolderIdForm(BaseModel):
    folder_id: str | None = None


class EventForm(BaseModel):
    """[0.12] An event for a message: `{type, data}` (services.chats.message_events)."""

    type: str = Field(max_length=200)
    data: dict[str, Any]


class MessageForm(BaseModel):
    content: str


class ChatImportForm(BaseModel):
    """One imported chat. Open WebUI's export items (ChatResponse-like objects) fit here too;
    an item that is itself a bare document (`history`/`messages` at the top) is accepted."""

    model_config = ConfigDict(extra="allow")

    chat: dict[str, Any] | None = None
    folder_id: str | None = None
    meta: dict[str, Any] | None = None
    pinned: bool | None = False
    archived: bool | None = False
    created_at: int | None = Field(default=None, ge=-SQLITE_INT_MAX, le=SQLITE_INT_MAX)
    updated_at: int | None = Field(default=None, ge=-SQLITE_INT_MAX, le=SQLITE_INT_MAX)


class ChatsImportForm(BaseModel):
    chats: list[ChatImportForm] = Field(max_length=100_000)
