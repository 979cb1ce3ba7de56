"""The client's chat side: SSE parsing, transcripts, connection settings (units), and
streaming turns, stop, attach, models, chats against a real daemon with a stand-in."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import MODEL, OTHER_MODEL, standin_env
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama
from webui_daemon.schemas.chats import ChatResponse
from webui_daemon.schemas.connections import OllamaConfigForm, OpenAIConfigForm
from webui_tui.client.api import WebUIClient
from webui_tui.client.chats import json_or_ndjson
from webui_tui.client.connections import _reindex, connections_of, guess_kind
from webui_tui.client.discovery import Target
from webui_tui.client.errors import BadResponse, DaemonUnreachable, NotFound, RequestFailed
from webui_tui.client.sse import (
    DONE,
    ContentDelta,
    Finish,
    ReasoningDelta,
    SelectedModel,
    Sources,
    StreamError,
    ToolCallsDelta,
    Usage,
    chunk_events,
    sse_data,
)
from webui_tui.client.transcript import branch, last_answer, to_markdown

REPLY = "Hello from the stand-in."

# ---- units ------------------------------------------------------------------------------------


async def _lines(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line


async def _collect(lines: AsyncIterator[str]) -> list[str]:
    return [data async for data in sse_data(lines)]


async def test_sse_data_reads_events_up_to_done() -> None:
    lines = _lines(
        ": keep-alive comment",
        "event: message",
        'data: {"a": 1}',
        "",
        "data:no-space",
        "",
        "data: first line",
        "data: second line",
        "",
        "",
        "data: [DONE]",
        "",
        'data: {"after": "done"}',
        "",
    )
    assert await _collect(lines) == ['{"a": 1}', "no-space", "first line\nsecond line", DONE]
    # A body cut short: what came is yielded, and no [DONE].
    assert await _collect(_lines('data: {"b": 2}')) == ['{"b": 2}']


def _chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


def test_chunk_events_are_typed() -> None:
    assert chunk_events(_chunk({"role": "assistant", "content": "Hi"})) == [ContentDelta("Hi")]
    assert chunk_events(_chunk({"role": "assistant", "content": ""})) == []
    assert chunk_events(_chunk({"reasoning_content": "hmm"})) == [ReasoningDelta("hmm")]
    calls = [{"index": 0, "function": {"name": "f", "arguments": "{}"}}]
    assert chunk_events(_chunk({"tool_calls": calls})) == [ToolCallsDelta(tuple(calls))]
    usage = {"prompt_tokens": 1, "completion_tokens": 2}
    assert chunk_events(_chunk({}, "stop", usage=usage)) == [Finish("stop"), Usage(usage)]
    assert chunk_events({"choices": [], "usage": usage}) == [Usage(usage)]
    source = {"source": {"id": "f1", "name": "a.pdf"}, "document": ["x"], "metadata": [{}]}
    assert chunk_events({"sources": [source]}) == [Sources((source,))]
    assert chunk_events({"selected_model_id": "m"}) == [SelectedModel("m")]
    assert chunk_events({"error": {"message": "boom"}}) == [StreamError("boom")]
    assert chunk_events({"error": {"detail": "bad"}}) == [StreamError("bad")]
    assert chunk_events({"error": None, "something": 1}) == []
    assert chunk_events(["not", "an", "object"]) == []


def _msg(mid: str, parent: str | None, role: str, content: str) -> dict[str, Any]:
    return {"id": mid, "parentId": parent, "role": role, "content": content}


def test_branch_follows_the_current_leaf() -> None:
    messages = {
        "u1": _msg("u1", None, "user", "q"),
        "a1": _msg("a1", "u1", "assistant", "old"),
        "a2": _msg("a2", "u1", "assistant", "new") | {"model": MODEL, "interrupted": True},
    }
    document = {"history": {"messages": messages, "currentId": "a2"}, "messages": []}
    assert [m["id"] for m in branch(document)] == ["u1", "a2"]
    assert [m["id"] for m in branch(document, "a1")] == ["u1", "a1"]
    assert last_answer(document) == messages["a2"]
    # No tree: the linear list; a cycle in a broken tree ends the walk.
    assert branch({"messages": [messages["u1"]]}) == [messages["u1"]]
    looped = {"x": _msg("x", "y", "user", "a"), "y": _msg("y", "x", "assistant", "b")}
    assert len(branch({"history": {"messages": looped, "currentId": "x"}})) == 2

    chat = ChatResponse(id="c1", user_id="u", title="T", chat=document, created_at=0, updated_at=0)
    md = to_markdown(chat)
    assert md.startswith("# T\n") and "### You\n\nq" in md
    assert f"### {MODEL} (stopped)\n\nnew" in md and "old" not in md


def test_connection_settings_views() -> None:
    ollama = OllamaConfigForm(
        ENABLE_OLLAMA_API=True,
        OLLAMA_BASE_URLS=["http://a", "http://b"],
        OLLAMA_API_CONFIGS={"1": {"key": "k-123456789012", "enable": False}},
    )
    openai = OpenAIConfigForm(
        ENABLE_OPENAI_API=False, OPENAI_API_BASE_URLS=["http://c/v1"], OPENAI_API_KEYS=[]
    )
    listed = connections_of(ollama, openai)
    assert [(c.kind, c.url, c.enabled) for c in listed] == [
        ("ollama", "http://a", True),
        ("ollama", "http://b", False),
        ("openai", "http://c/v1", False),
    ]
    assert listed[1].masked_key == "k-1…9012" and listed[2].key == ""
    assert _reindex({"0": {"a": 1}, "1": {"b": 2}, "2": {"c": 3}, "http://x": {}}, 1) == {
        "0": {"a": 1},
        "1": {"c": 3},
        "http://x": {},
    }
    assert guess_kind("http://host:8000/v1/") == "openai"
    assert guess_kind("http://host:11434") == "ollama"


def test_json_or_ndjson() -> None:
    assert json_or_ndjson(b'[{"a": 1}]') == [{"a": 1}]
    assert json_or_ndjson(b'{"a": 1}\n{"a": 2}\n') == [{"a": 1}, {"a": 2}]
    with pytest.raises(ValueError):
        json_or_ndjson(b"nope")


# ---- against a daemon -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, OTHER_MODEL], reply=REPLY)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _fresh(request: pytest.FixtureRequest) -> None:
    if "standin" in request.fixturenames:
        request.getfixturevalue("standin").reset(models=[MODEL, OTHER_MODEL], reply=REPLY)


daemon = daemon_fixture(env=lambda standin: standin_env(standin), tmp="client-chat")


@pytest.fixture
async def client(daemon: DaemonProc) -> AsyncIterator[WebUIClient]:
    async with WebUIClient(Target(source="argument", socket=daemon.socket_path)) as c:
        yield c


async def test_a_turn_streams_typed_events_and_is_saved(client: WebUIClient) -> None:
    chat = await client.new_chat(MODEL, system="Be kind.")
    assert chat.title == "New Chat" and chat.chat["system"] == "Be kind."
    async with client.stream_turn(chat.id, "hi", MODEL, parent_id=None) as stream:
        events = [event async for event in stream]
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == REPLY
    assert isinstance(events[-1], Usage) and Finish("stop") in events
    assert stream.content == REPLY and stream.done and stream.error is None
    assert stream.usage is not None and stream.finish_reason == "stop"
    summary = stream.summary()
    assert summary["chat_id"] == chat.id and summary["model"] == MODEL

    saved = await client.get_chat(chat.id)
    path = branch(saved.chat)
    assert [m["id"] for m in path] == [stream.user_message_id, stream.message_id]
    assert path[1]["content"] == REPLY and path[1]["done"] is True

    # The next turn goes under the current leaf; attach to a finished answer gives it whole.
    async with client.stream_turn(chat.id, "again", MODEL, parent_id=path[1]["id"]) as second:
        [event async for event in second]
    async with client.attach(chat.id, second.message_id or "") as attached:
        [event async for event in attached]
    assert attached.content == REPLY and attached.model == MODEL
    assert (await client.last_chat()) is not None


async def test_refusals_come_before_any_event(client: WebUIClient) -> None:
    chat = await client.new_chat(MODEL)
    with pytest.raises(RequestFailed) as refused:
        async with client.stream_turn(chat.id, "hi", "ghost:1b", parent_id=None):
            pass
    assert refused.value.status == 400 and "Model not found" in refused.value.message
    with pytest.raises(NotFound):
        await client.get_model("ghost:1b")


async def test_stop_keeps_what_arrived(client: WebUIClient, standin: StandIn) -> None:
    standin.set(tokens=300, token_delay=0.02)
    chat = await client.new_chat(MODEL)
    async with client.stream_turn(chat.id, "count", MODEL, parent_id=None) as stream:
        seen = 0
        async for event in stream:
            seen += isinstance(event, ContentDelta)
            if seen == 5 and isinstance(event, ContentDelta):
                assert await client.chat_tasks(chat.id) == [stream.message_id]
                assert await client.stop_chat(chat.id) is True
    assert 5 <= len(stream.content.split()) < 300
    assert await client.chat_tasks(chat.id) == []
    answer = last_answer((await client.get_chat(chat.id)).chat)
    assert answer is not None
    assert answer["interrupted"] is True and answer["content"] == stream.content
    assert await client.stop_message(stream.message_id or "") is False  # not running now


async def test_attach_while_generating(client: WebUIClient, standin: StandIn) -> None:
    standin.set(tokens=30, token_delay=0.03)
    chat = await client.new_chat(MODEL)
    async with client.stream_turn(chat.id, "count", MODEL, parent_id=None) as stream:
        text = ""
        async for event in stream:
            text += event.text if isinstance(event, ContentDelta) else ""
            if "tok3 " in text:  # one event may carry several tokens (batching)
                break  # hang up: the daemon goes on
    running = await client.chat_tasks(chat.id)
    assert running == [stream.message_id]
    async with client.attach(chat.id, running[0]) as attached:
        [event async for event in attached]
    assert attached.content == "".join(f"tok{i} " for i in range(30))


async def test_temporary_and_non_streaming_completions(
    client: WebUIClient, standin: StandIn
) -> None:
    messages = [{"role": "user", "content": "hi"}]
    async with client.stream_completion(MODEL, messages, temperature=0.1) as stream:
        [event async for event in stream]
    assert stream.content == REPLY and stream.chat_id is None
    assert standin.chats()[-1].body["options"]["temperature"] == 0.1
    reply = await client.complete(MODEL, messages)
    assert reply["choices"][0]["message"]["content"] == REPLY


async def test_a_cut_answer_ends_with_an_error_event(client: WebUIClient, standin: StandIn) -> None:
    standin.set(tokens=10, cut_after=3)
    async with client.stream_completion(MODEL, [{"role": "user", "content": "x"}]) as stream:
        events = [event async for event in stream]
    assert isinstance(events[-1], StreamError) and stream.error
    assert stream.content == "tok0 tok1 tok2 "


async def test_models_settings_and_chats(client: WebUIClient) -> None:
    assert [m.id for m in await client.list_models()][:2] == [MODEL, OTHER_MODEL]
    await client.set_default_model(None)
    assert await client.default_model() is None and await client.pick_model() == MODEL
    await client.set_default_model(OTHER_MODEL)
    assert await client.pick_model() == OTHER_MODEL
    assert (await client.user_settings())["ui"]["models"] == [OTHER_MODEL]
    await client.set_default_model(None)

    chat = await client.new_chat(MODEL)
    assert (await client.rename_chat(chat.id, "Renamed")).title == "Renamed"
    assert (await client.toggle_pin(chat.id)).pinned is True
    assert chat.id in [c.id for c in await client.pinned_chats()]
    assert [t.name for t in await client.add_tag(chat.id, "Work")] == ["Work"]
    assert await client.remove_tag(chat.id, "Work") == []
    exported = await client.export_chats()
    mine = next(c for c in exported if c.id == chat.id)
    (copy,) = await client.import_chats([mine.model_dump(mode="json")])
    assert copy.id != chat.id and copy.title == "Renamed"
    assert (await client.toggle_archive(copy.id)).archived is True
    assert copy.id in [c.id for c in await client.archived_chats()]
    assert await client.delete_chat(copy.id) is True
    found = await client.search_chats("Renamed")
    assert chat.id in [c.id for c in found]


async def test_a_lost_daemon_is_daemon_unreachable(tmp_path: Path) -> None:
    target = Target(source="argument", socket=tmp_path / "nobody.sock")
    async with WebUIClient(target) as client:
        with pytest.raises(DaemonUnreachable):
            async with client.stream_completion(MODEL, []):
                pass
        with pytest.raises(DaemonUnreachable):
            await asyncio.wait_for(client.list_models(), 5)


def _mock_client(handler: Any) -> WebUIClient:
    import httpx

    target = Target(source="argument", url="http://mock")
    return WebUIClient(target, transport=httpx.MockTransport(handler))


async def test_a_server_that_does_not_stream_turns_is_named() -> None:
    import httpx

    def open_webui(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=None)  # Open WebUI 0.12 with chat_id and id

    async with (
        _mock_client(open_webui) as client,
        client.stream_turn("c1", "hi", MODEL, parent_id=None) as stream,
    ):
        with pytest.raises(BadResponse) as refused:
            [event async for event in stream]
    assert "does not stream saved turns" in refused.value.message


async def test_a_stream_that_stops_before_done_is_a_lost_connection() -> None:
    import httpx

    body = b'data: {"choices": [{"index": 0, "delta": {"content": "par"}}]}\n\n'

    def cut(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    async with _mock_client(cut) as client, client.stream_completion(MODEL, []) as stream:
        with pytest.raises(DaemonUnreachable) as lost:
            [event async for event in stream]
    assert stream.content == "par" and "before its end" in lost.value.message
