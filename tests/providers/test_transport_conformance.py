"""The lean transport against malformed and unusual HTTP/1.1 answers, beside httpx's own.

A raw server on 127.0.0.1 sends hand-written bytes; each case runs through the client the
providers use (HttpClient, WEBUI_PROVIDER_TRANSPORT=lean and =httpx) and expects the same
body or the same httpx exception from both. Then a daemon whose first node answers with a
malformed status line: the node is treated as down and the next one serves.
"""

import asyncio
import socketserver
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.chat.test_completions import sse
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.providers.test_providers_transport import read_request
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import bearer, signup, tcp
from webui_daemon.providers.http import HttpClient, TransportName

TRANSPORTS: list[TransportName] = ["lean", "httpx"]
OK = b"HTTP/1.1 200 OK\r\n"


@dataclass
class Raw:
    """A server that answers the requests on each connection with `answers`, in turn, then
    closes the connection (`close`) or waits for the client to."""

    answers: list[bytes]
    close: bool = True
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            for answer in self.answers:
                await read_request(reader)
                writer.write(answer)
                await writer.drain()
            if not self.close:
                await reader.read()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@pytest.fixture(params=TRANSPORTS)
async def http(request: pytest.FixtureRequest) -> AsyncIterator[HttpClient]:
    client = HttpClient(connect_timeout=1, transport=request.param)
    yield client
    await client.aclose()


async def fetch(
    http: HttpClient, raw: Raw, method: str = "GET", requests: int = 1, read_s: float = 5
) -> list[httpx.Response]:
    """`requests` requests to a fresh server running `raw`, each body read whole."""
    server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = await http.client()
    out = []
    async with server:
        for _ in range(requests):
            request = client.build_request(
                method, f"http://127.0.0.1:{port}/x", timeout=httpx.Timeout(5, read=read_s)
            )
            async with asyncio.timeout(5):  # a transport that hangs fails, not the suite
                response = await http.send(request)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
            out.append(response)
    return out


GOOD = {
    "100 Continue, then the answer": (
        b"HTTP/1.1 100 Continue\r\n\r\n" + OK + b"Content-Length: 2\r\n\r\nok",
        b"ok",
    ),
    "102 and 103 Early Hints with headers, then the answer": (
        b"HTTP/1.1 102 Processing\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        + OK
        + b"Content-Length: 2\r\n\r\nok",
        b"ok",
    ),
    "chunk extensions": (
        OK + b"Transfer-Encoding: chunked\r\n\r\n"
        b'5;name=value\r\nhello\r\n1;x\r\n \r\n5;a=1;b="q"\r\nworld\r\n0;last\r\n\r\n',
        b"hello world",
    ),
    "trailers after the last chunk": (
        OK + b"Transfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
        b"hello",
    ),
    "upper-case hex and leading zeros in chunk sizes": (
        OK + b"transfer-encoding: Chunked\r\n\r\n00A\r\n0123456789\r\n000\r\n\r\n",
        b"0123456789",
    ),
    "no Content-Length: the body ends with the connection": (
        OK + b"Content-Type: text/plain\r\n\r\nhello world",
        b"hello world",
    ),
    "the same Content-Length twice": (
        OK + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        b"hello",
    ),
    "a Content-Length list of one value": (OK + b"Content-Length: 5, 5\r\n\r\nhello", b"hello"),
    "more bytes than the Content-Length: the body is what it said": (
        OK + b"Content-Length: 2\r\n\r\nokEXTRA",
        b"ok",
    ),
    "Transfer-Encoding wins over Content-Length": (
        OK + b"Content-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        b"ok",
    ),
    "lone LF line ends in the head": (b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", b"ok"),
    "no reason phrase": (b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", b"ok"),
    "HTTP/1.0": (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok"),
}

# Each of these is an httpx.RemoteProtocolError from httpx's own transport.
BAD = {
    "status code not a number": OK.replace(b"200", b"abc") + b"Content-Length: 2\r\n\r\nok",
    "status code of two digits": b"HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok",
    "status code of four digits": b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
    "not HTTP/1.x": b"HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "not HTTP at all": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "a header line without a colon": OK + b"Content-Length 2\r\n\r\nok",
    "a space before a header's colon": OK + b"Content-Length : 2\r\n\r\nok",
    "Content-Length not a number": OK + b"Content-Length: abc\r\n\r\nok",
    "negative Content-Length": OK + b"Content-Length: -1\r\n\r\nhello",
    "conflicting Content-Lengths": OK + b"Content-Length: 3\r\nContent-Length: 5\r\n\r\nhello",
    "conflicting Content-Lengths in one list": OK + b"Content-Length: 3, 5\r\n\r\nhello",
    "a Transfer-Encoding other than chunked": (
        OK + b"Transfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    ),
    "chunk size not hex": OK + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
    "chunk size with 0x": OK + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "negative chunk size": OK + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "chunk longer than its size": (
        OK + b"Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n"
    ),
    "a malformed trailer": OK + b"Transfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n",
    "closed mid-body (Content-Length)": OK + b"Content-Length: 10\r\n\r\nhello",
    "closed mid-chunk": OK + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhel",
    "closed between chunks": OK + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    "closed in the trailers": OK + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX-A: 1\r\n",
    "closed mid-head": OK + b"Content-Le",
    "closed before answering": b"",
    "101 Switching Protocols, not asked for": (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    ),
}


@pytest.mark.parametrize("case", list(GOOD))
async def test_unusual_but_valid_answers(http: HttpClient, case: str) -> None:
    answer, body = GOOD[case]
    (response,) = await fetch(http, Raw([answer]))
    assert (response.status_code, response.content) == (200, body)


@pytest.mark.parametrize("case", list(BAD))
async def test_malformed_answers_raise_remote_protocol_error(http: HttpClient, case: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        await fetch(http, Raw([BAD[case]]))


async def test_obsolete_line_folding_joins_the_value(http: HttpClient) -> None:
    answer = OK + b"X-Long: first\r\n  second\r\nContent-Length: 2\r\n\r\nok"
    (response,) = await fetch(http, Raw([answer]))
    assert (response.headers["x-long"], response.content) == ("first second", b"ok")


@pytest.mark.parametrize(
    "first",
    [
        b"HTTP/1.1 100 Continue\r\n\r\n" + OK + b"Content-Length: 2\r\n\r\nok",
        OK + b"Transfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\nX-Sum: 1\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ],
    ids=["after 1xx", "after trailers", "after 204"],
)
async def test_the_connection_is_kept_for_the_next_request(http: HttpClient, first: bytes) -> None:
    raw = Raw([first, OK + b"Content-Length: 4\r\n\r\nnext"], close=False)
    responses = await fetch(http, raw, requests=2)
    assert [r.content for r in responses][1] == b"next"
    assert raw.connections == 1


async def test_a_head_answer_has_no_body_and_keeps_the_connection(http: HttpClient) -> None:
    raw = Raw([OK + b"Content-Length: 5\r\n\r\n"] * 2, close=False)
    responses = await fetch(http, raw, method="HEAD", requests=2)
    assert [r.content for r in responses] == [b"", b""]
    assert raw.connections == 1


@pytest.mark.parametrize(
    "first",
    [
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        OK + b"Connection: keep-alive, close\r\nContent-Length: 2\r\n\r\nok",
    ],
    ids=["HTTP/1.0", "Connection: close in a list"],
)
async def test_a_connection_the_server_ends_is_not_reused(http: HttpClient, first: bytes) -> None:
    # One answer per connection, which then stays open: a client that sent the second
    # request on it would wait for an answer in vain.
    raw = Raw([first], close=False)
    responses = await fetch(http, raw, requests=2, read_s=1)
    assert [r.content for r in responses] == [b"ok", b"ok"]
    assert raw.connections == 2


@pytest.mark.parametrize(
    "answer",
    [b"", OK + b"Content-Length: 10\r\n\r\nhello"],
    ids=["no answer", "body stalls"],
)
async def test_the_read_timeout_is_httpx_read_timeout(http: HttpClient, answer: bytes) -> None:
    with pytest.raises(httpx.ReadTimeout):
        await fetch(http, Raw([answer], close=False), read_s=0.2)


async def test_an_https_url_is_not_for_the_lean_transport() -> None:
    from webui_daemon.providers.transport import LeanTransport

    transport = LeanTransport(connect_timeout=1)
    with pytest.raises(httpx.UnsupportedProtocol):
        await transport.handle_async_request(httpx.Request("GET", "https://127.0.0.1:1/"))


# ---- failover: a node answering a malformed status line is a node that is down ----------

MODEL = "standin:latest"
TAGS = b'{"models":[{"name":"standin:latest","model":"standin:latest"}]}'


class _MalformedNode(socketserver.BaseRequestHandler):
    """An "Ollama" that lists the model and answers a chat with a malformed status line."""

    chats = 0

    def handle(self) -> None:
        stream = self.request.makefile("rb")
        while head := stream.readline():
            path = head.split(b" ")[1]
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            stream.read(length)
            if path.startswith(b"/api/chat"):
                type(self).chats += 1
                self.request.sendall(b"HTTP/1.1 2xx Fine\r\nContent-Length: 2\r\n\r\n{}")
                return
            body = TAGS if path == b"/api/tags" else b'{"models":[]}'
            self.request.sendall(OK + b"Content-Length: %d\r\n\r\n" % len(body) + body)


@pytest.fixture(scope="module")
def malformed_node() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _MalformedNode)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def good_node() -> Iterator[StandIn]:
    node = start_ollama()
    yield node
    node.stop()


daemon = daemon_fixture(
    env=lambda request, malformed_node, good_node: provider_env(
        ollama=[malformed_node, good_node], WEBUI_PROVIDER_TRANSPORT=request.param
    ),
    tmp="conformance",
    params=TRANSPORTS,
)


def answer_text(response: httpx.Response, stream: bool) -> str:
    if not stream:
        return str(response.json()["choices"][0]["message"]["content"])
    chunks = [e for e in sse(response) if isinstance(e, dict)]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


@pytest.fixture(scope="module")
def admin(daemon: DaemonProc) -> dict[str, str]:
    with tcp(daemon) as client:
        return bearer(signup(client, "Admin", "admin@example.com")["token"])


@pytest.mark.parametrize("stream", [True, False])
def test_a_node_answering_a_malformed_status_line_is_failed_over(
    daemon: DaemonProc, admin: dict[str, str], good_node: StandIn, stream: bool
) -> None:
    _MalformedNode.chats = 0
    good_node.reset()
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    with tcp(daemon, timeout=20) as client:
        # Until the malformed node has been tried: it is first or next, unless an earlier
        # test left it down (then it is eligible again once it passes its probe, ~0.3 s).
        deadline = time.monotonic() + 5
        while not _MalformedNode.chats and time.monotonic() < deadline:
            r = client.post("/api/chat/completions", headers=admin, json=body)
            assert r.status_code == 200, r.text
            assert answer_text(r, stream) == "Hello from the stand-in."
            time.sleep(0.05)
    assert _MalformedNode.chats >= 1
    served = good_node.chats()[-1]
    if stream:  # the switch took: only the lean transport asks for batched answers to close
        lean = daemon.env["WEBUI_PROVIDER_TRANSPORT"] == "lean"
        assert (served.headers.get("connection") == "close") == lean
