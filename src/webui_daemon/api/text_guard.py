"""ASGI middleware that refuses text no route can store: NUL characters and unpaired surrogates.

JSON can spell both (`\\u0000`, a lone `\\ud800`), and Python's parser hands them on as they are
(it even decodes raw surrogate bytes, with "surrogatepass"); so can a query string (`%00`).
SQLite reads SQL text as a C string that ends at a NUL (an FTS5 query then fails with
"unterminated string"), and UTF-8 has no encoding for a lone surrogate (UnicodeEncodeError
wherever the text is written). Rather than a check in each route, every request is looked at
once, here, before any route sees it: its query string, and its body unless it is a multipart
upload (file bytes are stored as bytes). The answer is a 400 `{"detail": ...}` that says where.

Cost: a body is read whole before the route runs (FastAPI reads it whole anyway); one regex scan
over its bytes, and a JSON parse only when the scan finds a suspect escape or byte sequence.
"""

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A `\u0000` or surrogate escape, or the raw UTF-8 bytes of a surrogate (ED A0..BF): the body
# might hold bad text. (An escaped backslash before it makes this a false alarm; the JSON parse
# that follows decides.)
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def bad_text(value: str) -> str | None:
    """What is wrong with a string ("a NUL character", "an unpaired surrogate"), or None."""
    found = _BAD_CHAR.search(value)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "an unpaired surrogate"


def refusal(problem: str) -> str:
    """The 400's detail for a problem found by `problem_in` or the guard."""
    return f"Invalid input: {problem}, which cannot be stored or searched. Remove it and try again."


def problem_in(document: Any, where: str = "body") -> str | None:
    """Where a parsed JSON document (`where` names it) first holds bad text, in a key or a
    string value: "body.chat.title holds an unpaired surrogate"; None when nowhere. For JSON
    that a route parses itself (a form field)."""
    stack: list[tuple[Any, str]] = [(document, where)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            problem = bad_text(value)
            if problem:
                return f"{where} holds {problem}"
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                problem = bad_text(key)
                if problem:
                    return f"a key in {where} holds {problem}"
                stack.append((item, f"{where}.{key[:40]}"))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in reversed(list(enumerate(value))))
    return None


def body_problem(body: bytes) -> str | None:
    """Where a JSON body holds a NUL or an unpaired surrogate, or None (also for a body that is
    not JSON: the route answers for that)."""
    try:
        utf8 = json.detect_encoding(body) == "utf-8"
    except (TypeError, ValueError):
        return None
    # UTF-16 and UTF-32 bodies (which Python's parser accepts) are always parsed: the scan
    # above looks for UTF-8 bytes.
    if utf8 and _SUSPECT.search(body) is None:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return problem_in(document)


def query_problem(query: bytes) -> str | None:
    if b"%00" in query or b"\x00" in query:
        return "the query string holds a NUL character (%00)"
    return None


class TextGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def _reject(self, send: Send, problem: str) -> None:
        body = json.dumps({"detail": refusal(problem)}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = query_problem(scope.get("query_string", b""))
        if problem:
            await self._reject(send, problem)
            return
        if not _has_checked_body(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left before sending it all
                await self.app(scope, _replay([], message, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = body_problem(body)
        if problem:
            await self._reject(send, problem)
            return
        first: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([first], None, receive), send)


def _has_checked_body(scope: Scope) -> bool:
    """Whether the request announces a body, other than a multipart upload."""
    has_body = False
    for name, value in scope.get("headers", []):
        if name == b"content-type" and value[:10].lower() == b"multipart/":
            return False
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            has_body = True
    return has_body


def _replay(messages: list[Message], last: Message | None, receive: Receive) -> Receive:
    """A `receive` that gives the messages already read, then the real one's (a disconnect)."""
    pending = [*messages, *([last] if last is not None else [])]

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
