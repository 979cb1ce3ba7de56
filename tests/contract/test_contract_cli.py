"""(a) `webui` commands against Open WebUI 0.12.4's recorded answers, run in this process with the
recordings as the transport (`cli.app.run(args, transport=...)`)."""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.contract.replay import API_KEY, JWT, URL, Replay
from tests.contract.scenario import HANDBOOK, load
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
    ran = webui(Replay("ollama-config", "openai-config"), "connections", "list")
    assert ran.code == 0 and "{ollama_url}" in ran.out, ran.err
    ran = webui(Replay("apikey-get"), "apikey", "show")
    assert ran.code == 0, ran.err


def test_ps_says_open_webui_does_not_list_generations(webui: Invoke) -> None:
    ran = webui(Replay("webui-generations"), "ps")
    assert ran.code == 2
    assert "/api/webui/generations" in _one_line(ran)
