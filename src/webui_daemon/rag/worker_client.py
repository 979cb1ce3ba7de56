"""WorkerBackend: runs the knowledge index and the local embedding model in the knowledge
worker process (`rag.worker`), started on first use and stopped after `idle_exit_s` seconds
without a request, so that the daemon itself never holds fastembed, onnxruntime or LanceDB.

Many requests are in flight at once over one socketpair, each answered by id. A worker that
dies (crash, OOM kill) fails the requests it held with a WorkerError saying so; the next call
starts a new one. Stopping closes the stream: the worker finishes what runs, then exits, and
is reaped here (no zombies); it also dies with the daemon (see rag.worker).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import os
import pickle
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from webui_daemon.rag.backends import Lane, Store, WorkerError
from webui_daemon.rag.embedders import release_freed_memory
from webui_daemon.rag.wire import HEADER, RELEASE, frame, rebuild

log = logging.getLogger(__name__)
# The folder holding this package: the worker runs the same code, wherever it came from.
_SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The message the idle stop logs (tests wait for it).
IDLE_STOPPED = "embedding model unloaded: the knowledge worker stopped after %.0f s idle"


@dataclass(eq=False)
class _Worker:
    proc: asyncio.subprocess.Process
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    stopping: bool = False
    lost: bool = False


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return f"exit code {code}"


class WorkerBackend:
    def __init__(self, idle_exit_s: float = 0) -> None:
        self.idle_exit_s = idle_exit_s  # 0: the worker stays until the daemon stops
        self._worker: _Worker | None = None
        self._starting = asyncio.Lock()
        self._ids = itertools.count(1)
        self._last_used = time.monotonic()
        self._idle_task: asyncio.Task[None] | None = None
        self._closed = False
        self.started = 0  # workers started so far

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None when there is none)."""
        worker = self._worker
        return None if worker is None else worker.proc.pid

    # ---- requests ------------------------------------------------------------------------

    async def call(self, store: Store, method: str, *args: Any, lane: Lane = "index") -> Any:
        request_id = next(self._ids)
        data = frame((request_id, store, method, args, lane))
        worker = await self._running()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        worker.pending[request_id] = future
        self._last_used = time.monotonic()
        worker.writer.writelines(data)
        with contextlib.suppress(ConnectionError):  # a dead worker fails the future below
            await worker.writer.drain()
        try:
            return await future
        finally:
            self._last_used = time.monotonic()

    async def release(self, store: Store) -> None:
        if self._worker is not None:
            with contextlib.suppress(WorkerError):
                await self.call(store, RELEASE)

    async def _read(self, worker: _Worker) -> None:
        try:
            while True:
                header = await worker.reader.readexactly(HEADER.size)
                payload = await worker.reader.readexactly(HEADER.unpack(header)[0])
                request_id, ok, value = pickle.loads(payload)  # noqa: S301 - our own child
                future = worker.pending.pop(request_id, None)
                self._last_used = time.monotonic()
                if future is None or future.done():  # its caller was cancelled
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(rebuild(*value))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:
            log.exception("unreadable answer from the knowledge worker: stopping it")
            with contextlib.suppress(ProcessLookupError):
                worker.proc.kill()
        await self._lost(worker)

    async def _lost(self, worker: _Worker) -> None:
        """The worker's stream ended: reap it and fail what it still held."""
        if worker.lost:
            return
        worker.lost = True
        if self._worker is worker:
            self._worker = None
        worker.writer.close()
        try:
            code: int | None = await asyncio.wait_for(worker.proc.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                worker.proc.kill()
            code = await worker.proc.wait()
        if worker.stopping:
            error = WorkerError("The knowledge worker was stopped before it answered.")
        else:
            reason = _exit_reason(code)
            log.warning("the knowledge worker (pid %d) stopped: %s", worker.proc.pid, reason)
            error = WorkerError(
                f"The knowledge worker stopped unexpectedly ({reason}); the next request "
                "starts a new one."
            )
        for future in worker.pending.values():
            if not future.done():
                future.set_exception(error)
        worker.pending.clear()

    # ---- the process ---------------------------------------------------------------------

    async def _running(self) -> _Worker:
        worker = self._worker
        if worker is not None:
            return worker
        async with self._starting:
            if self._worker is None:
                if self._closed:
                    raise WorkerError("The daemon is shutting down.")
                self._worker = await self._spawn()
                if self.idle_exit_s > 0 and (self._idle_task is None or self._idle_task.done()):
                    self._idle_task = asyncio.create_task(self._watch_idle(), name="webui-rag-idle")
            return self._worker

    async def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        paths = [_SOURCE, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "webui_daemon.rag.worker",
                str(theirs.fileno()),
                str(os.getpid()),
                pass_fds=(theirs.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            ours.close()
            raise WorkerError(f"cannot start the knowledge worker: {exc}") from exc
        finally:
            theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        worker = _Worker(proc, reader, writer)
        worker.task = asyncio.create_task(self._read(worker), name="webui-rag-worker-reader")
        self.started += 1
        self._last_used = time.monotonic()
        log.info("knowledge worker started (pid %d)", proc.pid)
        return worker

    async def _stop(self, worker: _Worker) -> None:
        worker.stopping = True
        if self._worker is worker:
            self._worker = None
        worker.writer.close()  # the end of the stream: the worker finishes and exits
        if worker.task is not None:
            await worker.task
        gc.collect()
        release_freed_memory()

    async def _watch_idle(self) -> None:
        period = min(30.0, max(0.2, self.idle_exit_s / 4))
        while True:
            await asyncio.sleep(period)
            worker = self._worker
            if worker is None:
                return  # the next worker starts its own watch
            if worker.pending or time.monotonic() - self._last_used < self.idle_exit_s:
                continue
            await self._stop(worker)
            log.info(IDLE_STOPPED, self.idle_exit_s)
            return

    async def aclose(self) -> None:
        self._closed = True
        if self._idle_task is not None:
            self._idle_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._idle_task
            self._idle_task = None
        worker = self._worker
        if worker is not None:
            await self._stop(worker)
