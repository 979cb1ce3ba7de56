"""(a) `webui` commands against Open WebUI 0.12.4's recorded answers, run in this process with the
recordings as the transport (`cli.app.run(args, transport=...)`)."""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.contract.replay import API_KEY, JWT, URL, Replay
from tests.contract.scenario import HANDBOOK, PHOTO, load
from webui_tui.cli.app import run


@dataclass
class Ran:
    code: int
    out: str
    err: str


Invoke = Callable[..., Ran]


@pytest.fixture
def webui(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Invoke:
    """`webui(replay, *args, token=...)`: the command line on the recordings, in this process."""
    monkeypatch.setenv("WEBUI_URL", URL)
    monkeypatch.delenv("WEBUI_CLIENT_TURNS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing piped in

    def invoke(replay: Replay, *args: str, token: str = JWT) -> Ran:
        monkeypatch.setenv("WEBUI_TOKEN", token)
        code = run(list(args), transport=replay.transport)
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        assert not replay.misses, replay.misses
        return Ran(code, out, err)

    return invoke


def _chat_id() -> str:
    return str(load("chats-new")["body"]["id"])


def _one_line(ran: Ran) -> str:
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("webui: "), ran.err
    return lines[0]


def test_status_with_an_api_key_names_the_user(webui: Invoke) -> None:
    replay = Replay("version", "webui-info", "auths-session-api-key", "users-status-api-key")
    ran = webui(replay, "status", "--json", token=API_KEY)
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    assert report["server"] == "open-webui" and report["api_version"] == "0.12.4"
    assert report["user"]["email"] == "ada@example.com"
    assert report["identified_by"] == "api-key" and report["problem"] is None


def test_status_with_a_session(webui: Invoke) -> None:
    ran = webui(Replay("version", "webui-info", "auths-session"), "status")
    assert ran.code == 0, ran.err
    assert "Open WebUI server 0.12.4, reachable" in ran.out
    assert "Ada Admin <ada@example.com>, admin (by token)" in ran.out


def test_kb_create_list_show(webui: Invoke) -> None:
    ran = webui(Replay("knowledge-list-empty", "knowledge-create"), "kb", "create", "Handbook")
    assert ran.code == 0 and "Created knowledge base 'Handbook'" in ran.out, ran.err
    ran = webui(Replay("knowledge-list-with-file"), "kb", "list")
    assert ran.code == 0 and "Handbook" in ran.out, ran.err
    shown = Replay("knowledge-list-with-file", "knowledge-get", "knowledge-files")
    ran = webui(shown, "kb", "show", "Handbook", "--json")
    assert ran.code == 0, ran.err
    files = json.loads(ran.out)["files"]
    assert [(f["filename"], f["status"]) for f in files] == [("handbook.md", "completed")]


def test_kb_show_an_empty_base(webui: Invoke) -> None:
    replay = Replay("knowledge-list", "knowledge-get-empty", "knowledge-files-empty")
    ran = webui(replay, "kb", "show", "Handbook", "--json")
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["files"] == []


def test_kb_add_waits_for_processing_then_adds(webui: Invoke) -> None:
    replay = Replay(
        "knowledge-list",
        "knowledge-get-empty",
        "knowledge-files-empty",
        "files-upload",
        "files-status-stream",
        "knowledge-file-add",
    )
    ran = webui(replay, "kb", "add", "Handbook", str(HANDBOOK), "--json")
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    assert [f["status"] for f in report["files"]] == ["added"], report


def test_kb_search_shows_hits(webui: Invoke) -> None:
    replay = Replay("knowledge-list-with-file", "retrieval-query")
    ran = webui(replay, "kb", "search", "Handbook", "vacation days")
    assert ran.code == 0, ran.err
    assert "25 vacation days" in ran.out and "handbook.md" in ran.out


def test_kb_remove_a_file_and_rm_the_base(webui: Invoke) -> None:
    replay = Replay(
        "knowledge-list-with-file", "knowledge-get", "knowledge-files", "knowledge-file-remove"
    )
    ran = webui(replay, "kb", "remove", "Handbook", "handbook.md")
    assert ran.code == 0, ran.err
    replay = Replay(
        "knowledge-list-with-file", "knowledge-get", "knowledge-files", "knowledge-delete"
    )
    ran = webui(replay, "kb", "rm", "Handbook", "--yes", "--keep-files")
    assert ran.code == 0 and "Deleted knowledge base 'Handbook'" in ran.out, ran.err


def test_chat_saves_the_turn_from_the_client(webui: Invoke) -> None:
    replay = Replay(
        "users-settings", "webui-info", "chats-new", "completion-stream", "chats-update-turn"
    )
    ran = webui(replay, "chat", "--json", "Why is the sky blue?")
    assert ran.code == 0, ran.err
    answer = json.loads(ran.out)
    assert answer["content"].startswith("tok0") and answer["chat_id"] == _chat_id()
    saved = [r for r in replay.requests if r.url.path == f"/api/v1/chats/{_chat_id()}"]
    assert saved and json.loads(saved[-1].content)["chat"]["history"]["currentId"]


def test_chat_continues_the_last_chat(webui: Invoke) -> None:
    replay = Replay(
        "chats-list-page", "chats-get", "webui-info", "chats-update-turn", "completion-stream"
    )
    ran = webui(replay, "chat", "-c", "And at sunset?")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("tok0")


def test_chat_temporary_and_with_a_model(webui: Invoke) -> None:
    replay = Replay("completion-stream-openai")
    ran = webui(replay, "chat", "-m", "gpt-4o-mini", "--temporary", "Hi")
    assert ran.code == 0 and ran.out.startswith("tok0"), ran.err


def test_chat_with_a_knowledge_base_cites_sources(webui: Invoke) -> None:
    replay = Replay(
        "users-settings",
        "knowledge-list-with-file",
        "webui-info",
        "chats-new",
        "completion-with-kb",
        "chats-update-turn",
    )
    ran = webui(replay, "chat", "--kb", "Handbook", "How many vacation days do I get?")
    assert ran.code == 0, ran.err
    assert "Sources:\n[1] handbook.md" in ran.out


def test_chat_with_an_unknown_model_is_one_line(webui: Invoke) -> None:
    replay = Replay("webui-info", "chats-new", "completion-unknown-model", "chats-delete")
    ran = webui(replay, "chat", "-m", "no-such-model", "Hi")
    assert ran.code == 2
    assert "Model not found: no-such-model" in _one_line(ran)
    assert "chats-delete" in replay.used  # the refused new chat is not left behind


def test_chat_attach_says_it_needs_a_webui_daemon(webui: Invoke) -> None:
    ran = webui(Replay("webui-info"), "chat", "--attach", _chat_id())
    assert ran.code == 2
    assert "--attach needs a webui daemon" in _one_line(ran)


def test_chats_commands(webui: Invoke) -> None:
    chat_id = _chat_id()
    ran = webui(Replay("chats-list"), "chats", "list")
    assert ran.code == 0 and "Sky colours" in ran.out, ran.err
    ran = webui(Replay("chats-search"), "chats", "search", "sky")
    assert ran.code == 0 and chat_id in ran.out, ran.err
    ran = webui(Replay("chats-get"), "chats", "show", chat_id)
    assert ran.code == 0 and "Why is the sky blue?" in ran.out, ran.err
    # A whole id is looked up once (GET), then acted on.
    ran = webui(Replay("chats-get", "chats-pin"), "chats", "pin", chat_id)
    assert ran.code == 0, ran.err
    ran = webui(Replay("chats-get", "chats-archive"), "chats", "archive", chat_id)
    assert ran.code == 0, ran.err
    ran = webui(Replay("chats-export"), "chats", "export", "--format", "json")
    assert ran.code == 0 and json.loads(ran.out)[0]["id"] == chat_id, ran.err
    missing = load("chats-get-missing")["request"]["path"].rsplit("/", 1)[1]
    ran = webui(Replay("chats-get-missing"), "chats", "show", missing)
    assert ran.code == 2 and _one_line(ran)


def test_models_users_groups_connections(webui: Invoke) -> None:
    ran = webui(Replay("models", "users-settings"), "models", "list")
    assert ran.code == 0 and "llama3.1:8b" in ran.out and "*" in ran.out, ran.err
    ran = webui(
        Replay("models-with-preset", "users-settings", "models-get-record"),
        "models",
        "show",
        "terse",
    )
    assert ran.code == 0 and "Answer in one line." in ran.out, ran.err
    ran = webui(
        Replay("models", "models-create-preset"),
        "models",
        "preset",
        "create",
        "terse",
        "--base",
        "llama3.1:8b",
        "-s",
        "Be brief.",
    )
    assert ran.code == 0 and "Created preset terse" in ran.out, ran.err
    ran = webui(Replay("users-list"), "users", "list")
    assert ran.code == 0 and "bob@example.com" in ran.out, ran.err
    ran = webui(Replay("groups-list-with-member"), "groups", "list")
    assert ran.code == 0 and "research" in ran.out, ran.err
    ran = webui(Replay("ollama-config", "openai-config", "webui-info"), "connections", "list")
    assert ran.code == 0 and "{ollama_url}" in ran.out, ran.err
    ran = webui(Replay("apikey-get"), "apikey", "show")
    assert ran.code == 0, ran.err


def test_ps_says_open_webui_does_not_list_generations(webui: Invoke) -> None:
    ran = webui(Replay("webui-generations"), "ps")
    assert ran.code == 2
    assert "/api/webui/generations" in _one_line(ran)


# --- the workspace: prompts, notes, memories; images; tools ---


def _recorded_id(name: str) -> str:
    return str(load(name)["body"]["id"])


def _sent(replay: Replay, path: str) -> dict[str, Any]:
    """The JSON body of the last request the command sent to `path`."""
    bodies = [json.loads(r.content) for r in replay.requests if r.url.path == path]
    assert bodies, f"nothing sent to {path}"
    return dict(bodies[-1])


def test_prompts_create_list_show_edit_rm(webui: Invoke, tmp_path: Path) -> None:
    template = tmp_path / "summarize.md"
    template.write_text("Summarise {{text}} in {{words}} words.", encoding="utf-8")
    ran = webui(
        Replay("prompts-list-empty", "prompts-create"),
        *("prompts", "create", "summarize", "-n", "Summarise", "-f", str(template)),
        *("-t", "writing"),
    )
    assert ran.code == 0 and "/summarize" in ran.out, ran.err
    ran = webui(Replay("prompts-list"), "prompts", "list")
    assert ran.code == 0 and "/summarize" in ran.out and "Summarise" in ran.out, ran.err
    ran = webui(Replay("prompts-list", "prompts-get"), "prompts", "show", "/summarize")
    assert ran.code == 0 and "Summarise {{text}} in {{words}} words." in ran.out, ran.err
    template.write_text("Summarise {{text}} in {{words | 20}} words.", encoding="utf-8")
    replay = Replay("prompts-list", "prompts-get", "prompts-update")
    ran = webui(replay, "prompts", "edit", "summarize", "-f", str(template))
    assert ran.code == 0, ran.err
    assert "prompts-update" in replay.used
    replay = Replay("prompts-list", "prompts-get", "prompts-delete")
    ran = webui(replay, "prompts", "rm", "summarize", "--yes")
    assert ran.code == 0 and "summarize" in ran.out, ran.err


def test_prompts_a_taken_command_is_one_line(webui: Invoke, tmp_path: Path) -> None:
    template = tmp_path / "t.md"
    template.write_text("x", encoding="utf-8")
    replay = Replay("prompts-list-empty", "prompts-create-taken")
    ran = webui(replay, "prompts", "create", "summarize", "-f", str(template))
    assert ran.code != 0
    assert "already registered" in _one_line(ran)


def test_prompts_another_users_prompt_is_not_found(webui: Invoke) -> None:
    ran = webui(Replay("prompts-list-as-user"), "prompts", "show", "summarize")
    assert ran.code != 0 and "/summarize" in _one_line(ran)


def test_prompts_access_export_import(webui: Invoke, tmp_path: Path) -> None:
    replay = Replay(
        "prompts-list", "prompts-get", "users-search", "users-list", "prompts-access-update"
    )
    ran = webui(replay, "prompts", "access", "summarize", "--user", "bob@example.com")
    assert ran.code == 0, ran.err
    grants = _sent(replay, f"/api/v1/prompts/id/{_recorded_id('prompts-get')}/access/update")
    assert grants["access_grants"][-1]["permission"] == "read"
    exported = tmp_path / "prompts.json"
    ran = webui(Replay("prompts-list"), "prompts", "export", "-o", str(exported))
    assert ran.code == 0, ran.err
    assert [p["command"] for p in json.loads(exported.read_text())] == ["summarize"]
    ran = webui(Replay("prompts-list-empty", "prompts-create"), "prompts", "import", str(exported))
    assert ran.code == 0, ran.err


def test_chat_with_a_prompt_and_its_variables(webui: Invoke) -> None:
    replay = Replay("users-settings", "prompts-list", "auths-session", "completion-from-prompt")
    ran = webui(
        replay,
        *("chat", "--temporary", "-p", "summarize", "--var", "text=the sky"),
        *("--var", "words=20"),
    )
    assert ran.code == 0 and ran.out.startswith("tok0"), ran.err
    asked = _sent(replay, "/api/chat/completions")["messages"][-1]["content"]
    assert asked == "Summarise the sky in 20 words."


def test_notes_new_list_show_edit_rm(webui: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("# Ideas\n- the sky is blue\n"))
    ran = webui(Replay("notes-create"), "notes", "new", "Ideas")
    assert ran.code == 0 and "Ideas" in ran.out, ran.err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    ran = webui(Replay("notes-list"), "notes", "list")
    assert ran.code == 0 and "Ideas" in ran.out and "Ada Admin" in ran.out, ran.err
    ran = webui(Replay("notes-list", "notes-get"), "notes", "show", "Ideas")
    assert ran.code == 0 and "the sky is blue" in ran.out, ran.err
    monkeypatch.setattr("sys.stdin", io.StringIO("# Ideas\n- the sea is blue too\n"))
    replay = Replay("notes-list", "notes-get", "notes-update")
    ran = webui(replay, "notes", "edit", "Ideas")
    assert ran.code == 0 and "notes-update" in replay.used, ran.err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    ran = webui(Replay("notes-list", "notes-get", "notes-delete"), "notes", "rm", "Ideas", "--yes")
    assert ran.code == 0 and "Deleted note 'Ideas'" in ran.out, ran.err


def test_notes_another_users_note_is_one_line(webui: Invoke) -> None:
    note_id = _recorded_id("notes-get")
    ran = webui(Replay("notes-get-as-user"), "notes", "show", note_id)
    assert ran.code != 0 and _one_line(ran)


def test_chat_with_a_note(webui: Invoke) -> None:
    replay = Replay("users-settings", "notes-list", "notes-get", "completion-with-note")
    ran = webui(replay, "chat", "--temporary", "--note", "Ideas", "What colour is the sea?")
    assert ran.code == 0 and ran.out.startswith("tok0"), ran.err
    files = _sent(replay, "/api/chat/completions")["files"]
    assert files == [
        {"type": "note", "id": _recorded_id("notes-get"), "name": "Ideas", "status": "processed"}
    ]


def test_memories_add_list_search_edit_rm_clear(webui: Invoke) -> None:
    memory_id = _recorded_id("memories-add")
    ran = webui(Replay("memories-add"), "memories", "add", "--user", "I am vegetarian.")
    assert ran.code == 0 and memory_id in ran.out, ran.err
    ran = webui(Replay("memories-list"), "memories", "list")
    assert ran.code == 0 and "I am vegetarian." in ran.out and "thesis" in ran.out, ran.err
    replay = Replay("memories-query", "memories-list")
    ran = webui(replay, "memories", "search", "what", "do", "I", "eat?")
    assert ran.code == 0 and "I am vegetarian." in ran.out, ran.err
    replay = Replay("memories-list", "memories-update")
    ran = webui(replay, "memories", "edit", memory_id, "I am vegan.")
    assert ran.code == 0 and "memories-update" in replay.used, ran.err
    ran = webui(Replay("memories-list", "memories-delete"), "memories", "rm", memory_id)
    assert ran.code == 0, ran.err
    ran = webui(Replay("memories-list", "memories-clear"), "memories", "clear", "--yes")
    assert ran.code == 0, ran.err


def test_memories_search_with_none_says_so(webui: Invoke) -> None:
    ran = webui(Replay("memories-query-none", "memories-list-empty"), "memories", "search", "food")
    assert ran.code == 0, ran.err


def test_chat_with_memories_on_for_one_request(webui: Invoke) -> None:
    replay = Replay("users-settings", "completion-with-memory")
    ran = webui(replay, "chat", "--temporary", "--memory", "What should I cook tonight?")
    assert ran.code == 0 and ran.out.startswith("tok0"), ran.err
    assert _sent(replay, "/api/chat/completions")["features"] == {"memory": True}


def test_chat_with_an_image(webui: Invoke) -> None:
    replay = Replay("users-settings", "files-upload-image", "completion-with-image")
    ran = webui(replay, "chat", "--temporary", "-f", str(PHOTO), "What is in this picture?")
    assert ran.code == 0 and ran.out.startswith("tok0"), ran.err
    upload = next(r for r in replay.requests if r.url.path == "/api/v1/files/")
    assert upload.url.params["process"] == "false"
    content = _sent(replay, "/api/chat/completions")["messages"][-1]["content"]
    url = f"/api/v1/files/{_recorded_id('files-upload-image')}/content"
    assert content[-1] == {"type": "image_url", "image_url": {"url": url}}


def test_chat_with_an_image_saves_it_in_the_chat(webui: Invoke) -> None:
    replay = Replay(
        "users-settings",
        "files-upload-image",
        "webui-info",
        "chats-new",
        "completion-with-image",
        "chats-update-turn",
    )
    ran = webui(replay, "chat", "-f", str(PHOTO), "What is in this picture?")
    assert ran.code == 0, ran.err
    saved = _sent(replay, f"/api/v1/chats/{_chat_id()}")["chat"]["history"]["messages"]
    files = [f for m in saved.values() for f in m.get("files") or []]
    assert [(f["type"], f["name"]) for f in files] == [("image", "photo.png")]


def test_tools_list_and_rm(webui: Invoke) -> None:
    ran = webui(Replay("tools-list"), "tools", "list")
    assert ran.code == 0, ran.err
    ran = webui(Replay("tool-servers-config"), "tools", "rm", "server:0")
    assert ran.code != 0 and "no tool server server:0" in _one_line(ran)
    ran = webui(Replay("tools-list-as-user"), "tools", "list")
    assert ran.code == 0, ran.err


def test_tools_config_as_a_user_is_one_line(webui: Invoke) -> None:
    ran = webui(Replay("tool-servers-config-as-user"), "tools", "rm", "server:0")
    assert ran.code != 0 and _one_line(ran)


def test_tools_add_sends_what_open_webui_requires_and_an_unreachable_server_is_one_line(
    webui: Invoke,
) -> None:
    replay = Replay("tool-servers-verify-unreachable")
    ran = webui(replay, "tools", "add", "http://127.0.0.1:9", "--id", "weather")
    assert ran.code != 0 and _one_line(ran)
    sent = _sent(replay, "/api/v1/configs/tool_servers/verify")
    assert {"key", "auth_type", "config"} <= set(sent), sent  # 0.12.4: 422 without them


def test_tools_test_of_an_openapi_server_says_open_webui_lists_mcp_ones_only(
    webui: Invoke,
) -> None:
    replay = Replay("tools-specs-openapi", "webui-info", "tools-list-with-server")
    ran = webui(replay, "tools", "test", "server:weather")
    assert ran.code != 0
    assert "MCP tool servers only" in _one_line(ran)
    ran = webui(Replay("tools-list-with-server"), "tools", "list")
    assert ran.code == 0 and "server:weather" in ran.out and "Weather" in ran.out, ran.err
