"""The knowledge worker's wire format: frames of an 8-byte big-endian length and a pickle
(protocol 5, numpy arrays as raw bytes). Both ends are this package, run by the same user on
a socketpair nobody else holds, so pickle is safe here; errors travel as (type name, message).

Request: (id, store, method, args, lane). Reply: (id, True, value) or (id, False, (name, text)).
"""

from __future__ import annotations

import builtins
import pickle
import socket
import struct
from typing import Any

from webui_daemon.rag.embedders import EmbeddingError

HEADER = struct.Struct("!Q")
RELEASE = "__release__"  # the method name of a request to forget a store's object


def frame(message: Any) -> list[bytes]:
    """The message as a frame (header and payload, to write one after the other)."""
    payload = pickle.dumps(message, protocol=5)
    return [HEADER.pack(len(payload)), payload]


def _recv_exact(sock: socket.socket, size: int) -> bytearray | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        count = sock.recv_into(view[got:])
        if count == 0:
            return None
        got += count
    return buffer


def read_frame(sock: socket.socket) -> Any:
    """The next message from a blocking socket; None at the end of the stream."""
    header = _recv_exact(sock, HEADER.size)
    if header is None:
        return None
    payload = _recv_exact(sock, HEADER.unpack(header)[0])
    return None if payload is None else pickle.loads(payload)  # noqa: S301


def describe(exc: BaseException) -> tuple[str, str]:
    return type(exc).__name__, str(exc)


def rebuild(name: str, text: str) -> Exception:
    """The error the worker raised, as close as this process can make it without importing
    the worker's libraries: builtin errors and EmbeddingError as they were, others wrapped."""
    from webui_daemon.rag.backends import WorkerError

    if name == "EmbeddingError":
        return EmbeddingError(text)
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception) and kind is not Exception:
        try:
            error: Exception = kind(text)
        except Exception:  # noqa: S110 - a builtin that wants other arguments
            pass
        else:
            return error
    return WorkerError(f"{name}: {text}" if text else name)
