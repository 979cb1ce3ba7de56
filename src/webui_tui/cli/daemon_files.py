"""The local daemon seen from its files: the data folder's lock (which pid holds it, whether that
process is ours, waiting for it to end) and its log (the last lines, or followed as it grows)."""

import contextlib
import fcntl
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

LOCK_NAME = "daemon.lock"
_POLL_S = 0.05
_FOLLOW_POLL_S = 0.25
_BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class LockHolder:
    """What a running daemon wrote into its lock: "pid N, socket S" (S is "-" for TCP only)."""

    pid: int
    socket: str | None


def parse_lock(text: str) -> LockHolder | None:
    fields: dict[str, str] = {}
    for part in text.strip().split(","):
        key, _, value = part.strip().partition(" ")
        fields[key] = value.strip()
    pid = fields.get("pid", "")
    if not pid.isdigit():
        return None
    socket = fields.get("socket", "")
    return LockHolder(int(pid), None if socket in ("", "-") else socket)


def lock_holder(data_dir: Path) -> LockHolder | None:
    """The daemon holding `data_dir`'s lock; None when no process holds it (a lock file left by
    a daemon that ended says nothing) or when we cannot read it (someone else's data folder)."""
    try:
        handle = (data_dir / LOCK_NAME).open("r", encoding="utf-8")
    except OSError:
        return None
    with handle:
        try:
            # Shared and non-blocking: a daemon holds it exclusively for its whole life.
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return parse_lock(handle.read())
        except OSError:
            return None
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie nobody has reaped yet has ended all the same)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    with contextlib.suppress(OSError, IndexError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def is_mine(pid: int) -> bool:
    """Whether `pid` runs under this OS account (root's processes are root's only)."""
    proc = Path(f"/proc/{pid}")
    if Path("/proc/self").exists():
        try:
            return proc.stat().st_uid == os.getuid()
        except OSError:
            return False
    try:  # no /proc: whether we may signal it
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def terminate(pid: int) -> None:
    """SIGTERM: the daemon's graceful shutdown (live answers saved, marked interrupted)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def wait_until(done: Callable[[], bool], timeout: float) -> bool:
    """Ask `done` until it says yes (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL_S)
    return True


# --- the log ---


def last_lines(path: Path, count: int) -> tuple[bytes, int]:
    """The last `count` lines of `path` (all of it for a negative count), and its size then."""
    with path.open("rb") as log:
        size = log.seek(0, os.SEEK_END)
        if count < 0:
            log.seek(0)
            return log.read(), size
        if count == 0:
            return b"", size
        end = size
        data = b""
        # Read backwards a block at a time until enough line ends are in hand (the file's last
        # byte is normally a line end, which does not start a line).
        while end > 0 and data.count(b"\n", 0, len(data) - 1) < count:
            start = max(0, end - _BLOCK)
            log.seek(start)
            data = log.read(end - start) + data
            end = start
        lines = data.splitlines(keepends=True)
        return b"".join(lines[-count:]), size


def follow(path: Path, offset: int, out: BinaryIO) -> None:
    """Copy what is appended to `path` after `offset` to `out` until Ctrl-C; a log replaced or
    cut short (rotated, emptied) is read again from its start."""
    log = path.open("rb")
    try:
        log.seek(offset)
        while True:
            chunk = log.read(_BLOCK)
            if chunk:
                out.write(chunk)
                out.flush()
                continue
            time.sleep(_FOLLOW_POLL_S)
            try:
                now = path.stat()
            except FileNotFoundError:
                continue  # being replaced; wait for the new one
            if now.st_ino != os.fstat(log.fileno()).st_ino or now.st_size < log.tell():
                log.close()
                log = path.open("rb")
    finally:
        log.close()


def write_out(data: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
