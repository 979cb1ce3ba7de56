"""The knowledge worker: a child process of the daemon that owns the local embedding model
(fastembed, onnxruntime) and the LanceDB tables, so that their hundreds of MB leave with it
when it stops. Run as `python -m webui_daemon.rag.worker FD PARENT_PID` by
`worker_client.WorkerBackend`, which talks to it over the socketpair end FD (`rag.wire`).

Requests run on the lanes of `rag.backends` (several at once: a query beside an ingest batch,
searches beside a write) and are answered as they finish. The worker stops at the end of the
stream (the daemon closed it: idle, shutting down, or gone) after the running requests, and
with its parent (PR_SET_PDEATHSIG), so it never outlives the daemon.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from webui_daemon.rag.backends import Registry, Store, make_lanes
from webui_daemon.rag.wire import RELEASE, describe, frame, read_frame

log = logging.getLogger("webui_daemon.rag.worker")
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the daemon died before the line above
        os._exit(0)


class Server:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._send_lock = threading.Lock()
        self._registry = Registry()
        self._lanes = make_lanes()

    def _reply(self, message: tuple[Any, ...]) -> None:
        try:
            data = frame(message)
        except Exception as exc:  # a result that does not pickle
            data = frame((message[0], False, describe(exc)))
        with self._send_lock, contextlib.suppress(OSError):  # the daemon is gone
            self._sock.sendall(b"".join(data))

    def _run(self, request_id: int, store: Store, method: str, args: tuple[Any, ...]) -> None:
        try:
            value = self._registry.call(store, method, args)
        except Exception as exc:
            if not isinstance(exc, (ValueError, OSError)):
                log.warning("%s.%s failed", type(store).__name__, method, exc_info=True)
            self._reply((request_id, False, describe(exc)))
        else:
            self._reply((request_id, True, value))

    def serve(self) -> None:
        while True:
            message = read_frame(self._sock)
            if message is None:
                break
            request_id, store, method, args, lane = message
            if method == RELEASE:
                self._registry.release(store)
                self._reply((request_id, True, None))
                continue
            self._lanes[lane].submit(self._run, request_id, store, method, args)
        for pool in self._lanes.values():
            pool.shutdown(wait=True, cancel_futures=True)


def main(argv: list[str]) -> None:
    fd, parent = int(argv[1]), int(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the daemon's to handle
    _die_with_parent(parent)
    logging.basicConfig(
        level=logging.WARNING, format="knowledge worker %(levelname)s %(name)s: %(message)s"
    )
    Server(socket.socket(fileno=fd)).serve()
    sys.stderr.flush()
    # Skip the interpreter's teardown: native libraries' threads can hold it up.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
