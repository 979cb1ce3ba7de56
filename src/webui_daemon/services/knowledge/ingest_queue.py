"""FairQueue: the files waiting for processing, one line per uploading user, served in turns.

A single first-come queue lets one user's hundred uploads (or one huge file and its followers)
hold everyone else's files for as long as they take. Here each owner has a line of their own,
and a worker asking for work gets the head of the line of the owner with the fewest files
being processed right now, ties going to the owner served longest ago (an owner new to the
queue first). So a user with one file waits for at most one file of each other user, however
many those users queued, and with several workers one user never holds them all while others
wait. Within a line, files keep their order.
"""

import asyncio
from collections import deque


class FairQueue:
    def __init__(self) -> None:
        self._lines: dict[str, deque[str]] = {}  # owner -> waiting items, oldest first
        self._owner: dict[str, str] = {}  # waiting item -> owner
        self._running: dict[str, int] = {}  # owner -> items taken and not yet done
        self._last_turn: dict[str, int] = {}  # owner -> the turn they were last served
        self._turns = 0
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._owner)

    def __contains__(self, item: object) -> bool:
        return item in self._owner

    def items(self) -> list[str]:
        """Every waiting item, in no particular order."""
        return list(self._owner)

    def put(self, owner: str, item: str) -> None:
        """Queue `item` at the end of its owner's line (no-op when it is already waiting)."""
        if item in self._owner:
            return
        self._owner[item] = owner
        self._lines.setdefault(owner, deque()).append(item)
        self._ready.set()

    def remove(self, item: str) -> bool:
        """Take a waiting item out of the queue; False when it was not waiting."""
        owner = self._owner.pop(item, None)
        if owner is None:
            return False
        line = self._lines[owner]
        line.remove(item)
        if not line:
            del self._lines[owner]
            self._forget_if_idle(owner)
        return True

    async def get(self) -> tuple[str, str]:
        """The next (owner, item), waiting until there is one. Call `done(owner)` when the
        item's processing ends, so the owner's share is counted right."""
        while not self._lines:
            self._ready.clear()
            await self._ready.wait()
        owner = min(
            self._lines, key=lambda o: (self._running.get(o, 0), self._last_turn.get(o, -1))
        )
        line = self._lines[owner]
        item = line.popleft()
        if not line:
            del self._lines[owner]
        del self._owner[item]
        self._turns += 1
        self._last_turn[owner] = self._turns
        self._running[owner] = self._running.get(owner, 0) + 1
        return owner, item

    def done(self, owner: str) -> None:
        count = self._running.get(owner, 0) - 1
        if count > 0:
            self._running[owner] = count
        else:
            self._running.pop(owner, None)
            self._forget_if_idle(owner)

    def _forget_if_idle(self, owner: str) -> None:
        # An owner with nothing waiting or running leaves no trace (the dicts stay as small as
        # the set of busy users); when they come back they count as new, which is fair: they
        # held nobody up meanwhile.
        if owner not in self._lines and owner not in self._running:
            self._last_turn.pop(owner, None)
