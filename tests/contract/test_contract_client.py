"""(a) The client reads every recorded answer of Open WebUI 0.12.4: each step's client call,
replayed through httpx's MockTransport, parses its answer or raises one typed, one-line error."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.contract.replay import API_KEY, Replay
from tests.contract.scenario import HANDBOOK, PHOTO, STEPS, USER, load
from webui_daemon.schemas.auths import AddUserForm
from webui_daemon.schemas.connections import OllamaConfigForm, OpenAIConfigForm
from webui_daemon.schemas.groups import GroupForm, GroupResponse, GroupUpdateForm
from webui_daemon.schemas.models import ModelForm
from webui_daemon.schemas.prompts import Prompt
from webui_daemon.schemas.users import UserUpdateForm
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import (
    AuthFailed,
    BadResponse,
    Forbidden,
    NotFound,
    RequestFailed,
    ServerError,
    WebUIClientError,
)

Call = Callable[[WebUIClient, list[str]], Awaitable[Any]]


def _ids(name: str) -> list[str]:
    """The ids in a recorded request's path (the client is called with them)."""
    path = load(name)["request"]["path"]
    return [part for part in path.split("/") if part.count("-") == 4]


async def _drain(opened: Any) -> Any:
    async with opened as stream:
        async for _ in stream:
            pass
    return stream


async def _pull(client: WebUIClient) -> list[dict[str, Any]]:
    return [step async for step in client.pull_model("qwen2.5:0.5b")]


_PRESET = ModelForm(id="terse", base_model_id="llama3.1:8b", name="terse", params={})
_ASK = [{"role": "user", "content": "Why is the sky blue?"}]
_GRANT = [{"principal_type": "user", "principal_id": "u", "permission": "read"}]


def _prompt(ids: list[str]) -> Prompt:
    """The recorded prompt, by the id of the recorded path (as `webui prompts` finds it)."""
    return Prompt(id=ids[0], command="summarize", name="Summarise", content="x")


_ASK_IMAGE = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "/api/v1/files/f/content"}},
        ],
    }
]

# step -> (the client call that sends it, the error it must raise or None); the ids are those
# of the recorded path. Steps the client never sends are in NOT_SENT.
CALLS: dict[str, tuple[Call, type[WebUIClientError] | None]] = {
    "health": (lambda c, i: c.health(), None),
    "version": (lambda c, i: c.version(), None),
    "config-public": (lambda c, i: c.config(), None),
    "auths-signin": (lambda c, i: c.signin("ada@example.com", "pw"), None),
    "auths-signin-wrong-password": (lambda c, i: c.signin("ada@example.com", "x"), RequestFailed),
    "auths-session": (lambda c, i: c.whoami(), None),
    "auths-session-bad-token": (lambda c, i: c.whoami(), AuthFailed),
    "auths-session-no-token": (lambda c, i: c.whoami(), AuthFailed),
    "config-signed-in": (lambda c, i: c.config(), None),
    "webui-info": (lambda c, i: c.daemon_info(), None),
    "apikey-create": (lambda c, i: c.create_api_key(), None),
    "apikey-get": (lambda c, i: c.get_api_key(), None),
    "auths-add-user": (lambda c, i: c.add_user(AddUserForm(**USER, role="user")), None),
    "auths-signin-user": (lambda c, i: c.signin("bob@example.com", "pw"), None),
    "users-list": (lambda c, i: c.list_users(), None),
    "users-list-as-user": (lambda c, i: c.list_users(), AuthFailed),
    "users-search": (lambda c, i: c.list_users(query="bob@example.com"), None),
    "users-get": (lambda c, i: c.get_user(i[0]), None),
    "users-get-missing": (lambda c, i: c.get_user(i[0]), RequestFailed),
    "users-update-role": (lambda c, i: c.update_user(i[0], UserUpdateForm(role="user")), None),
    "users-settings-empty": (lambda c, i: c.user_settings(), None),
    "users-settings-update": (lambda c, i: c.update_user_settings({"ui": {}}), None),
    "users-settings": (lambda c, i: c.user_settings(), None),
    "users-default-permissions": (lambda c, i: c.default_permissions(), None),
    "users-permissions-as-user": (lambda c, i: c.my_permissions(), None),
    "groups-create": (lambda c, i: c.create_group(GroupForm(name="research")), None),
    "groups-list": (lambda c, i: c.list_groups(), None),
    "groups-get": (lambda c, i: c.get_group(i[0]), None),
    "groups-add-member": (lambda c, i: c.add_group_members(i[0], ["u"]), None),
    "groups-list-with-member": (lambda c, i: c.list_groups(), None),
    "groups-remove-member": (lambda c, i: c.remove_group_members(i[0], ["u"]), None),
    "groups-update": (lambda c, i: c.update_group(i[0], GroupUpdateForm(name="r")), None),
    "groups-get-missing": (lambda c, i: c.get_group(i[0]), NotFound),
    "groups-delete": (lambda c, i: c.delete_group(i[0]), None),
    "ollama-config": (lambda c, i: c.ollama_config(), None),
    "openai-config": (lambda c, i: c.openai_config(), None),
    "ollama-config-update": (lambda c, i: c.update_ollama_config(OllamaConfigForm()), None),
    "openai-config-update": (lambda c, i: c.update_openai_config(OpenAIConfigForm()), None),
    "ollama-verify": (lambda c, i: c.verify_connection("ollama", "http://x"), None),
    "ollama-verify-unreachable": (
        lambda c, i: c.verify_connection("ollama", "http://x"),
        ServerError,
    ),
    "ollama-config-as-user": (lambda c, i: c.ollama_config(), AuthFailed),
    "models": (lambda c, i: c.list_models(), None),
    "models-api-key": (lambda c, i: c.list_models(), None),
    "models-as-user": (lambda c, i: c.list_models(), None),
    "models-create-preset": (lambda c, i: c.create_preset(_PRESET), None),
    "models-get-record": (lambda c, i: c.get_model_record("terse"), None),
    "models-update-preset": (lambda c, i: c.update_preset(_PRESET), None),
    "models-access-update": (lambda c, i: c.update_model_access("terse", _GRANT), None),
    "models-with-preset": (lambda c, i: c.list_models(), None),
    "models-export": (lambda c, i: c.export_presets(), None),
    "models-import": (lambda c, i: c.import_presets([{"id": "terse"}]), None),
    "models-delete-preset": (lambda c, i: c.delete_preset("terse"), None),
    "models-get-record-missing": (lambda c, i: c.get_model_record("missing"), NotFound),
    "ollama-ps": (lambda c, i: c.loaded_models(), None),
    "ollama-pull": (lambda c, i: _pull(c), None),
    "models-refresh": (lambda c, i: c.list_models(refresh=True), None),
    "ollama-delete": (lambda c, i: c.remove_model("qwen2.5:0.5b"), None),
    "completion-stream": (lambda c, i: _drain(c.stream_completion("m", _ASK)), None),
    "completion-stream-openai": (lambda c, i: _drain(c.stream_completion("m", _ASK)), None),
    "completion-json": (lambda c, i: c.complete("m", _ASK), None),
    "completion-api-key": (lambda c, i: _drain(c.stream_completion("m", _ASK)), None),
    "completion-unknown-model": (
        lambda c, i: _drain(c.stream_completion("m", _ASK)),
        RequestFailed,
    ),
    "chats-list-empty": (lambda c, i: c.list_chats(), None),
    "chats-new": (lambda c, i: c.create_chat({"title": "t"}), None),
    "chats-get": (lambda c, i: c.get_chat(i[0]), None),
    "chats-update-turn": (lambda c, i: c.update_chat(i[0], {}), None),
    # Open WebUI saves such a turn itself and answers null: no stream to read. The client
    # never sends it there (server_turns() is False); if it did, it says so in one line.
    "completion-server-turn": (
        lambda c, i: _drain(c.stream_turn("c", "q", "m", parent_id=None)),
        BadResponse,
    ),
    "chats-list": (lambda c, i: c.list_chats(), None),
    "chats-list-page": (lambda c, i: c.last_chat(), None),
    "chats-list-loose": (lambda c, i: c.list_chats(include_folders=False), None),
    "chats-search": (lambda c, i: c.search_chats("sky"), None),
    "chats-rename": (lambda c, i: c.rename_chat(i[0], "Blue skies"), None),
    "chats-pin": (lambda c, i: c.toggle_pin(i[0]), None),
    "chats-pinned": (lambda c, i: c.pinned_chats(), None),
    "chats-tag-add": (lambda c, i: c.add_tag(i[0], "physics"), None),
    "chats-tags": (lambda c, i: c.chat_tags(i[0]), None),
    "chats-all-tags": (lambda c, i: c.all_tags(), None),
    "chats-with-tag": (lambda c, i: c.chats_with_tag("physics"), None),
    "chats-tag-remove": (lambda c, i: c.remove_tag(i[0], "physics"), None),
    "chats-archive": (lambda c, i: c.toggle_archive(i[0]), None),
    "chats-archived": (lambda c, i: c.archived_chats(), None),
    "chats-unarchive": (lambda c, i: c.toggle_archive(i[0]), None),
    "chats-export": (lambda c, i: c.export_chats(), None),
    "chats-import": (lambda c, i: c.import_chats([{"chat": {}}]), None),
    # Open WebUI answers 401 for a chat that is not there (or not yours).
    "chats-get-missing": (lambda c, i: c.get_chat(i[0]), AuthFailed),
    "chats-get-as-other-user": (lambda c, i: c.get_chat(i[0]), AuthFailed),
    "tasks-chat": (lambda c, i: c.chat_tasks(i[0]), None),
    "tasks-chat-stop": (lambda c, i: c.stop_chat(i[0]), None),
    "chats-message-stream": (lambda c, i: _drain(c.attach(i[0], i[1])), BadResponse),
    "folders-create": (lambda c, i: c.create_folder("Work"), None),
    "folders-create-child": (lambda c, i: c.create_folder("Drafts", "p"), None),
    "folders-list": (lambda c, i: c.list_folders(), None),
    "folders-get": (lambda c, i: c.get_folder(i[0]), None),
    "folders-rename": (lambda c, i: c.rename_folder(i[0], "Office"), None),
    "folders-rename-conflict": (lambda c, i: c.rename_folder(i[0], "Office"), None),
    "folders-expand": (lambda c, i: c.set_folder_expanded(i[0], True), None),
    "chats-move-to-folder": (lambda c, i: c.move_to_folder(i[0], "f"), None),
    "chats-in-folder": (lambda c, i: c.chats_in_folder(i[0]), None),
    "folders-list-expanded": (lambda c, i: c.list_folders(), None),
    "folders-get-missing": (lambda c, i: c.get_folder(i[0]), NotFound),
    "chats-move-out-of-folder": (lambda c, i: c.move_to_folder(i[0], None), None),
    "folders-delete": (lambda c, i: c.delete_folder(i[0]), None),
    "chats-delete-imported": (lambda c, i: c.delete_chat(i[0]), None),
    "knowledge-list-empty": (lambda c, i: c.list_knowledge(), None),
    "knowledge-create": (lambda c, i: c.create_knowledge("Handbook"), None),
    "knowledge-list": (lambda c, i: c.list_knowledge(), None),
    "files-upload": (lambda c, i: c.upload_file(HANDBOOK, metadata={"path": "handbook.md"}), None),
    "files-status-stream": (lambda c, i: c.wait_processed(i[0]), None),
    "files-status": (lambda c, i: c.file_status(i[0]), None),
    "files-get": (lambda c, i: c.get_file(i[0]), None),
    "files-list": (lambda c, i: c.list_files(), None),
    "knowledge-file-add": (lambda c, i: c.add_to_knowledge(i[0], "f"), None),
    "knowledge-file-add-again": (lambda c, i: c.add_to_knowledge(i[0], "f"), None),
    "knowledge-list-with-file": (lambda c, i: c.list_knowledge(), None),
    "retrieval-query": (lambda c, i: c.search_knowledge("k", "vacation days"), None),
    "retrieval-query-hybrid": (lambda c, i: c.search_knowledge("k", "vacation days"), None),
    "completion-with-kb": (lambda c, i: _drain(c.stream_completion("m", _ASK)), None),
    "knowledge-access-update": (lambda c, i: c.update_knowledge_access(i[0], _GRANT), None),
    # webui's extension: Open WebUI has no such route (kb add's clean-up goes on without it).
    "files-cancel": (lambda c, i: c.cancel_processing(["f"]), RequestFailed),
    "knowledge-file-remove": (lambda c, i: c.remove_from_knowledge(i[0], "f"), None),
    "files-get-deleted": (lambda c, i: c.get_file(i[0]), NotFound),
    "files-upload-loose": (lambda c, i: c.upload_file(HANDBOOK), None),
    "files-status-stream-loose": (lambda c, i: c.wait_processed(i[0]), None),
    "files-delete": (lambda c, i: c.delete_file(i[0]), None),
    "knowledge-get-missing": (lambda c, i: c.get_knowledge(i[0]), NotFound),
    "knowledge-delete": (lambda c, i: c.delete_knowledge(i[0]), None),
    # --- workspace: prompts ---
    "prompts-list-empty": (lambda c, i: c.list_prompts(), None),
    "prompts-create": (lambda c, i: c.create_prompt("summarize", "Summarise", "x"), None),
    "prompts-create-taken": (
        lambda c, i: c.create_prompt("summarize", "Summarise", "x"),
        RequestFailed,
    ),
    "prompts-list": (lambda c, i: c.find_prompt("/summarize"), None),
    "prompts-get": (lambda c, i: c.get_prompt(i[0]), None),
    "prompts-update": (lambda c, i: c.update_prompt(_prompt(i), content="y"), None),
    "prompts-list-as-user": (lambda c, i: c.list_prompts(), None),
    "prompts-get-as-user": (lambda c, i: c.get_prompt(i[0]), NotFound),
    "prompts-access-update": (lambda c, i: c.update_prompt_access(_prompt(i), _GRANT), None),
    "prompts-list-as-user-shared": (lambda c, i: c.find_prompt("summarize"), None),
    "prompts-get-as-user-shared": (lambda c, i: c.get_prompt(i[0]), None),
    "prompts-update-as-user": (lambda c, i: c.update_prompt(_prompt(i)), AuthFailed),
    "completion-from-prompt": (lambda c, i: _drain(c.stream_completion("m", _ASK)), None),
    "prompts-delete": (lambda c, i: c.delete_prompt(_prompt(i)), None),
    "prompts-get-missing": (lambda c, i: c.get_prompt(i[0]), NotFound),
    # --- workspace: notes ---
    "notes-list-empty": (lambda c, i: c.list_notes(), None),
    "notes-create": (lambda c, i: c.create_note("Ideas", "# Ideas"), None),
    "notes-list": (lambda c, i: c.list_notes(), None),
    "notes-get": (lambda c, i: c.get_note(i[0]), None),
    "notes-update": (lambda c, i: c.update_note(i[0], markdown="# Ideas"), None),
    "notes-list-as-user": (lambda c, i: c.list_notes(), None),
    "notes-get-as-user": (lambda c, i: c.get_note(i[0]), Forbidden),
    "notes-get-as-user-shared": (lambda c, i: c.get_note(i[0]), None),
    "completion-with-note": (lambda c, i: _drain(c.stream_completion("m", _ASK)), None),
    "notes-delete": (lambda c, i: c.delete_note(i[0]), None),
    "notes-get-missing": (lambda c, i: c.get_note(i[0]), NotFound),
    # --- workspace: memories ---
    "memories-list-empty": (lambda c, i: c.list_memories(), None),
    "memories-query-none": (lambda c, i: c.query_memories("what do I eat?", 3), NotFound),
    "memories-add": (lambda c, i: c.add_memory("I am vegetarian.", kind="user"), None),
    "memories-add-context": (lambda c, i: c.add_memory("Working on a thesis."), None),
    "memories-list": (lambda c, i: c.list_memories(), None),
    "memories-query": (lambda c, i: c.query_memories("what do I eat?", 3), None),
    "memories-update": (lambda c, i: c.update_memory(i[0], content="I am vegan."), None),
    "memories-update-missing": (lambda c, i: c.update_memory(i[0], content="x"), NotFound),
    "completion-with-memory": (lambda c, i: _drain(c.stream_completion("m", _ASK)), None),
    "memories-reset": (lambda c, i: c.reset_memories(), None),
    "memories-list-as-user": (lambda c, i: c.list_memories(), None),
    "memories-delete": (lambda c, i: c.delete_memory(i[0]), None),
    "memories-delete-missing": (lambda c, i: c.delete_memory(i[0]), None),
    "memories-clear": (lambda c, i: c.clear_memories(), None),
    "memories-list-cleared": (lambda c, i: c.list_memories(), None),
    # --- images ---
    "files-upload-image": (
        lambda c, i: c.upload_file(PHOTO, process=False, content_type="image/png"),
        None,
    ),
    "files-get-image": (lambda c, i: c.get_file(i[0]), None),
    "completion-with-image": (lambda c, i: _drain(c.stream_completion("m", _ASK_IMAGE)), None),
    "files-delete-image": (lambda c, i: c.delete_file(i[0]), None),
    # --- tools ---
    "tools-list": (lambda c, i: c.list_tools(), None),
    "tools-list-as-user": (lambda c, i: c.list_tools(), None),
    "tool-servers-config": (lambda c, i: c.tool_server_connections(), None),
    "tool-servers-verify": (lambda c, i: c.verify_tool_server({"url": "http://t"}), None),
    "tool-servers-config-update": (lambda c, i: c.set_tool_server_connections([]), None),
    "tools-list-with-server": (lambda c, i: c.list_tools(), None),
    "tools-specs-openapi": (lambda c, i: c.tool_specs("server:weather"), NotFound),
    "tool-servers-config-clear": (lambda c, i: c.set_tool_server_connections([]), None),
    "tool-servers-config-as-user": (lambda c, i: c.tool_server_connections(), AuthFailed),
    "tool-servers-verify-unreachable": (
        lambda c, i: c.verify_tool_server({"url": "http://127.0.0.1:9"}),
        RequestFailed,
    ),
    # webui's extensions: Open WebUI's web page answers; one line says the route is not there.
    "webui-generations": (lambda c, i: c.generations(), NotFound),
    "webui-usage": (lambda c, i: c.usage(), NotFound),
    "chats-delete": (lambda c, i: c.delete_chat(i[0]), None),
    "users-delete": (lambda c, i: c.delete_user(i[0]), None),
    "apikey-delete": (lambda c, i: c.delete_api_key(), None),
    "apikey-get-none": (lambda c, i: c.get_api_key(), NotFound),
    "auths-signout": (lambda c, i: c.signout(), None),
}

# Steps read together with another recording (a second request of the same call).
TOGETHER = {
    "knowledge-get-empty": ("knowledge-files-empty",),
    "knowledge-files-empty": ("knowledge-get-empty",),
    "knowledge-get": ("knowledge-files",),
    "knowledge-files": ("knowledge-get",),
    "knowledge-get-as-user": ("knowledge-files",),
    "auths-session-api-key": ("users-status-api-key",),
    "users-status-api-key": ("auths-session-api-key",),
}
CALLS |= {
    "knowledge-get-empty": (lambda c, i: c.get_knowledge(i[0]), None),
    "knowledge-files-empty": (lambda c, i: c.get_knowledge(i[0]), None),
    "knowledge-get": (lambda c, i: c.get_knowledge(i[0]), None),
    "knowledge-files": (lambda c, i: c.get_knowledge(i[0]), None),
    "knowledge-get-as-user": (lambda c, i: c.get_knowledge(i[0]), None),
    "auths-session-api-key": (lambda c, i: c.whoami(), None),
    "users-status-api-key": (lambda c, i: c.whoami(), None),
}
# Calls whose result is None: not a webui daemon; a delete that returns nothing.
ANSWER_NONE = {"webui-info", "files-delete", "files-delete-image"}
NOT_SENT = {
    "auths-signup-first": "the client signs in; it never signs up",
    "notes-access-update": "no `webui notes access` yet (a note is shared from the web app)",
    "tool-servers-verify-no-key": "what the client sends lacking `key`: it always sends one now",
}


def test_every_step_is_called_or_said_not_sent() -> None:
    names = {step.name for step in STEPS}
    assert names == set(CALLS) | set(NOT_SENT), names ^ (set(CALLS) | set(NOT_SENT))


@pytest.mark.parametrize("name", [step.name for step in STEPS if step.name in CALLS])
async def test_the_client_reads_the_recorded_answer(name: str) -> None:
    replay = Replay(name, *TOGETHER.get(name, ()))
    call, error = CALLS[name]
    token = API_KEY if load(name)["who"] == "key" else None
    async with replay.client(token=token) if token else replay.client() as client:
        if error is None:
            result = await call(client, _ids(name))
            assert result is not None or name in ANSWER_NONE
        else:
            with pytest.raises(error) as raised:
                await call(client, _ids(name))
            assert "\n" not in raised.value.message and raised.value.message
    assert not replay.misses, replay.misses
    assert name in replay.used


async def test_whoami_with_an_api_key_falls_back_to_the_user_record() -> None:
    replay = Replay("auths-session-api-key", "users-status-api-key")
    async with replay.client(token=API_KEY) as client:
        me = await client.whoami()
    assert (me.email, me.role) == ("ada@example.com", "admin")
    assert replay.used == ["auths-session-api-key", "users-status-api-key"]


async def test_a_knowledge_base_lists_its_files_from_the_files_route() -> None:
    replay = Replay("knowledge-get", "knowledge-files")
    async with replay.client() as client:
        kb = await client.get_knowledge(_ids("knowledge-get")[0])
    assert [(f.filename, f.status) for f in kb.files] == [("handbook.md", "completed")]
    assert kb.files[0].meta["size"] > 0


async def test_search_reads_hits_without_ids() -> None:
    replay = Replay("retrieval-query")
    async with replay.client() as client:
        hits = await client.search_knowledge("k", "vacation days")
    assert hits.documents[0] and len(hits.documents[0]) == len(hits.distances[0])
    assert hits.metadatas[0][0]["name"] == "handbook.md"


async def test_a_completion_with_a_knowledge_base_gets_its_sources() -> None:
    replay = Replay("completion-with-kb")
    async with replay.client() as client:
        stream = await _drain(client.stream_completion("m", _ASK, files=[]))
    assert stream.content and stream.sources
    assert stream.sources[0]["source"]["name"] == "Handbook"


async def test_the_folder_list_reads_without_user_ids() -> None:
    replay = Replay("folders-list")
    async with replay.client() as client:
        folders = await client.list_folders()
    assert [f.name for f in folders] == ["Work", "Drafts"]


async def test_an_answer_of_the_wrong_shape_is_one_line_naming_route_and_field() -> None:
    replay = Replay("groups-list")  # a list where one group is expected
    async with replay.client() as client:
        with pytest.raises(BadResponse) as raised:
            await client._get("/api/v1/groups/", GroupResponse)
    assert raised.value.message.startswith("unexpected answer from /api/v1/groups/: ")
    assert "\n" not in raised.value.message
