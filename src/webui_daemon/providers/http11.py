"""HTTP/1.1 framing for the lean transport: the request head, and answers read as h11 reads them.

Pure functions over bytes. Answers are read with h11's grammar (what httpx's own transport
accepts): a status line `HTTP/1.x NNN [reason]`, header fields `token: value` (obsolete line
folding joined), one Content-Length (repeats only with the same value), `Transfer-Encoding:
chunked` and nothing else, chunk size lines of 1 to 16 hex digits with optional extensions.
Anything else raises httpx.RemoteProtocolError, the error httpx's own transport raises for it.
"""

import re
from dataclasses import dataclass

import httpx

# The end of a head: an empty line (h11 also takes lone LFs).
HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: [^\r\n]*)?")
_FIELD = re.compile(
    rb"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*((?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?)[ \t]*"
)
# A chunk's size line, without its CRLF: the size, then extensions (ignored).
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})(?:;[^\r\n]*)?[ \t]*")
# Longest line accepted (status, header, chunk size) and longest head or trailer section.
LINE_LIMIT = 64 * 1024
_DIGITS = re.compile(rb"[0-9]{1,18}")

# Body framing (see body_length).
CHUNKED = None
UNTIL_CLOSE = -1


def request_head(request: httpx.Request, body: bytes, closing: bool) -> bytes:
    """The request line and headers for `request`, whose `body` is sent whole after them
    (`closing`: ask for `Connection: close` instead of any Connection header it has)."""
    url = request.url
    lines = [request.method.encode("ascii") + b" " + url.raw_path + b" HTTP/1.1"]
    sized = False
    for name, value in request.headers.raw:
        lower = name.lower()
        if lower == b"transfer-encoding" or (closing and lower == b"connection"):
            continue  # the body is sent whole, with its length
        sized = sized or lower == b"content-length"
        lines.append(name + b": " + value)
    if closing:
        lines.append(b"Connection: close")
    if not sized and (body or request.method not in ("GET", "HEAD", "DELETE", "OPTIONS")):
        lines.append(b"Content-Length: %d" % len(body))
    lines.append(b"\r\n")
    return b"\r\n".join(lines)


@dataclass(slots=True)
class ResponseHead:
    status: int
    http_11: bool  # HTTP/1.1 (else 1.0)
    headers: list[tuple[bytes, bytes]]  # names lower-case, in order


def parse_fields(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    """Header (or trailer) lines as (lower-case name, value) pairs."""
    fields: list[tuple[bytes, bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):  # obsolete line folding: part of the previous value
            if not fields:
                raise httpx.RemoteProtocolError(
                    "a header continuation line with no header before it"
                )
            name, value = fields[-1]
            fields[-1] = (name, (value + b" " + line.strip(b" \t")).strip(b" "))
            continue
        match = _FIELD.fullmatch(line)
        if match is None:
            raise httpx.RemoteProtocolError(f"malformed header line: {line[:60]!r}")
        fields.append((match[1].lower(), match[2]))
    return fields


def parse_head(raw: bytes) -> ResponseHead:
    """A response head up to and with its empty line."""
    status_line, *lines = _LINE_END.split(raw.rstrip(b"\r\n"))
    match = _STATUS_LINE.fullmatch(status_line)
    if match is None:
        raise httpx.RemoteProtocolError(f"malformed status line: {status_line[:60]!r}")
    return ResponseHead(int(match[2]), match[1] == b"1", parse_fields(lines))


def _tokens(head: ResponseHead, name: bytes) -> list[bytes]:
    return [
        token.strip().lower()
        for field, value in head.headers
        if field == name
        for token in value.split(b",")
        if token.strip()
    ]


def body_length(head: ResponseHead, method: str) -> int | None:
    """The body's framing: its length, CHUNKED (None) or UNTIL_CLOSE (-1)."""
    if method == "HEAD" or head.status in (204, 304) or 100 <= head.status < 200:
        return 0
    encodings = [value for name, value in head.headers if name == b"transfer-encoding"]
    if encodings:  # it wins over a Content-Length, which may then be anything
        if len(encodings) > 1 or encodings[0].strip().lower() != b"chunked":
            raise httpx.RemoteProtocolError(
                f"unsupported Transfer-Encoding: {b', '.join(encodings)!r}"
            )
        return CHUNKED
    lengths = set(_tokens(head, b"content-length"))
    if not lengths:
        return UNTIL_CLOSE
    if len(lengths) > 1:
        raise httpx.RemoteProtocolError("conflicting Content-Length headers")
    length = lengths.pop()
    if _DIGITS.fullmatch(length) is None:
        raise httpx.RemoteProtocolError(f"bad Content-Length: {length[:30]!r}")
    return int(length)


def keep_alive(head: ResponseHead) -> bool:
    """Whether the connection may carry another request after this response (h11's rule:
    HTTP/1.1 without `Connection: close`)."""
    return head.http_11 and b"close" not in _tokens(head, b"connection")


def trailers_end(rest: bytes) -> int:
    """In what follows a last chunk's size line (from its CRLF on): the end of the trailer
    section, or -1 while it is incomplete. Malformed trailer fields raise."""
    if rest.startswith(b"\r\n\r\n"):
        return 4
    end = rest.find(b"\r\n\r\n")
    if end >= 0:
        parse_fields(rest[2:end].split(b"\r\n"))
        return end + 4
    return -1


def split_chunks(buffer: bytes) -> tuple[list[bytes], int, bool]:
    """The complete chunks at the start of a chunked body's `buffer`: (their data, where the
    rest starts, whether the last chunk came). After the last chunk the rest starts at the
    CRLF of its size line (trailers_end reads on from there)."""
    out: list[bytes] = []
    start = 0
    while True:
        eol = buffer.find(b"\r\n", start)
        if eol < 0:
            if len(buffer) - start > LINE_LIMIT:
                raise httpx.RemoteProtocolError("chunk size line too long")
            return out, start, False
        match = _CHUNK_SIZE.fullmatch(buffer, start, eol)
        if match is None:
            raise httpx.RemoteProtocolError(f"malformed chunk size: {buffer[start:eol][:40]!r}")
        size = int(match[1], 16)
        if size == 0:
            return out, eol, True
        end = eol + 2 + size
        if len(buffer) < end + 2:
            return out, start, False
        if buffer[end : end + 2] != b"\r\n":
            raise httpx.RemoteProtocolError("chunk data longer than its size")
        out.append(buffer[eol + 2 : end])
        start = end + 2
