"""LeanTransport (plain-HTTP/1.1 for httpx): framing, keep-alive, stale connections, errors,
which URLs it serves and its off switch. Malformed answers: test_transport_conformance.py."""

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from webui_daemon.providers.transport import LeanTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(handler: Handler) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + (await reader.readexactly(length) if length else b"")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = LeanTransport(connect_timeout=1)
    async with httpx.AsyncClient(transport=transport) as c:
        yield c


async def test_chunked_and_sized_bodies_on_one_kept_alive_connection(
    client: httpx.AsyncClient,
) -> None:
    connections = 0
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n")
        seen.append(await read_request(reader))
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope")
        await writer.drain()
        await reader.read()  # until the client closes

    server, url = await serve(handler)
    async with server:
        r = await client.post(f"{url}/a?x=1", content=b'{"k":1}')
        assert (r.status_code, r.content) == (200, b"abcde")
        r = await client.get(f"{url}/b")
        assert (r.status_code, r.text) == (404, "nope")
    assert connections == 1
    assert seen[0].startswith(b"POST /a?x=1 HTTP/1.1\r\n") and seen[0].endswith(b'{"k":1}')
    assert b"content-length: 7" in seen[0].lower()


async def test_a_stale_kept_alive_connection_is_replaced_once(client: httpx.AsyncClient) -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # an idle timeout on the server: the next request must reconnect

    server, url = await serve(handler)
    async with server:
        for _ in range(3):
            r = await client.get(url)
            assert r.text == "ok"
    assert connections == 3


async def test_errors_are_httpx_errors(client: httpx.AsyncClient) -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        await writer.drain()
        writer.close()

    server, url = await serve(cut)
    async with server:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(url)
    server.close()
    await server.wait_closed()
    with pytest.raises(httpx.ConnectError):
        await client.get(url)


async def test_closing_a_stream_early_closes_the_connection(client: httpx.AsyncClient) -> None:
    closed = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n")
        await writer.drain()
        if await reader.read() == b"":
            closed.set()

    server, url = await serve(slow)
    async with server:
        async with client.stream("GET", url) as r:
            async for chunk in r.aiter_raw():
                assert chunk == b"a"
                break
        await asyncio.wait_for(closed.wait(), 1)


async def test_a_slow_reader_holds_the_sender_back_and_gets_every_byte(
    client: httpx.AsyncClient,
) -> None:
    size = 32 * 1024 * 1024
    payload = bytes(range(256)) * (size // 256)
    sent_while_unread = 0

    async def big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent_while_unread
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        for start in range(0, size, 64 * 1024):
            writer.write(payload[start : start + 64 * 1024])
            await writer.drain()
            if not got_first.is_set():
                sent_while_unread = start + 64 * 1024
        await reader.read()

    got_first = asyncio.Event()
    server, url = await serve(big)
    async with server, client.stream("GET", url) as r:
        chunks = r.aiter_raw()
        received = [await anext(chunks)]
        await asyncio.sleep(0.3)  # not reading: the sender must stall
        got_first.set()
        received += [chunk async for chunk in chunks]
    assert b"".join(received) == payload
    # The sender stalled long before the whole body was written (the kernel holds some MB).
    assert sent_while_unread < size // 2


@pytest.mark.parametrize("proxy", [None, "http://proxy.invalid:3128"])
async def test_which_urls_the_lean_transport_serves(
    monkeypatch: pytest.MonkeyPatch, proxy: str | None
) -> None:
    """Plain HTTP to loopback always, to other hosts unless a proxy is set for them; TLS
    never (an https:// provider on loopback keeps httpx's own transport)."""
    from webui_daemon.providers.http import HttpClient

    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    if proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy)
    http = HttpClient(connect_timeout=1)
    client = http.get()
    try:
        for url in ("http://127.0.0.1:11434/api/chat", "http://localhost:1/x", "http://[::1]:2/"):
            assert http.lean_for(httpx.URL(url)) is not None, url
        for url in ("https://127.0.0.1:8443/v1", "https://localhost/v1", "https://api.x.org/"):
            assert http.lean_for(httpx.URL(url)) is None, url
            assert not isinstance(client._transport_for_url(httpx.URL(url)), LeanTransport)
        remote = http.lean_for(httpx.URL("http://gpu-box.lan:11434/api/chat"))
        assert (remote is None) == bool(proxy)
    finally:
        await http.aclose()


async def test_the_off_switch_leaves_every_url_to_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    from webui_daemon.providers.http import HttpClient

    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    http = HttpClient(connect_timeout=1, transport="httpx")
    client = http.get()
    try:
        for url in (
            "http://127.0.0.1:11434/api/chat",
            "http://gpu-box.lan:11434/",
            "http://[::1]:2/",
        ):
            assert http.lean_for(httpx.URL(url)) is None, url
            transport = client._transport_for_url(httpx.URL(url))
            assert isinstance(transport, httpx.AsyncHTTPTransport), url
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "lean"), ("httpx", "httpx"), ("lean", "lean")]
)
def test_webui_provider_transport_setting(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str
) -> None:
    from webui_daemon.settings import Settings

    if value is None:
        monkeypatch.delenv("WEBUI_PROVIDER_TRANSPORT", raising=False)
    else:
        monkeypatch.setenv("WEBUI_PROVIDER_TRANSPORT", value)
    assert Settings().provider_transport == expected


def test_an_unknown_transport_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from webui_daemon.settings import Settings

    monkeypatch.setenv("WEBUI_PROVIDER_TRANSPORT", "fast")
    with pytest.raises(ValidationError):
        Settings()


def test_http_and_transport_do_not_import_each_other() -> None:
    """http.py imports the transport only when it builds the client; the transport never
    imports http.py (what both need is in control.py)."""
    for module, other in (("transport", "http"), ("http", "transport")):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import sys, webui_daemon.providers.{module};"
                f"print('webui_daemon.providers.{other}' in sys.modules)",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == "False", f"{module} imports {other}"
