"""The cheapest relay of the same stream in Python: bench.stream's CPU floor for a relay.

Run: python -m bench.floor_relay UPSTREAM_URL [--batch-ms 60]   (prints its own URL)

It does what the daemon's relay must do at the least, and nothing more: take an HTTP request,
send it on to the provider (asking for `Connection: close`), and pass the provider's bytes on
as they come, in the same windows as the daemon (the first read at once, then one read per
window with the socket's receive low-water mark raised meanwhile). No HTTP framework, no
parsing or conversion, no authentication, no database. Its CPU per stream, measured in the
same run, is what any Python process pays on the machine to relay the stream that way, so the
daemon's CPU over it is the daemon's own cost.
"""

import argparse
import asyncio
import socket
from urllib.parse import urlsplit

LOWAT = 1 << 20


async def relay(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    upstream: tuple[str, int],
    window: float,
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head[:-4].split(b"\r\n")
            length = 0
            for line in lines[1:]:
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            kept = [line for line in lines if not line.lower().startswith(b"connection:")]
            up_reader, up_writer = await asyncio.open_connection(*upstream)
            up_writer.write(b"\r\n".join([*kept, b"Connection: close", b"", b""]) + body)
            sock = up_writer.get_extra_info("socket")
            pause = window / 5  # as the daemon: the first wait is a fifth of the window
            head_only = True
            while data := await up_reader.read(1 << 18):
                writer.write(data)
                if head_only:  # no waiting before the first token
                    head_only = data.endswith(b"\r\n\r\n")
                if window <= 0 or head_only:
                    continue
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, LOWAT)
                await asyncio.sleep(pause)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)
                pause = window
            up_writer.close()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(upstream_url: str, window: float) -> None:
    parts = urlsplit(upstream_url)
    upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
    server = await asyncio.start_server(lambda r, w: relay(r, w, upstream, window), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("upstream")
    parser.add_argument("--batch-ms", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(serve(args.upstream, args.batch_ms / 1000))


if __name__ == "__main__":
    main()
