"""The contract scenario: every request the client makes (and the errors it must read), in order.

`scripts/record_contract.py` runs these steps against a fresh `open-webui serve` and stores each
answer in `recordings/` (normalised: ids, times and secrets replaced by stable stand-ins);
`test_contract_daemon.py` runs the same steps against our daemon and compares. A step names who
sends it (`admin`: the first account's session, `key`: its API key, `user`: a second account's
session, `none`, `bad`: a token nobody issued), its path with `{var}` placeholders filled from
earlier answers (`save`), and its body.

Both servers need the same providers: an Ollama with `llama3.1:8b` and `nomic-embed-text`, an
OpenAI-compatible one with `gpt-4o-mini` (tests/standins.py), and the embedding engine of Open
WebUI pointed at the Ollama one; and the OpenAPI tool server of tests/tools/tool_servers.py
(`{tool_url}`).
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

Who = Literal["admin", "key", "user", "none", "bad"]

HERE = Path(__file__).parent
RECORDINGS = HERE / "recordings"
HANDBOOK = HERE / "handbook.md"
PHOTO = HERE / "photo.png"  # a 4x3 PNG: `webui chat -f photo.png`, the TUI's attachments
OLLAMA_MODEL = "llama3.1:8b"
OPENAI_MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "nomic-embed-text"
ADMIN = {"name": "Ada Admin", "email": "ada@example.com", "password": "contract-pass-1"}
USER = {"name": "Bob User", "email": "bob@example.com", "password": "contract-pass-2"}
MISSING = "00000000-0000-4000-8000-00000000dead"
OPEN_WEBUI_VERSION = "0.12.4"


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    method: str
    path: str
    who: Who = "admin"
    body: Any = None
    params: dict[str, str] | None = None
    upload: bool = False  # multipart: the handbook as `file` (and `metadata`), as `kb add` does
    image: bool = False  # with upload: the photo instead, as `chat -f photo.png` sends it
    save: dict[str, str] = field(default_factory=dict)  # var -> dotted path in the answer
    note: str = ""


def _chat_document(title: str, model: str = OLLAMA_MODEL) -> dict[str, Any]:
    question = {
        "id": "{q1}",
        "parentId": None,
        "childrenIds": ["{a1}"],
        "role": "user",
        "content": "Why is the sky blue?",
        "timestamp": 1800000000,
        "models": [model],
    }
    answer = {
        "id": "{a1}",
        "parentId": "{q1}",
        "childrenIds": [],
        "role": "assistant",
        "content": "Rayleigh scattering.",
        "model": model,
        "modelName": model,
        "modelIdx": 0,
        "timestamp": 1800000000,
        "done": True,
    }
    return {
        "id": "",
        "title": title,
        "models": [model],
        "params": {},
        "history": {"messages": {"{q1}": question, "{a1}": answer}, "currentId": "{a1}"},
        "messages": [question, answer],
        "tags": [],
        "files": [],
        "timestamp": 1800000000000,
    }


_USER_MESSAGE = {
    "id": "{q2}",
    "parentId": "{a1}",
    "childrenIds": [],
    "role": "user",
    "content": "And at sunset?",
    "timestamp": 1800000000,
    "models": [OLLAMA_MODEL],
}
_ASK = [{"role": "user", "content": "Why is the sky blue?"}]
_PRESET = {
    "id": "terse",
    "base_model_id": OLLAMA_MODEL,
    "name": "terse",
    "meta": {},
    "params": {"system": "Answer in one line.", "temperature": 0.2},
    "is_active": True,
}
_OLLAMA_CONFIG = {
    "ENABLE_OLLAMA_API": True,
    "OLLAMA_BASE_URLS": ["{ollama_url}"],
    "OLLAMA_API_CONFIGS": {},
}
_OPENAI_CONFIG = {
    "ENABLE_OPENAI_API": True,
    "OPENAI_API_BASE_URLS": ["{openai_url}"],
    "OPENAI_API_KEYS": ["sk-standin"],
    "OPENAI_API_CONFIGS": {},
}
_CHATS_ALL = {"include_pinned": "true", "include_folders": "true"}
_READ_GRANT = {"principal_type": "user", "principal_id": "{user_id}", "permission": "read"}
_PROMPT = {
    "command": "summarize",
    "name": "Summarise",
    "content": "Summarise {{text}} in {{words}} words.",
    "tags": ["writing"],
}
_TOOL_SERVER = {
    "url": "http://127.0.0.1:9",
    "path": "openapi.json",
    "type": "openapi",
    "auth_type": "none",
    "config": {"enable": True, "access_grants": []},
    "info": {"id": "weather", "name": "Weather"},
}
_WEATHER = {  # tests/tools/tool_servers.py's OpenAPI server, for everyone
    **_TOOL_SERVER,
    "url": "{tool_url}",
    "key": "",
    "config": {
        "enable": True,
        "access_grants": [{"principal_type": "user", "principal_id": "*", "permission": "read"}],
    },
}
_NOTE = {"title": "Ideas", "data": {"content": {"md": "# Ideas\n- the sky is blue"}}}

STEPS: list[Step] = [
    # --- system, before anyone signed up ---
    Step("health", "GET", "/health", who="none"),
    Step("version", "GET", "/api/version", who="none"),
    Step("config-public", "GET", "/api/config", who="none"),
    # --- auths ---
    Step(
        "auths-signup-first",
        "POST",
        "/api/v1/auths/signup",
        who="none",
        body=ADMIN,
        save={"admin_token": "token", "admin_id": "id"},
    ),
    Step(
        "auths-signin",
        "POST",
        "/api/v1/auths/signin",
        who="none",
        body={"email": ADMIN["email"], "password": ADMIN["password"]},
        save={"admin_token": "token"},
    ),
    Step(
        "auths-signin-wrong-password",
        "POST",
        "/api/v1/auths/signin",
        who="none",
        body={"email": ADMIN["email"], "password": "wrong"},
    ),
    Step("auths-session", "GET", "/api/v1/auths/"),
    Step("auths-session-bad-token", "GET", "/api/v1/auths/", who="bad"),
    Step("auths-session-no-token", "GET", "/api/v1/auths/", who="none"),
    Step("config-signed-in", "GET", "/api/config"),
    Step(
        "webui-info",
        "GET",
        "/api/webui/info",
        note="webui's extension; Open WebUI has no such route",
    ),
    Step("apikey-create", "POST", "/api/v1/auths/api_key", save={"api_key": "api_key"}),
    Step("apikey-get", "GET", "/api/v1/auths/api_key"),
    Step(
        "auths-session-api-key",
        "GET",
        "/api/v1/auths/",
        who="key",
        note="0.12 refuses API keys here",
    ),
    Step(
        "users-status-api-key",
        "GET",
        "/api/v1/users/user/status",
        who="key",
        note="0.12: the caller's user record, for keys too (webui status falls back to it)",
    ),
    Step(
        "auths-add-user",
        "POST",
        "/api/v1/auths/add",
        body={**USER, "role": "user"},
        save={"user_id": "id"},
    ),
    Step(
        "auths-signin-user",
        "POST",
        "/api/v1/auths/signin",
        who="none",
        body={"email": USER["email"], "password": USER["password"]},
        save={"user_token": "token"},
    ),
    # --- users ---
    Step("users-list", "GET", "/api/v1/users/", params={"page": "1"}),
    Step("users-list-as-user", "GET", "/api/v1/users/", who="user", params={"page": "1"}),
    Step(
        "users-search",
        "GET",
        "/api/v1/users/",
        params={"page": "1", "query": USER["email"]},
        note="`--user EMAIL` of the access commands",
    ),
    Step("users-get", "GET", "/api/v1/users/{user_id}"),
    Step("users-get-missing", "GET", f"/api/v1/users/{MISSING}"),
    Step(
        "users-update-role",
        "POST",
        "/api/v1/users/{user_id}/update",
        body={
            "role": "user",
            "name": USER["name"],
            "email": USER["email"],
            "profile_image_url": "/user.png",
        },
    ),
    Step("users-settings-empty", "GET", "/api/v1/users/user/settings"),
    Step(
        "users-settings-update",
        "POST",
        "/api/v1/users/user/settings/update",
        body={"ui": {"models": [OLLAMA_MODEL]}},
    ),
    Step("users-settings", "GET", "/api/v1/users/user/settings"),
    Step("users-default-permissions", "GET", "/api/v1/users/default/permissions"),
    Step("users-permissions-as-user", "GET", "/api/v1/users/permissions", who="user"),
    # --- groups ---
    Step(
        "groups-create",
        "POST",
        "/api/v1/groups/create",
        body={"name": "research", "description": "GPU box users"},
        save={"group_id": "id"},
    ),
    Step("groups-list", "GET", "/api/v1/groups/"),
    Step("groups-get", "GET", "/api/v1/groups/id/{group_id}"),
    Step(
        "groups-add-member",
        "POST",
        "/api/v1/groups/id/{group_id}/users/add",
        body={"user_ids": ["{user_id}"]},
    ),
    Step("groups-list-with-member", "GET", "/api/v1/groups/"),
    Step(
        "groups-remove-member",
        "POST",
        "/api/v1/groups/id/{group_id}/users/remove",
        body={"user_ids": ["{user_id}"]},
    ),
    Step(
        "groups-update",
        "POST",
        "/api/v1/groups/id/{group_id}/update",
        body={"name": "research", "description": "Everyone with a GPU"},
    ),
    Step("groups-get-missing", "GET", f"/api/v1/groups/id/{MISSING}"),
    Step("groups-delete", "DELETE", "/api/v1/groups/id/{group_id}/delete"),
    # --- connections ---
    Step("ollama-config", "GET", "/ollama/config"),
    Step("openai-config", "GET", "/openai/config"),
    Step("ollama-config-update", "POST", "/ollama/config/update", body=_OLLAMA_CONFIG),
    Step("openai-config-update", "POST", "/openai/config/update", body=_OPENAI_CONFIG),
    Step("ollama-verify", "POST", "/ollama/verify", body={"url": "{ollama_url}", "key": ""}),
    Step(
        "ollama-verify-unreachable",
        "POST",
        "/ollama/verify",
        body={"url": "http://127.0.0.1:9", "key": ""},
    ),
    Step("ollama-config-as-user", "GET", "/ollama/config", who="user"),
    # --- models ---
    Step("models", "GET", "/api/models"),
    Step("models-api-key", "GET", "/api/models", who="key"),
    Step("models-as-user", "GET", "/api/models", who="user"),
    Step("models-create-preset", "POST", "/api/v1/models/create", body=_PRESET),
    Step("models-get-record", "GET", "/api/v1/models/model", params={"id": "terse"}),
    Step(
        "models-update-preset",
        "POST",
        "/api/v1/models/model/update",
        body={**_PRESET, "params": {"system": "One line.", "temperature": 0.1}},
    ),
    Step(
        "models-access-update",
        "POST",
        "/api/v1/models/model/access/update",
        body={
            "id": "terse",
            "access_grants": [
                {"principal_type": "user", "principal_id": "{user_id}", "permission": "read"}
            ],
        },
    ),
    Step("models-with-preset", "GET", "/api/models"),
    Step("models-export", "GET", "/api/v1/models/export"),
    Step("models-import", "POST", "/api/v1/models/import", body={"models": [_PRESET]}),
    Step("models-delete-preset", "POST", "/api/v1/models/model/delete", body={"id": "terse"}),
    Step("models-get-record-missing", "GET", "/api/v1/models/model", params={"id": "missing"}),
    Step("ollama-ps", "GET", "/ollama/api/ps"),
    Step("ollama-pull", "POST", "/ollama/api/pull", body={"model": "qwen2.5:0.5b", "stream": True}),
    Step(
        "models-refresh",
        "GET",
        "/api/models",
        params={"refresh": "true"},
        note="Open WebUI deletes only a model its cached list has: the pull is not in it yet",
    ),
    Step("ollama-delete", "DELETE", "/ollama/api/delete", body={"model": "qwen2.5:0.5b"}),
    # --- completions ---
    Step(
        "completion-stream",
        "POST",
        "/api/chat/completions",
        body={"model": OLLAMA_MODEL, "messages": _ASK, "stream": True},
    ),
    Step(
        "completion-stream-openai",
        "POST",
        "/api/chat/completions",
        body={"model": OPENAI_MODEL, "messages": _ASK, "stream": True},
    ),
    Step(
        "completion-json",
        "POST",
        "/api/chat/completions",
        body={"model": OLLAMA_MODEL, "messages": _ASK, "stream": False},
    ),
    Step(
        "completion-api-key",
        "POST",
        "/api/chat/completions",
        who="key",
        body={"model": OLLAMA_MODEL, "messages": _ASK, "stream": True},
    ),
    Step(
        "completion-unknown-model",
        "POST",
        "/api/chat/completions",
        body={"model": "no-such-model", "messages": _ASK, "stream": True},
    ),
    # --- chats ---
    Step("chats-list-empty", "GET", "/api/v1/chats/", params=_CHATS_ALL),
    Step(
        "chats-new",
        "POST",
        "/api/v1/chats/new",
        body={"chat": _chat_document("Sky colours")},
        save={"chat_id": "id"},
    ),
    Step("chats-get", "GET", "/api/v1/chats/{chat_id}"),
    Step(
        "chats-update-turn",
        "POST",
        "/api/v1/chats/{chat_id}",
        body={"chat": {"history": {"messages": {"{q2}": _USER_MESSAGE}, "currentId": "{q2}"}}},
    ),
    Step(
        "completion-server-turn",
        "POST",
        "/api/chat/completions",
        body={
            "model": OLLAMA_MODEL,
            "stream": True,
            "chat_id": "{chat_id}",
            "id": "{a2}",
            "parent_id": "{q2}",
            "user_message": _USER_MESSAGE,
        },
        note="a webui daemon streams and saves the turn; Open WebUI answers otherwise",
    ),
    Step("chats-list", "GET", "/api/v1/chats/", params=_CHATS_ALL),
    Step("chats-list-page", "GET", "/api/v1/chats/", params={**_CHATS_ALL, "page": "1"}),
    Step(
        "chats-list-loose",
        "GET",
        "/api/v1/chats/",
        params={"include_pinned": "true", "include_folders": "false"},
    ),
    Step("chats-search", "GET", "/api/v1/chats/search", params={"text": "sky"}),
    Step("chats-rename", "POST", "/api/v1/chats/{chat_id}", body={"chat": {"title": "Blue skies"}}),
    Step("chats-pin", "POST", "/api/v1/chats/{chat_id}/pin"),
    Step("chats-pinned", "GET", "/api/v1/chats/pinned"),
    Step("chats-tag-add", "POST", "/api/v1/chats/{chat_id}/tags", body={"name": "physics"}),
    Step("chats-tags", "GET", "/api/v1/chats/{chat_id}/tags"),
    Step("chats-all-tags", "GET", "/api/v1/chats/all/tags"),
    Step(
        "chats-with-tag",
        "POST",
        "/api/v1/chats/tags",
        body={"name": "physics", "skip": 0, "limit": 1000},
    ),
    Step("chats-tag-remove", "DELETE", "/api/v1/chats/{chat_id}/tags", body={"name": "physics"}),
    Step("chats-archive", "POST", "/api/v1/chats/{chat_id}/archive"),
    Step("chats-archived", "GET", "/api/v1/chats/archived"),
    Step("chats-unarchive", "POST", "/api/v1/chats/{chat_id}/archive"),
    Step("chats-export", "GET", "/api/v1/chats/all"),
    Step(
        "chats-import",
        "POST",
        "/api/v1/chats/import",
        body={"chats": [{"chat": _chat_document("Imported"), "meta": {}, "pinned": False}]},
        save={"imported_id": "0.id"},
    ),
    Step("chats-get-missing", "GET", f"/api/v1/chats/{MISSING}"),
    Step("chats-get-as-other-user", "GET", "/api/v1/chats/{chat_id}", who="user"),
    Step("tasks-chat", "GET", "/api/tasks/chat/{chat_id}"),
    Step("tasks-chat-stop", "POST", "/api/tasks/chat/{chat_id}/stop"),
    Step(
        "chats-message-stream",
        "GET",
        "/api/v1/chats/{chat_id}/messages/{a1}/stream",
        note="webui's re-attach route",
    ),
    # --- folders ---
    Step(
        "folders-create",
        "POST",
        "/api/v1/folders/",
        body={"name": "Work"},
        save={"folder_id": "id"},
    ),
    Step(
        "folders-create-child",
        "POST",
        "/api/v1/folders/",
        body={"name": "Drafts", "parent_id": "{folder_id}"},
        save={"child_id": "id"},
    ),
    Step("folders-list", "GET", "/api/v1/folders/"),
    Step("folders-get", "GET", "/api/v1/folders/{folder_id}"),
    Step("folders-rename", "POST", "/api/v1/folders/{folder_id}/update", body={"name": "Office"}),
    Step(
        "folders-rename-conflict",
        "POST",
        "/api/v1/folders/{child_id}/update",
        body={"name": "Office"},
        note="a sibling name at the top is fine; same level differs",
    ),
    Step(
        "folders-expand",
        "POST",
        "/api/v1/folders/{folder_id}/update/expanded",
        body={"is_expanded": True},
    ),
    Step(
        "chats-move-to-folder",
        "POST",
        "/api/v1/chats/{chat_id}/folder",
        body={"folder_id": "{folder_id}"},
    ),
    Step("chats-in-folder", "GET", "/api/v1/chats/folder/{folder_id}"),
    Step("folders-list-expanded", "GET", "/api/v1/folders/"),
    Step("folders-get-missing", "GET", f"/api/v1/folders/{MISSING}"),
    Step(
        "chats-move-out-of-folder",
        "POST",
        "/api/v1/chats/{chat_id}/folder",
        body={"folder_id": None},
    ),
    Step(
        "folders-delete",
        "DELETE",
        "/api/v1/folders/{folder_id}",
        params={"delete_contents": "true"},
    ),
    Step("chats-delete-imported", "DELETE", "/api/v1/chats/{imported_id}"),
    # --- knowledge, files, retrieval ---
    Step("knowledge-list-empty", "GET", "/api/v1/knowledge/"),
    Step(
        "knowledge-create",
        "POST",
        "/api/v1/knowledge/create",
        body={"name": "Handbook", "description": "HR documents"},
        save={"kb_id": "id"},
    ),
    Step("knowledge-list", "GET", "/api/v1/knowledge/"),
    Step("knowledge-get-empty", "GET", "/api/v1/knowledge/{kb_id}"),
    Step("knowledge-files-empty", "GET", "/api/v1/knowledge/{kb_id}/files", params={"page": "1"}),
    Step(
        "files-upload",
        "POST",
        "/api/v1/files/",
        upload=True,
        params={"process": "true", "process_in_background": "true"},
        save={"file_id": "id"},
    ),
    Step(
        "files-status-stream",
        "GET",
        "/api/v1/files/{file_id}/process/status",
        params={"stream": "true"},
    ),
    Step("files-status", "GET", "/api/v1/files/{file_id}/process/status"),
    Step("files-get", "GET", "/api/v1/files/{file_id}"),
    Step("files-list", "GET", "/api/v1/files/", params={"content": "false"}),
    Step(
        "knowledge-file-add",
        "POST",
        "/api/v1/knowledge/{kb_id}/file/add",
        body={"file_id": "{file_id}"},
    ),
    Step(
        "knowledge-file-add-again",
        "POST",
        "/api/v1/knowledge/{kb_id}/file/add",
        body={"file_id": "{file_id}"},
    ),
    Step("knowledge-get", "GET", "/api/v1/knowledge/{kb_id}"),
    Step(
        "knowledge-files",
        "GET",
        "/api/v1/knowledge/{kb_id}/files",
        params={"page": "1"},
        note="0.12 lists a base's files here only (its `files` is null)",
    ),
    Step("knowledge-list-with-file", "GET", "/api/v1/knowledge/"),
    Step(
        "retrieval-query",
        "POST",
        "/api/v1/retrieval/query/collection",
        body={"collection_names": ["{kb_id}"], "query": "vacation days", "k": 5},
    ),
    Step(
        "retrieval-query-hybrid",
        "POST",
        "/api/v1/retrieval/query/collection",
        body={"collection_names": ["{kb_id}"], "query": "vacation days", "k": 5, "hybrid": True},
    ),
    Step(
        "completion-with-kb",
        "POST",
        "/api/chat/completions",
        body={
            "model": OLLAMA_MODEL,
            "messages": [{"role": "user", "content": "How many vacation days do I get?"}],
            "stream": True,
            "files": [{"type": "collection", "id": "{kb_id}", "name": "Handbook"}],
        },
    ),
    Step(
        "knowledge-access-update",
        "POST",
        "/api/v1/knowledge/{kb_id}/access/update",
        body={
            "access_grants": [
                {"principal_type": "user", "principal_id": "{user_id}", "permission": "read"}
            ]
        },
    ),
    Step("knowledge-get-as-user", "GET", "/api/v1/knowledge/{kb_id}", who="user"),
    Step(
        "files-cancel",
        "POST",
        "/api/v1/files/process/cancel",
        body={"file_ids": ["{file_id}"]},
        note="webui's extension",
    ),
    Step(
        "knowledge-file-remove",
        "POST",
        "/api/v1/knowledge/{kb_id}/file/remove",
        body={"file_id": "{file_id}"},
        params={"delete_file": "true"},
    ),
    Step("files-get-deleted", "GET", "/api/v1/files/{file_id}"),
    Step(
        "files-upload-loose",
        "POST",
        "/api/v1/files/",
        upload=True,
        params={"process": "true", "process_in_background": "true"},
        save={"loose_id": "id"},
    ),
    Step(
        "files-status-stream-loose",
        "GET",
        "/api/v1/files/{loose_id}/process/status",
        params={"stream": "true"},
    ),
    Step("files-delete", "DELETE", "/api/v1/files/{loose_id}"),
    Step("knowledge-get-missing", "GET", f"/api/v1/knowledge/{MISSING}"),
    Step("knowledge-delete", "DELETE", "/api/v1/knowledge/{kb_id}/delete"),
    # --- workspace: prompts ---
    Step("prompts-list-empty", "GET", "/api/v1/prompts/"),
    Step(
        "prompts-create",
        "POST",
        "/api/v1/prompts/create",
        body=_PROMPT,
        save={"prompt_id": "id"},
    ),
    Step(
        "prompts-create-taken",
        "POST",
        "/api/v1/prompts/create",
        body={**_PROMPT, "name": "Summarise again"},
        note="the command is taken",
    ),
    Step("prompts-list", "GET", "/api/v1/prompts/"),
    Step("prompts-get", "GET", "/api/v1/prompts/id/{prompt_id}"),
    Step(
        "prompts-update",
        "POST",
        "/api/v1/prompts/id/{prompt_id}/update",
        body={**_PROMPT, "content": "Summarise {{text}} in {{words | 20}} words."},
    ),
    Step("prompts-list-as-user", "GET", "/api/v1/prompts/", who="user"),
    Step(
        "prompts-get-as-user",
        "GET",
        "/api/v1/prompts/id/{prompt_id}",
        who="user",
        note="another user's prompt, not shared",
    ),
    Step(
        "prompts-access-update",
        "POST",
        "/api/v1/prompts/id/{prompt_id}/access/update",
        body={"access_grants": [_READ_GRANT]},
    ),
    Step("prompts-list-as-user-shared", "GET", "/api/v1/prompts/", who="user"),
    Step("prompts-get-as-user-shared", "GET", "/api/v1/prompts/id/{prompt_id}", who="user"),
    Step(
        "prompts-update-as-user",
        "POST",
        "/api/v1/prompts/id/{prompt_id}/update",
        who="user",
        body=_PROMPT,
        note="shared to read only",
    ),
    Step(
        "completion-from-prompt",
        "POST",
        "/api/chat/completions",
        body={
            "model": OLLAMA_MODEL,
            "messages": [{"role": "user", "content": "Summarise the sky in 20 words."}],
            "stream": True,
        },
        note="`webui chat -p summarize --var text=...` sends the filled prompt",
    ),
    Step("prompts-delete", "DELETE", "/api/v1/prompts/id/{prompt_id}/delete"),
    Step("prompts-get-missing", "GET", "/api/v1/prompts/id/{prompt_id}"),
    # --- workspace: notes ---
    Step("notes-list-empty", "GET", "/api/v1/notes/"),
    Step("notes-create", "POST", "/api/v1/notes/create", body=_NOTE, save={"note_id": "id"}),
    Step("notes-list", "GET", "/api/v1/notes/"),
    Step("notes-get", "GET", "/api/v1/notes/{note_id}"),
    Step(
        "notes-update",
        "POST",
        "/api/v1/notes/{note_id}/update",
        body={"title": "Ideas", "data": {"content": {"md": "# Ideas\n- the sea is blue too"}}},
    ),
    Step("notes-list-as-user", "GET", "/api/v1/notes/", who="user"),
    Step(
        "notes-get-as-user",
        "GET",
        "/api/v1/notes/{note_id}",
        who="user",
        note="another user's note, not shared",
    ),
    Step(
        "notes-access-update",
        "POST",
        "/api/v1/notes/{note_id}/access/update",
        body={"access_grants": [_READ_GRANT]},
    ),
    Step("notes-get-as-user-shared", "GET", "/api/v1/notes/{note_id}", who="user"),
    Step(
        "completion-with-note",
        "POST",
        "/api/chat/completions",
        body={
            "model": OLLAMA_MODEL,
            "messages": [{"role": "user", "content": "What colour is the sea?"}],
            "stream": True,
            "files": [{"type": "note", "id": "{note_id}", "name": "Ideas", "status": "processed"}],
        },
        note="`webui chat --note Ideas`",
    ),
    Step("notes-delete", "DELETE", "/api/v1/notes/{note_id}/delete"),
    Step("notes-get-missing", "GET", "/api/v1/notes/{note_id}"),
    # --- workspace: memories ---
    Step("memories-list-empty", "GET", "/api/v1/memories/"),
    Step(
        "memories-query-none",
        "POST",
        "/api/v1/memories/query",
        body={"content": "what do I eat?", "k": 3},
        note="nothing remembered yet",
    ),
    Step(
        "memories-add",
        "POST",
        "/api/v1/memories/add",
        body={"content": "I am vegetarian.", "type": "user"},
        save={"memory_id": "id"},
    ),
    Step(
        "memories-add-context",
        "POST",
        "/api/v1/memories/add",
        body={"content": "Working on a thesis about light.", "type": "context"},
    ),
    Step("memories-list", "GET", "/api/v1/memories/"),
    Step(
        "memories-query",
        "POST",
        "/api/v1/memories/query",
        body={"content": "what do I eat?", "k": 3},
    ),
    Step(
        "memories-update",
        "POST",
        "/api/v1/memories/{memory_id}/update",
        body={"content": "I am vegan."},
    ),
    Step(
        "memories-update-missing",
        "POST",
        f"/api/v1/memories/{MISSING}/update",
        body={"content": "nobody's"},
    ),
    Step(
        "completion-with-memory",
        "POST",
        "/api/chat/completions",
        body={
            "model": OLLAMA_MODEL,
            "messages": [{"role": "user", "content": "What should I cook tonight?"}],
            "stream": True,
            "features": {"memory": True},
        },
        note="`webui chat --memory`",
    ),
    Step("memories-reset", "POST", "/api/v1/memories/reset"),
    Step("memories-list-as-user", "GET", "/api/v1/memories/", who="user"),
    Step("memories-delete", "DELETE", "/api/v1/memories/{memory_id}"),
    Step("memories-delete-missing", "DELETE", f"/api/v1/memories/{MISSING}"),
    Step("memories-clear", "DELETE", "/api/v1/memories/delete/user"),
    Step("memories-list-cleared", "GET", "/api/v1/memories/"),
    # --- images ---
    Step(
        "files-upload-image",
        "POST",
        "/api/v1/files/",
        upload=True,
        image=True,
        params={"process": "false", "process_in_background": "true"},
        save={"image_id": "id"},
    ),
    Step("files-get-image", "GET", "/api/v1/files/{image_id}"),
    Step(
        "completion-with-image",
        "POST",
        "/api/chat/completions",
        body={
            "model": OLLAMA_MODEL,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in this picture?"},
                        {
                            "type": "image_url",
                            "image_url": {"url": "/api/v1/files/{image_id}/content"},
                        },
                    ],
                }
            ],
            "stream": True,
        },
        note="`webui chat -f photo.png`: the stored image named by its content URL",
    ),
    Step("files-delete-image", "DELETE", "/api/v1/files/{image_id}"),
    # --- tools ---
    Step("tools-list", "GET", "/api/v1/tools/"),
    Step("tools-list-as-user", "GET", "/api/v1/tools/", who="user"),
    Step("tool-servers-config", "GET", "/api/v1/configs/tool_servers"),
    Step(
        "tool-servers-verify",
        "POST",
        "/api/v1/configs/tool_servers/verify",
        body=_WEATHER,
        note="`webui tools add {tool_url}`: checked first",
    ),
    Step(
        "tool-servers-config-update",
        "POST",
        "/api/v1/configs/tool_servers",
        body={"TOOL_SERVER_CONNECTIONS": [_WEATHER]},
    ),
    Step("tools-list-with-server", "GET", "/api/v1/tools/"),
    Step(
        "tools-specs-openapi",
        "GET",
        "/api/v1/tools/id/server:weather/specs",
        note="0.12.4 lists the functions of MCP servers only",
    ),
    Step(
        "tool-servers-config-clear",
        "POST",
        "/api/v1/configs/tool_servers",
        body={"TOOL_SERVER_CONNECTIONS": []},
    ),
    Step("tool-servers-config-as-user", "GET", "/api/v1/configs/tool_servers", who="user"),
    Step(
        "tool-servers-verify-unreachable",
        "POST",
        "/api/v1/configs/tool_servers/verify",
        body={**_TOOL_SERVER, "key": ""},
        note="`webui tools add URL`: checked first",
    ),
    Step(
        "tool-servers-verify-no-key",
        "POST",
        "/api/v1/configs/tool_servers/verify",
        body=_TOOL_SERVER,
        note="0.12.4 wants `key` (and auth_type, config) present, null or not",
    ),
    # --- webui's own routes ---
    Step("webui-generations", "GET", "/api/webui/generations"),
    Step("webui-usage", "GET", "/api/webui/usage", params={"since_days": "7"}),
    # --- the end ---
    Step("chats-delete", "DELETE", "/api/v1/chats/{chat_id}"),
    Step("users-delete", "DELETE", "/api/v1/users/{user_id}"),
    Step("apikey-delete", "DELETE", "/api/v1/auths/api_key"),
    Step("apikey-get-none", "GET", "/api/v1/auths/api_key"),
    Step("auths-signout", "POST", "/api/v1/auths/signout"),
]


# --- running the steps ---

_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")
# Ids the client makes up itself (message ids); fixed so that two runs send the same.
CLIENT_IDS = {
    "q1": "11111111-1111-4111-8111-111111111111",
    "a1": "22222222-2222-4222-8222-222222222222",
    "q2": "33333333-3333-4333-8333-333333333333",
    "a2": "44444444-4444-4444-8444-444444444444",
}


def fill(value: Any, values: dict[str, str]) -> Any:
    """`value` with each `{var}` replaced (strings, and inside lists and dicts, keys too)."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if isinstance(value, dict):
        return {fill(k, values): fill(v, values) for k, v in value.items()}
    return value


def dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


@dataclass(slots=True)
class Exchange:
    """One step's request and answer, as stored in a recording."""

    step: Step
    request: dict[str, Any]
    status: int
    content_type: str
    body: Any  # decoded JSON, or the text (streams, HTML)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.step.name, "who": self.step.who}
        if self.step.note:
            out["note"] = self.step.note
        return out | {
            "request": self.request,
            "status": self.status,
            "content_type": self.content_type,
            "body": self.body,
        }


class Runner:
    """Runs steps in order against one server, keeping the ids and tokens they hand out."""

    def __init__(self, http: httpx.Client, values: dict[str, str] | None = None) -> None:
        self.http = http
        self.values: dict[str, str] = {**CLIENT_IDS, **(values or {})}

    def _headers(self, who: Who) -> dict[str, str]:
        token = {
            "admin": self.values.get("admin_token"),
            "key": self.values.get("api_key"),
            "user": self.values.get("user_token"),
            "bad": "not-a-token-anyone-issued",
            "none": None,
        }[who]
        return {"Authorization": f"Bearer {token}"} if token else {}

    def run(self, step: Step) -> Exchange:
        path = fill(step.path, self.values)
        params = fill(step.params, self.values) if step.params else None
        body = fill(step.body, self.values) if step.body is not None else None
        request: dict[str, Any] = {"method": step.method, "path": path}
        if params:
            request["params"] = params
        kwargs: dict[str, Any] = {"params": params, "headers": self._headers(step.who)}
        if step.upload and step.image:
            kwargs["files"] = {"file": (PHOTO.name, PHOTO.read_bytes(), "image/png")}
            request["multipart"] = {"file": PHOTO.name}
        elif step.upload:
            data = HANDBOOK.read_bytes()
            kwargs["files"] = {"file": (HANDBOOK.name, data, "application/octet-stream")}
            kwargs["data"] = {"metadata": json.dumps({"path": str(HANDBOOK.name)})}
            request["multipart"] = {"file": HANDBOOK.name, "metadata": {"path": HANDBOOK.name}}
        elif body is not None:
            kwargs["json"] = body
            request["body"] = body
        response = self.http.request(step.method, path, **kwargs)
        self.http.cookies.clear()
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        answer: Any
        try:
            answer = response.json() if kind == "application/json" else response.text
        except ValueError:
            answer = response.text
        for var, where in step.save.items():
            found = dig(answer, where)
            if isinstance(found, str) and found:
                self.values[var] = found
        return Exchange(step, request, response.status_code, kind, answer)

    def run_all(self, steps: list[Step] | None = None) -> Iterator[Exchange]:
        for step in steps or STEPS:
            yield self.run(step)


# --- normalising and reading recordings ---

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
_API_KEY = re.compile(r"sk-[0-9a-f]{32}")
_TIMES = [
    (re.compile(r"(?<![\d.])1[6-9]\d{17}(?![\d.])"), "1800000000000000000"),  # ns
    (re.compile(r"(?<![\d.])1[6-9]\d{11}(?![\d.])"), "1800000000000"),  # ms
    (re.compile(r"(?<![\d.])1[6-9]\d{8}(?![\d.])"), "1800000000"),  # s
]
_DATES = re.compile(r"20\d\d-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
_CHATCMPL = re.compile(r"chatcmpl-[\w-]+")
_MSG_ID = re.compile(r"\bmsg_[0-9a-f]{24}\b")  # 0.12's output items
_UPLOADS = re.compile(r"[^\"\s]*/uploads/")  # the server's data folder
_KEEP = set(CLIENT_IDS.values()) | {MISSING}


def normalise(exchanges: list[dict[str, Any]], urls: dict[str, str]) -> list[dict[str, Any]]:
    """Stable recordings: server-made ids become 00000000-0000-4000-8000-NNNNNNNNNNNN in order
    of appearance, times one fixed instant, JWTs and API keys obvious fakes, provider URLs
    `{ollama_url}`/`{openai_url}`."""
    exchanges = [_cut_html(item) for item in exchanges]
    text = json.dumps(exchanges, ensure_ascii=False)
    for name, url in urls.items():
        text = text.replace(url, "{" + name + "}")
    ids: dict[str, str] = {}

    def stable_id(match: re.Match[str]) -> str:
        found = match.group(0)
        if found in _KEEP:
            return found
        if found not in ids:
            ids[found] = f"00000000-0000-4000-8000-{len(ids) + 1:012d}"
        return ids[found]

    text = _UUID.sub(stable_id, text)
    text = _JWT.sub("eyJhbGciOiJIUzI1NiJ9.eyJyZWNvcmRlZCI6dHJ1ZX0.recorded", text)
    text = _API_KEY.sub("sk-" + "0" * 32, text)
    for pattern, fixed in _TIMES:
        text = pattern.sub(fixed, text)
    text = _DATES.sub("2027-01-15T08:00:00Z", text)
    text = _CHATCMPL.sub("chatcmpl-recorded", text)
    text = _MSG_ID.sub("msg_recorded", text)
    text = _UPLOADS.sub("/app/backend/data/uploads/", text)
    return [_sorted_metadatas(item) for item in json.loads(text)]


def _sorted_metadatas(value: Any, under: str = "") -> Any:
    """A vector store hands back a hit's metadata in any key order: sort it (`metadatas`)."""
    if isinstance(value, dict):
        if under == "metadatas":
            return {k: value[k] for k in sorted(value)}
        return {k: _sorted_metadatas(v, k if k == "metadatas" else under) for k, v in value.items()}
    if isinstance(value, list):
        return [_sorted_metadatas(item, under) for item in value]
    return value


def _cut_html(item: dict[str, Any]) -> dict[str, Any]:
    """A web app's index page says only that this route is not the API's: keep its start."""
    if item.get("content_type") == "text/html" and isinstance(item.get("body"), str):
        return {**item, "body": item["body"][:15] + "…"}
    return item


def recording_path(name: str) -> Path:
    return RECORDINGS / f"{name}.json"


def load(name: str) -> dict[str, Any]:
    """One recording by step name."""
    return dict(json.loads(recording_path(name).read_text(encoding="utf-8")))


def load_all() -> list[dict[str, Any]]:
    """Every recording, in scenario order."""
    return [load(step.name) for step in STEPS if recording_path(step.name).exists()]
