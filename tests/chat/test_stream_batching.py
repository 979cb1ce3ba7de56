"""Streamed answers read in batches: text merging, batch parsing, the lean transport, the daemon."""

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import pytest

from tests.chat.test_completions import sse
from tests.chat.test_turns import new_chat, sse_payloads, text_of, turn_body, wait_message
from tests.daemon_proc import DaemonProc, start_daemon
from tests.providers.test_providers_transport import read_request, serve
from tests.standin_wire import chunk
from tests.standins import StandIn, ollama_standin, openai_standin, provider_env
from tests.support import bearer, signup, tcp, unix
from webui_daemon.providers.base import Connection, StreamBroken
from webui_daemon.providers.http import HttpClient, parse_json_lines
from webui_daemon.providers.merge import merge_text_chunks
from webui_daemon.providers.ollama import OllamaProvider
from webui_daemon.providers.openai import OpenAIProvider
from webui_daemon.providers.transport import LeanTransport

__all__ = ["ollama_standin", "openai_standin"]  # fixtures used below

OLLAMA_MODEL, OPENAI_MODEL = "standin:latest", "standin-gpt"
MODELS = {"ollama": OLLAMA_MODEL, "openai": OPENAI_MODEL}
CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
CHUNKED_HEAD += b"Transfer-Encoding: chunked\r\n\r\n"
END = b"0\r\n\r\n"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
BOUND_S = 5  # longest wait of a transport test: a broken transport fails, never hangs


def tokens(count: int) -> list[str]:
    """The stand-ins' text for `tokens=count`, token by token."""
    return [f"tok{i} " for i in range(count)]


# ---- merge_text_chunks ------------------------------------------------------------------------


def text(delta: dict[str, Any], **choice: Any) -> dict[str, Any]:
    """An OpenAI stream chunk with this delta (and these choice fields)."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "delta": delta, "logprobs": None, "finish_reason": None, **choice}
        ],
    }


def c(value: str) -> dict[str, Any]:
    return text({"content": value})


def r(value: str) -> dict[str, Any]:
    return text({"reasoning_content": value})


def summary(chunks: list[dict[str, Any]]) -> list[Any]:
    """Each chunk as (kind, text) when it is plain text, else the whole chunk."""
    out: list[Any] = []
    for item in chunks:
        delta = item["choices"][0]["delta"] if len(item.get("choices") or []) == 1 else None
        if delta is not None and set(delta) in ({"content"}, {"reasoning_content"}):
            out.append(next(iter(delta.items())))
        else:
            out.append(item)
    return out


def test_a_run_of_content_becomes_one_chunk() -> None:
    merged = merge_text_chunks([c("Hel"), c("lo"), c(", "), c("world")])
    assert len(merged) == 1
    assert merged[0]["choices"][0]["delta"] == {"content": "Hello, world"}
    assert merged[0]["id"] == "chatcmpl-1" and merged[0]["choices"][0]["finish_reason"] is None


def test_reasoning_and_content_runs_merge_separately_in_order() -> None:
    merged = merge_text_chunks([r("Let "), r("me "), r("think."), c("The "), c("answer")])
    assert summary(merged) == [("reasoning_content", "Let me think."), ("content", "The answer")]


def test_content_reasoning_content_is_not_reordered() -> None:
    merged = merge_text_chunks([c("a"), c("b"), r("x"), r("y"), c("c"), r("z")])
    assert summary(merged) == [
        ("content", "ab"),
        ("reasoning_content", "xy"),
        ("content", "c"),
        ("reasoning_content", "z"),
    ]


def test_the_role_chunk_takes_the_text_that_follows() -> None:
    first = text({"role": "assistant", "content": "Hi"})
    merged = merge_text_chunks([first, c(" there"), c("!")])
    assert [m["choices"][0]["delta"] for m in merged] == [
        {"role": "assistant", "content": "Hi there!"}
    ]
    # OpenAI-compatible servers open with an empty role chunk: the first token joins it.
    merged = merge_text_chunks([text({"role": "assistant", "content": ""}), c("tok0 ")])
    assert [m["choices"][0]["delta"] for m in merged] == [{"role": "assistant", "content": "tok0 "}]


def test_none_fields_do_not_stop_a_run() -> None:
    first = text({"content": "a", "refusal": None, "tool_calls": None})
    merged = merge_text_chunks([first, c("b"), {**c("c"), "usage": None}])
    assert len(merged) == 1 and merged[0]["choices"][0]["delta"]["content"] == "abc"


BREAKERS = {
    "finish": text({}, finish_reason="stop"),
    "finish with text": text({"content": "."}, finish_reason="length"),
    "usage": {**text({}), "choices": [], "usage": {"prompt_tokens": 1, "total_tokens": 2}},
    "text with usage": {**c("x"), "usage": {"prompt_tokens": 1, "total_tokens": 2}},
    "tool calls": text(
        {"tool_calls": [{"index": 0, "id": "t", "function": {"name": "f", "arguments": "{}"}}]}
    ),
    "logprobs": text({"content": "x"}, logprobs={"content": [{"token": "x", "logprob": -0.1}]}),
    "two choices": {
        **c("x"),
        "choices": [
            {"index": 0, "delta": {"content": "x"}, "finish_reason": None},
            {"index": 1, "delta": {"content": "y"}, "finish_reason": None},
        ],
    },
    "second choice": text({"content": "y"}, index=1),
    "content and reasoning": text({"content": "x", "reasoning_content": "y"}),
    "role only": text({"role": "assistant"}),
    "error": {"error": {"message": "boom"}},
}


@pytest.mark.parametrize("name", list(BREAKERS))
def test_other_chunks_stay_as_they_are_and_break_runs(name: str) -> None:
    breaker = BREAKERS[name]
    before = copy.deepcopy(breaker)
    merged = merge_text_chunks([c("a"), c("b"), breaker, c("c"), c("d")])
    assert len(merged) == 3
    assert merged[1] is breaker and breaker == before
    assert merged[0]["choices"][0]["delta"] == {"content": "ab"}
    assert merged[2]["choices"][0]["delta"] == {"content": "cd"}


def test_two_breakers_in_a_row_are_both_kept() -> None:
    finish, usage = BREAKERS["finish"], BREAKERS["usage"]
    merged = merge_text_chunks([c("a"), finish, usage])
    assert merged[1:] == [finish, usage] and merged[1] is finish and merged[2] is usage


def test_a_single_chunk_or_none_is_returned_as_is() -> None:
    one = [c("a")]
    before = copy.deepcopy(one)
    assert merge_text_chunks(one) is one and one == before
    assert merge_text_chunks([]) == []


# ---- parse_json_lines -------------------------------------------------------------------------


def test_a_batch_of_good_lines_is_parsed_in_order() -> None:
    lines = [b'{"a":1}', b'{"b":[1,2]}', b'{"c":"\\u00e9\xc3\xa9"}']
    assert parse_json_lines(lines) == [{"a": 1}, {"b": [1, 2]}, {"c": "éé"}]
    assert parse_json_lines([b'{"only":true}']) == [{"only": True}]
    assert parse_json_lines([]) == []


@pytest.mark.parametrize(
    "bad",
    [
        b"{not json",
        b'{"a":',
        b"",
        b"]",
        b"1]",
        b'"x"}',
        b"\xff\xfe",
        b"data: {}",
        b'{"x":1},{"y":2}',
    ],
    ids=repr,
)
def test_a_bad_line_is_none_and_the_others_are_still_parsed(bad: bytes) -> None:
    lines = [b'{"a":1}', bad, b'{"b":2}', b'{"c":3}']
    assert parse_json_lines(lines) == [{"a": 1}, None, {"b": 2}, {"c": 3}]
    assert parse_json_lines([bad]) == [None]
    assert parse_json_lines([bad, b'{"z":0}']) == [None, {"z": 0}]


def test_json_values_that_are_not_objects_are_returned_as_parsed() -> None:
    lines = [b"1", b'"text"', b"[1, 2]", b"null", b"true", b'{"k":null}']
    assert parse_json_lines(lines) == [1, "text", [1, 2], None, True, {"k": None}]
    assert parse_json_lines([b"[]", b"{bad"]) == [[], None]


# ---- the lean transport: chunked decoding ------------------------------------------------------


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = LeanTransport(connect_timeout=1)
    async with httpx.AsyncClient(transport=transport) as c:
        yield c


SMALL = [b'{"t":"a"}\n', b"data: x\r\n\r\n0\r\n\r\n in the data\n", b"3\r\n", b"z"]
BIG = [*SMALL[:2], b"x" * 100_000 + b"\n", b"end\n"]


def chunked(pieces: list[bytes]) -> bytes:
    """Chunked framing with the liberties HTTP allows: upper-case hex, a chunk extension,
    trailers after the last chunk."""
    out = [chunk(pieces[0])]
    out.append(f"{len(pieces[1]):X};name=value\r\n".encode() + pieces[1] + b"\r\n")
    out += [chunk(p) for p in pieces[2:]]
    return b"".join(out) + b"0\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n"


PLANS = {  # pieces, size of each write (None: head and body in one write)
    "one write": (BIG, None),
    "chunk by chunk": (SMALL, 0),
    "byte by byte": (SMALL, 1),
    "3-byte writes": (SMALL, 3),
    "7000-byte writes of a 100 kB chunk": (BIG, 7000),
}


@pytest.mark.parametrize("plan", list(PLANS))
async def test_chunked_bodies_decode_exactly_however_they_are_split(
    client: httpx.AsyncClient, plan: str
) -> None:
    pieces, size = PLANS[plan]
    body = chunked(pieces)
    if size is None:
        writes = [CHUNKED_HEAD + body]
    elif size == 0:
        writes = [CHUNKED_HEAD, *[chunk(p) for p in pieces], END]
    else:
        writes = [CHUNKED_HEAD, *[body[i : i + size] for i in range(0, len(body), size)]]
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        for data in writes:
            writer.write(data)
            await writer.drain()
            await asyncio.sleep(0.001)
        await read_request(reader)  # the next request, on the same connection
        writer.write(OK)
        await writer.drain()
        await reader.read()

    server, url = await serve(handler)
    async with asyncio.timeout(BOUND_S), server:
        async with client.stream("GET", url) as response:
            blocks = [block async for block in response.aiter_raw()]
        assert b"".join(blocks) == b"".join(pieces)
        assert all(blocks), "no empty blocks"
        assert (await client.get(url)).text == "ok"  # nothing of the first body was left over
    assert connections == 1


@pytest.mark.parametrize(
    "bad",
    [b"zz\r\n", b"5\r\nhello\r\n" + b"1" * 70_000, b"5\r\nhel"],
    ids=["not hex", "size line too long", "cut in a chunk"],
)
async def test_broken_chunked_framing_is_a_protocol_error(
    client: httpx.AsyncClient, bad: bytes
) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(CHUNKED_HEAD + bad)
        await writer.drain()
        writer.close()

    server, url = await serve(handler)
    async with asyncio.timeout(BOUND_S), server:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url)


# ---- a provider over the lean transport: batches ----------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = HttpClient(connect_timeout=1)
    yield client
    await client.aclose()


def ndjson(content: str, *, done: bool = False) -> bytes:
    """One line of Ollama's /api/chat stream, as an HTTP chunk."""
    data: dict[str, Any] = {
        "model": "m",
        "message": {"role": "assistant", "content": content},
        "done": done,
    }
    if done:
        data.update(done_reason="stop", eval_count=5, eval_duration=5_000_000)
    return chunk(json.dumps(data).encode() + b"\n")


def sse_chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
    """One event of an OpenAI-compatible stream, as an HTTP chunk."""
    return chunk(b"data: " + json.dumps(text(delta, finish_reason=finish)).encode() + b"\n\n")


DONE = ndjson("", done=True)
QUESTION = {"messages": [{"role": "user", "content": "hi"}]}


def connection(kind: Literal["ollama", "openai"], url: str) -> Connection:
    return Connection(kind=kind, idx=0, url=url)


def delta_text(item: dict[str, Any]) -> str:
    choices = item.get("choices") or [{}]
    return str((choices[0].get("delta") or {}).get("content") or "")


@pytest.mark.parametrize("batch_s", [0.0, 0.2], ids=["unbatched", "batched"])
async def test_tokens_that_arrive_during_the_pause_come_out_as_one_chunk(
    http: HttpClient, batch_s: float
) -> None:
    log: list[str] = []
    got_a, got_b, got_d = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(CHUNKED_HEAD + ndjson("A"))
        await writer.drain()
        log.append("wrote A")
        await got_a.wait()
        # Written during the first pause, which is a fifth of the window.
        writer.write(ndjson("B"))
        await writer.drain()
        log.append("wrote B")
        await got_b.wait()
        for piece in ("C", "D"):
            await asyncio.sleep(0.03)  # separate reads, unless the socket is left alone
            writer.write(ndjson(piece))
            await writer.drain()
            log.append(f"wrote {piece}")
        await got_d.wait()
        writer.write(ndjson("E") + DONE + END)
        await writer.drain()
        log.append("wrote E")
        await reader.read()

    server, url = await serve(handler)
    ollama = OllamaProvider(http, list_timeout=1, batch_s=batch_s)
    first_after = 0.0
    async with asyncio.timeout(BOUND_S), server:
        started = time.monotonic()
        async for item in ollama.stream_chat(connection("ollama", url), QUESTION, "m"):
            if text := delta_text(item):
                log.append(f"got {text}")
            if text == "A":
                first_after = time.monotonic() - started
                got_a.set()
            if text.endswith("B"):
                got_b.set()
            if text.endswith("D"):
                got_d.set()
    if batch_s:
        batched = ["wrote A", "got A", "wrote B", "got B", "wrote C", "wrote D", "got CD"]
        assert log == [*batched, "wrote E", "got E"]
        assert first_after < batch_s / 2  # the first token is read at once, not after a pause
    else:
        assert log == [f"{verb} {token}" for token in "ABCDE" for verb in ("wrote", "got")]


async def test_a_short_answer_ends_after_the_short_first_pause(http: HttpClient) -> None:
    """The first pause is a fifth of the window: an answer whose rest follows its first token
    closely ends then, not a whole window later."""
    got_a = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(CHUNKED_HEAD + ndjson("A"))
        await writer.drain()
        await got_a.wait()
        writer.write(ndjson("B") + DONE + END)
        await writer.drain()
        await reader.read()

    server, url = await serve(handler)
    ollama = OllamaProvider(http, list_timeout=1, batch_s=1.0)
    texts: list[str] = []
    async with asyncio.timeout(BOUND_S), server:
        async for item in ollama.stream_chat(connection("ollama", url), QUESTION, "m"):
            texts.append(delta_text(item))
            if texts[-1] == "A":
                after_a = time.monotonic()
                got_a.set()
        ended = time.monotonic() - after_a
    assert "".join(texts) == "AB"
    assert 0.15 <= ended < 0.6, ended  # the 0.2 s first pause, far from the 1 s window


async def test_a_role_only_opening_chunk_does_not_start_the_batching(http: HttpClient) -> None:
    log: list[str] = []
    got_role = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        # OpenAI-compatible servers open with an empty role chunk, then the tokens.
        writer.write(CHUNKED_HEAD + sse_chunk({"role": "assistant", "content": ""}))
        await writer.drain()
        await got_role.wait()
        for piece in ("A", "B"):
            await asyncio.sleep(0.1)
            writer.write(sse_chunk({"content": piece}))
            await writer.drain()
            log.append(f"wrote {piece}")
        writer.write(sse_chunk({}, "stop") + chunk(b"data: [DONE]\n\n") + END)
        await writer.drain()
        await reader.read()

    server, url = await serve(handler)
    openai = OpenAIProvider(http, list_timeout=1, batch_s=0.3)
    async with asyncio.timeout(BOUND_S), server:
        async for item in openai.stream_chat(connection("openai", url), QUESTION, "m"):
            if item["choices"][0]["finish_reason"] is None:
                log.append(f"got {delta_text(item)!r}")
            got_role.set()
    # Held back with the role chunk, A would wait for the pause and come out with B.
    assert log == ["got ''", "wrote A", "got 'A'", "wrote B", "got 'B'"]


async def test_a_cancelled_answer_closes_the_connection_during_a_pause(http: HttpClient) -> None:
    got_first, closed = asyncio.Event(), asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(CHUNKED_HEAD + ndjson("A"))
        await writer.drain()
        await got_first.wait()
        writer.write(ndjson("B"))  # arrives while the reader leaves the socket alone
        await writer.drain()
        with suppress(ConnectionError):
            await reader.read()
        closed.set()

    async def read() -> None:
        ollama = OllamaProvider(http, list_timeout=1, batch_s=5.0)
        async for _ in ollama.stream_chat(connection("ollama", url), QUESTION, "m"):
            got_first.set()

    server, url = await serve(handler)
    async with asyncio.timeout(BOUND_S), server:
        task = asyncio.ensure_future(read())
        await asyncio.wait_for(got_first.wait(), 2)
        await asyncio.sleep(0.05)  # the reader is in its 5 s pause now
        task.cancel()
        hung_up = time.monotonic()
        await asyncio.wait_for(closed.wait(), 2)
        assert time.monotonic() - hung_up < 1  # not at the end of the pause
        with pytest.raises(asyncio.CancelledError):
            await task


# ---- the end of a batched answer: the provider closes the connection ----------------------------


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_a_batched_answer_ends_when_the_provider_closes_not_at_the_windows_end(
    http: HttpClient, kind: Literal["ollama", "openai"]
) -> None:
    heads: list[bytes] = []
    got_a = asyncio.Event()
    if kind == "ollama":
        first, rest = ndjson("A"), ndjson("B") + DONE + END
    else:
        first = sse_chunk({"role": "assistant", "content": "A"})
        rest = sse_chunk({"content": "B"}) + sse_chunk({}, "stop")
        rest += chunk(b"data: [DONE]\n\n") + END

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await read_request(reader))
        writer.write(CHUNKED_HEAD + first)
        await writer.drain()
        await got_a.wait()
        await asyncio.sleep(0.05)  # the reader is in its (2 s) window now
        writer.write(rest)
        await writer.drain()
        writer.close()  # as asked: Connection: close

    server, url = await serve(handler)
    provider = (OllamaProvider if kind == "ollama" else OpenAIProvider)(
        http, list_timeout=1, batch_s=10.0
    )
    texts: list[str] = []
    async with asyncio.timeout(BOUND_S), server:
        async for item in provider.stream_chat(connection(kind, url), QUESTION, "m"):
            texts.append(delta_text(item))
            if texts[-1] == "A":
                after_a = time.monotonic()
                got_a.set()
        ended = time.monotonic() - after_a
    assert "".join(texts) == "AB"
    assert ended < 1, ended  # the close, not the 2 s first window (a fifth of 10 s)
    head = heads[0].split(b"\r\n\r\n")[0].lower()
    assert head.count(b"connection:") == 1 and b"\r\nconnection: close" in head


async def test_a_provider_that_keeps_the_connection_still_ends_at_the_window(
    http: HttpClient,
) -> None:
    """A server that ignores `Connection: close`: the end is seen after the window, and the
    connection is not used again (it was asked to close)."""
    requests: list[int] = []  # per connection (the transport opens one ahead for the next)
    got_a = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(0)
        number = len(requests) - 1
        with suppress(ConnectionError, asyncio.IncompleteReadError):
            while await read_request(reader):
                requests[number] += 1
                writer.write(CHUNKED_HEAD + ndjson("A"))
                await writer.drain()
                await got_a.wait()
                writer.write(ndjson("B") + DONE + END)
                await writer.drain()

    server, url = await serve(handler)
    ollama = OllamaProvider(http, list_timeout=1, batch_s=1.0)
    async with asyncio.timeout(BOUND_S), server:
        for _ in range(2):
            got_a.clear()
            texts: list[str] = []
            async for item in ollama.stream_chat(connection("ollama", url), QUESTION, "m"):
                texts.append(delta_text(item))
                if texts[-1] == "A":
                    after_a = time.monotonic()
                    got_a.set()
            assert "".join(texts) == "AB"
            assert 0.15 <= time.monotonic() - after_a < 0.9  # the 0.2 s first window
    # One request per connection; the second came on the one opened ahead during the first
    # answer, and one more waits for a third.
    assert requests == [1, 1, 0]


async def test_no_connection_is_opened_ahead_after_an_answer_that_broke_off(
    http: HttpClient,
) -> None:
    """A provider that drops the connection mid-answer gets no connection opened for the next
    one (it may be gone); one that ends its answer does."""
    accepted: list[int] = []
    cut = True

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        with suppress(ConnectionError, asyncio.IncompleteReadError):
            if await read_request(reader):
                writer.write(CHUNKED_HEAD + ndjson("A"))
                await writer.drain()
                if not cut:
                    writer.write(ndjson("B") + DONE + END)
                    await writer.drain()
        writer.close()

    server, url = await serve(handler)
    ollama = OllamaProvider(http, list_timeout=1, batch_s=0.05)
    async with asyncio.timeout(BOUND_S), server:
        with pytest.raises(StreamBroken):
            async for _ in ollama.stream_chat(connection("ollama", url), QUESTION, "m"):
                pass
        await asyncio.sleep(0.2)
        assert len(accepted) == 1
        cut = False
        answer = ollama.stream_chat(connection("ollama", url), QUESTION, "m")
        texts = [delta_text(item) async for item in answer]
        assert "".join(texts) == "AB"
        for _ in range(100):  # the connection for the next answer, opened in the background
            if len(accepted) == 3:
                break
            await asyncio.sleep(0.01)
        assert len(accepted) == 3


# ---- a provider over the lean transport: keep-alive after an unbatched answer's end -------------


async def answer_text(http: HttpClient, url: str) -> str:
    """The text of one unbatched answer from the (scripted) Ollama at `url`, read to its end
    (batched answers ask for `Connection: close`)."""
    ollama = OllamaProvider(http, list_timeout=1, batch_s=0.0)
    chunks = ollama.stream_chat(connection("ollama", url), QUESTION, "m")
    return "".join([delta_text(item) async for item in chunks])


@pytest.mark.parametrize(
    "rest",
    ["with the end", "later", "later, byte by byte, with trailers"],
)
async def test_after_the_answers_end_the_connection_is_kept(http: HttpClient, rest: str) -> None:
    connections, requests = 0, 0
    answered, rest_sent = asyncio.Event(), asyncio.Event()
    tail = b"0\r\nX-Trailer: 1\r\n\r\n" if "trailers" in rest else END

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections, requests
        connections += 1
        # A connection closed too early shows in the counts below, not as an error here.
        with suppress(ConnectionError, asyncio.IncompleteReadError):
            while await read_request(reader):
                requests += 1
                writer.write(CHUNKED_HEAD + ndjson("tok") + DONE)
                if rest == "with the end":
                    writer.write(tail)
                await writer.drain()
                if rest != "with the end":
                    await answered.wait()  # the reader is done with the answer meanwhile
                    answered.clear()
                    for i in range(len(tail) if "byte" in rest else 1):
                        writer.write(tail[i : i + 1] if "byte" in rest else tail)
                        await writer.drain()
                        await asyncio.sleep(0.002)
                rest_sent.set()
        rest_sent.set()

    server, url = await serve(handler)
    async with asyncio.timeout(BOUND_S), server:
        for _ in range(2):
            assert await answer_text(http, url) == "tok"
            answered.set()
            await asyncio.wait_for(rest_sent.wait(), 2)
            rest_sent.clear()
            await asyncio.sleep(0.1)  # the transport reads the rest in the background
    assert (connections, requests) == (1, 2)


@pytest.mark.parametrize("how", ["hung up mid-answer", "bad rest after the end"])
async def test_otherwise_the_connection_is_closed_at_once(http: HttpClient, how: str) -> None:
    connections = 0
    hung_up, first_closed = asyncio.Event(), asyncio.Event()
    leftover: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        if connections > 1:
            writer.write(CHUNKED_HEAD + ndjson("ok") + DONE + END)
            await writer.drain()
            await reader.read()
            return
        writer.write(CHUNKED_HEAD + ndjson("tok"))
        if how == "bad rest after the end":
            writer.write(DONE)
        await writer.drain()
        await hung_up.wait()
        if how == "bad rest after the end":  # not the end of a chunked body
            writer.write(b"zz\r\n")
            await writer.drain()
        try:
            leftover.append(await reader.read())  # b"" once the client closed
        except ConnectionError:
            leftover.append(b"")
        first_closed.set()

    server, url = await serve(handler)
    ollama = OllamaProvider(http, list_timeout=1, batch_s=0.0)
    async with asyncio.timeout(BOUND_S), server:
        chunks = ollama.stream_chat(connection("ollama", url), QUESTION, "m")
        assert delta_text(await anext(chunks)) == "tok"
        if how == "hung up mid-answer":
            await chunks.aclose()
        else:
            assert [item async for item in chunks][-1]["choices"][0]["finish_reason"] == "stop"
        hung_up.set()
        closed_at = time.monotonic()
        await asyncio.wait_for(first_closed.wait(), 2)
        assert time.monotonic() - closed_at < 1
        assert leftover == [b""]  # closed, and no request came on it
        assert await answer_text(http, url) == "ok"
    assert connections == 2


class PlainHttp(HttpClient):
    """The daemon's HTTP client with httpx's own transport for every URL (as https:// gets)."""

    def __init__(self) -> None:
        super().__init__(connect_timeout=1)
        self.plain = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport())

    async def client(self) -> httpx.AsyncClient:
        return self.plain


async def test_over_httpx_own_transport_the_stream_is_not_throttled() -> None:
    words = [f"w{i} " for i in range(16)]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(CHUNKED_HEAD + b"".join(ndjson(w) for w in words) + DONE + END)
        await writer.drain()
        await reader.read()

    server, url = await serve(handler)
    plain = PlainHttp()
    ollama = OllamaProvider(plain, list_timeout=1, batch_s=0.05)
    async with asyncio.timeout(BOUND_S), server, plain.plain:
        started = time.monotonic()
        chunks = ollama.stream_chat(connection("ollama", url), QUESTION, "m")
        got = [delta_text(item) async for item in chunks]
        elapsed = time.monotonic() - started
    assert "".join(got) == "".join(words)
    # Everything was there at once: one pause at most, not one per line (16 x 50 ms).
    assert elapsed < 0.3, elapsed


# ---- through the daemon -----------------------------------------------------------------------


@dataclass
class Signed:
    """A daemon and the headers of its admin."""

    proc: DaemonProc
    headers: dict[str, str]


@contextmanager
def signed_daemon(
    tmp: pytest.TempPathFactory, batch_ms: str, ollama: StandIn, openai: StandIn
) -> Iterator[Signed]:
    env = provider_env(
        ollama=[ollama],
        openai=[openai],
        WEBUI_STREAM_BATCH_MS=batch_ms,
        MODELS_CACHE_TTL="600",  # no model-list requests between two answers
    )
    proc = start_daemon(tmp.mktemp(f"batch-{batch_ms}"), env=env)
    try:
        with tcp(proc) as client:
            token = signup(client, "Ada", "ada@example.com")["token"]
        yield Signed(proc, bearer(token))
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def daemon(
    tmp_path_factory: pytest.TempPathFactory, ollama_standin: StandIn, openai_standin: StandIn
) -> Iterator[Signed]:
    """Batches of 50 ms."""
    with signed_daemon(tmp_path_factory, "50", ollama_standin, openai_standin) as signed:
        yield signed


@pytest.fixture(scope="module")
def unbatched(
    tmp_path_factory: pytest.TempPathFactory, ollama_standin: StandIn, openai_standin: StandIn
) -> Iterator[Signed]:
    with signed_daemon(tmp_path_factory, "0", ollama_standin, openai_standin) as signed:
        yield signed


@pytest.fixture(autouse=True)
def fresh(ollama_standin: StandIn, openai_standin: StandIn) -> None:
    ollama_standin.reset()
    openai_standin.reset()


def answer(daemon: Signed, kind: str, content: str = "Say something") -> list[Any]:
    """The SSE events of one streamed answer from the stand-in of this kind."""
    body = {
        "model": MODELS[kind],
        "messages": [{"role": "user", "content": content}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with (
        tcp(daemon.proc) as client,
        client.stream("POST", "/api/chat/completions", headers=daemon.headers, json=body) as r,
    ):
        assert r.status_code == 200, r.read()
        return sse(r)


def deltas(events: list[Any]) -> list[dict[str, Any]]:
    return [e["choices"][0]["delta"] for e in events if isinstance(e, dict) and e.get("choices")]


def contents(events: list[Any]) -> list[str]:
    """The text of each event that carries some."""
    return [d["content"] for d in deltas(events) if d.get("content")]


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_a_paced_answer_comes_in_fewer_larger_events(
    daemon: Signed, ollama_standin: StandIn, openai_standin: StandIn, kind: str
) -> None:
    standin = ollama_standin if kind == "ollama" else openai_standin
    standin.reset(tokens=30, token_delay=0.005)
    events = answer(daemon, kind)
    chunks = [e for e in events if isinstance(e, dict)]
    assert events[-1] == "[DONE]" and len(chunks) == len(events) - 1
    assert "".join(contents(events)) == "".join(tokens(30))
    # 30 tokens over ~150 ms, read every 50 ms: a handful of events, still a stream.
    assert 2 <= len(contents(events)) <= 10, contents(events)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert contents(events)[0].startswith("tok0 ")
    assert len({e["id"] for e in chunks}) == 1
    # The end as the provider sent it: finish reason, usage, [DONE].
    *body, finish = chunks
    if kind == "openai":
        *body, finish, usage = chunks
        assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == 30
    else:
        usage = finish
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert usage["usage"]["completion_tokens"] == 30
    assert all(e["choices"][0]["finish_reason"] is None for e in body)
    assert all("usage" not in e for e in body)


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_without_batching_every_token_is_its_own_event(
    unbatched: Signed, ollama_standin: StandIn, openai_standin: StandIn, kind: str
) -> None:
    standin = ollama_standin if kind == "ollama" else openai_standin
    standin.reset(tokens=8, token_delay=0.03)
    events = answer(unbatched, kind)
    assert contents(events) == tokens(8)
    assert events[-1] == "[DONE]"


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_the_first_token_is_not_held_back_for_a_batch(
    daemon: Signed, ollama_standin: StandIn, openai_standin: StandIn, kind: str
) -> None:
    standin = ollama_standin if kind == "ollama" else openai_standin
    standin.reset(tokens=20, token_delay=0.005)
    events = answer(daemon, kind)
    # Held back for 50 ms, the first text would carry ~10 tokens.
    first = contents(events)[0]
    assert first.startswith("tok0 ") and len(first.split()) < 5, first


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_reasoning_and_content_stay_in_order_when_batched(
    daemon: Signed, ollama_standin: StandIn, openai_standin: StandIn, kind: str
) -> None:
    standin = ollama_standin if kind == "ollama" else openai_standin
    thinking = "".join(f"think{i} " for i in range(12))
    standin.reset(tokens=12, token_delay=0.005, thinking=thinking)
    events = answer(daemon, kind)
    order = [
        key
        for d in deltas(events)
        for key in ("reasoning_content", "content")
        if d.get(key)  # an event may carry the end of one and the start of the other
    ]
    reasoning = "".join(d.get("reasoning_content") or "" for d in deltas(events))
    assert (reasoning, "".join(contents(events))) == (thinking, "".join(tokens(12)))
    assert order == sorted(order, key=lambda key: key == "content")  # thinking first
    assert len(order) < 24 / 2  # merged, not one event per token


@pytest.mark.parametrize(
    "end_delay",
    [0.0, 0.05],
    ids=["body ends with the answer", "body ends 50 ms later"],
)
@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_consecutive_unbatched_answers_share_one_upstream_connection(
    unbatched: Signed,
    ollama_standin: StandIn,
    openai_standin: StandIn,
    kind: str,
    end_delay: float,
) -> None:
    standin = ollama_standin if kind == "ollama" else openai_standin
    standin.reset(tokens=3)
    standin.end_delay = end_delay
    for question in ("one", "two", "three"):
        assert "".join(contents(answer(unbatched, kind, question))) == "".join(tokens(3))
        # The next question only once the stand-in has ended this body (or seen a hang-up).
        standin.wait_for(lambda: standin.chats()[-1].finished_at or standin.chats()[-1].closed_at)
    chats = standin.chats()
    assert [rec.messages[-1]["content"] for rec in chats] == ["one", "two", "three"]
    assert not [rec.closed_at for rec in chats if rec.closed_at]  # the daemon never hung up
    assert {standin.connection_of(rec) for rec in chats} == {standin.connection_of(chats[0])}
    assert {rec.headers.get("connection") for rec in chats} == {"keep-alive"}


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_each_batched_answer_asks_the_provider_to_close_its_connection(
    daemon: Signed, ollama_standin: StandIn, openai_standin: StandIn, kind: str
) -> None:
    """So that the answer's end is seen at once (the connection closing), not at the end of
    a batch window."""
    standin = ollama_standin if kind == "ollama" else openai_standin
    standin.reset(tokens=3)
    for question in ("one", "two"):
        assert "".join(contents(answer(daemon, kind, question))) == "".join(tokens(3))
        standin.wait_for(lambda: standin.chats()[-1].finished_at)
    chats = standin.chats()
    assert [rec.headers.get("connection") for rec in chats] == ["close", "close"]
    assert len({standin.connection_of(rec) for rec in chats}) == 2


def test_a_server_side_turn_saves_the_whole_batched_answer(
    daemon: Signed, ollama_standin: StandIn
) -> None:
    ollama_standin.reset(tokens=30, token_delay=0.005)
    with unix(daemon.proc) as client:
        chat_id = new_chat(client)
        body = turn_body(chat_id, "Count to thirty")
        with client.stream("POST", "/api/chat/completions", json=body) as response:
            assert response.status_code == 200, response.read()
            events = list(sse_payloads(response.iter_lines()))
        assert events[-1] == "[DONE]"
        assert text_of(events) == "".join(tokens(30))
        assert 2 <= len(contents(events)) <= 10, contents(events)
        saved = wait_message(client, chat_id, body["id"])
    assert saved["content"] == "".join(tokens(30))
    assert saved["usage"]["completion_tokens"] == 30
    assert not saved.get("interrupted")
