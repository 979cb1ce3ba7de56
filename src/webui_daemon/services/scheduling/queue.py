"""Fair scheduling of generations on provider nodes (one GPU box, many users).

Each node has a capacity: the generations it runs at once (0: no limit, nobody waits). A request
beyond it waits in its user's queue for that node, and when a slot frees the next request is
chosen:

1. interactive turns before API-key (batch) traffic, when `interactive_first` is on;
2. among the users with a request of that class waiting, the one served least recently on this
   node (a user who has never been served goes first): one user's 20 requests do not delay
   another user's single request by more than one slot;
3. within one user, first come, first served.

A user already holding `user_max_running` slots (all nodes together; 0: no limit) waits even
when a slot is free; a user with `user_max_queued` requests waiting is refused at once
(`QueueFull`, 429 with Retry-After). A waiting request learns its place in line and an estimated
wait whenever the line moves (`Place`), and cancelling it (client gone, stop) removes it at once
without taking a slot. `fail_node` wakes a node's waiting requests with `NodeGone` so that their
callers fail over to another node. State is in memory only: a daemon that stops tells its
waiting requests so at once (`close`: Unavailable), and a restarted one has no line.
"""

import asyncio
import itertools
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from webui_daemon.services import errors

# Weight of the newest generation in a node's average duration (for the estimated wait).
EWMA_WEIGHT = 0.3


# The key of the queue-position items a completion stream yields before its first chunk (the
# API sends them as SSE comments, `: webui.queue {...}`, which OpenAI clients ignore).
QUEUE_KEY = "webui_queue"


STOPPING = "The webui daemon is stopping: nothing was generated. Ask again once it is back."


class QueueFull(errors.RateLimited):
    """The user already has as many requests waiting as they may."""


class NodeGone(Exception):
    """The node a request was waiting for stopped answering: try another one."""


@dataclass(eq=False)
class Ticket:
    """One generation, waiting for or holding a slot on a node."""

    user_id: str
    user_name: str
    model: str
    node: str
    interactive: bool
    enqueued_at: float
    where: str = ""  # the node for people (host:port)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: float | None = None
    chars: int = 0  # of answer text so far, counted by the caller as it streams
    tokens_in: int | None = None  # the provider's counts, when its answer gave them
    tokens_out: int | None = None
    task: asyncio.Task[Any] | None = None  # what stopping it cancels (the request's task)
    turn: bool = False  # a server-side turn (its id is the assistant message's): stopped as one
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _gone: bool = False

    @property
    def state(self) -> str:
        return "queued" if self.started_at is None else "running"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a waiting request stands: `position` 1 is served next."""

    position: int
    eta_s: float | None  # None until the node has finished a generation to judge by
    model: str
    node: str  # where, for people: the node's host:port


def queue_item(place: Place) -> dict[str, Any]:
    """A place in line as the item a completion stream yields."""
    return {
        QUEUE_KEY: {
            "position": place.position,
            "eta_s": place.eta_s,
            "model": place.model,
            "node": place.node,
        }
    }


@dataclass
class _Node:
    capacity: int = 0  # 0: no limit
    running: set[Ticket] = field(default_factory=set)
    waiting: list[Ticket] = field(default_factory=list)  # arrival order
    last_served: dict[str, int] = field(default_factory=dict)  # user -> serial of last grant
    avg_duration: float | None = None
    places: dict[Ticket, int] | None = None  # positions in line, until the line changes


class Scheduler:
    def __init__(
        self,
        *,
        user_max_running: int = 0,
        user_max_queued: int = 64,
        interactive_first: bool = True,
        clock: Callable[[], float] = time.monotonic,
        on_finished: Callable[[Ticket], None] | None = None,
    ) -> None:
        self._on_finished = on_finished
        self._closed = False
        self._user_max_running = user_max_running
        self._user_max_queued = user_max_queued
        self._interactive_first = interactive_first
        self._clock = clock
        self._nodes: dict[str, _Node] = {}
        self._serial = itertools.count(1)

    # ---- what is going on -------------------------------------------------------------------

    def tickets(self) -> list[Ticket]:
        """Running then waiting generations, each group oldest first."""
        running = [t for n in self._nodes.values() for t in n.running]
        waiting = [t for n in self._nodes.values() for t in n.waiting]
        running.sort(key=lambda t: t.started_at or 0.0)
        waiting.sort(key=lambda t: t.enqueued_at)
        return running + waiting

    def describe(self, ticket: Ticket) -> dict[str, Any]:
        """A ticket as `GET /api/webui/generations` lists it."""
        now = self._clock()
        started = ticket.started_at
        place = self.place(ticket) if started is None else None
        return {
            "id": ticket.id,
            "user_id": ticket.user_id,
            "user_name": ticket.user_name,
            "model": ticket.model,
            "node": ticket.where or ticket.node,
            "state": ticket.state,
            "interactive": ticket.interactive,
            "turn": ticket.turn,
            "waited_s": round((started if started is not None else now) - ticket.enqueued_at, 3),
            "running_s": None if started is None else round(now - started, 3),
            "chars": ticket.chars,
            "position": place.position if place is not None else None,
        }

    def get(self, ticket_id: str) -> Ticket | None:
        return next((t for t in self.tickets() if t.id == ticket_id), None)

    def _running_for(self, user_id: str) -> int:
        return sum(1 for n in self._nodes.values() for t in n.running if t.user_id == user_id)

    def _waiting_for(self, user_id: str) -> int:
        return sum(1 for n in self._nodes.values() for t in n.waiting if t.user_id == user_id)

    # ---- taking a slot ----------------------------------------------------------------------

    def has_room(self, node: str, capacity: int) -> bool:
        """Whether a request for `node` would be served at once (nobody waits there)."""
        state = self._nodes.get(node)
        if state is None or not capacity:
            return True
        return not state.waiting and len(state.running) < capacity

    async def acquire(
        self,
        node: str,
        *,
        capacity: int,
        user_id: str,
        user_name: str,
        model: str,
        interactive: bool,
        on_wait: Callable[[Place], Awaitable[None]] | None = None,
        where: str = "",
        ticket_id: str | None = None,
        task: asyncio.Task[Any] | None = None,
    ) -> Ticket:
        """A slot on `node` (waiting in line first if it is full) until `release(ticket)`.
        Cancelled while waiting, the request leaves the line and takes no slot."""
        ticket = self._enqueue(
            node, capacity, user_id, user_name, model, interactive, where, ticket_id, task
        )
        if ticket.started_at is not None:
            return ticket  # the common case: room at once, no waiting machinery
        try:
            await self._wait(ticket, on_wait)
        except BaseException:
            self.release(ticket)
            raise
        return ticket

    def release(self, ticket: Ticket) -> None:
        """Give the slot back (or leave the line); the next request in turn is served."""
        self._leave(ticket)

    def _capacity(self, node: str) -> int:
        state = self._nodes.get(node)
        return state.capacity if state is not None and state.capacity > 0 else 1 << 30

    def _enqueue(
        self,
        node: str,
        capacity: int,
        user_id: str,
        user_name: str,
        model: str,
        interactive: bool,
        where: str,
        ticket_id: str | None = None,
        task: asyncio.Task[Any] | None = None,
    ) -> Ticket:
        state = self._nodes.setdefault(node, _Node())
        state.capacity = max(0, capacity)  # the connection's setting may have changed
        full = len(state.running) >= self._capacity(node)
        if full and self._user_max_queued and self._waiting_for(user_id) >= self._user_max_queued:
            wait = state.avg_duration or 5.0
            raise QueueFull(
                f"you already have {self._user_max_queued} requests waiting for a model; "
                "wait for some to finish",
                retry_after=max(1, round(wait)),
            )
        ticket = Ticket(user_id, user_name, model, node, interactive, self._clock(), where)
        ticket.task = task or asyncio.current_task()
        if ticket_id:
            ticket.id, ticket.turn = ticket_id, True
        state.waiting.append(ticket)
        self._dispatch(node)
        return ticket

    async def _wait(
        self, ticket: Ticket, on_wait: Callable[[Place], Awaitable[None]] | None
    ) -> None:
        told: Place | None = None
        while ticket.started_at is None:
            if self._closed:
                raise errors.Unavailable(STOPPING)
            if ticket._gone:
                raise NodeGone(ticket.node)
            ticket._changed.clear()
            place = self.place(ticket)
            if on_wait is not None and place is not None and place != told:
                told = place
                await on_wait(place)
                continue  # the line may have moved while the caller was told
            await ticket._changed.wait()

    def _leave(self, ticket: Ticket) -> None:
        state = self._nodes.get(ticket.node)
        if state is None:
            return
        if ticket in state.running:
            state.running.discard(ticket)
            if ticket.started_at is not None:
                took = self._clock() - ticket.started_at
                old = state.avg_duration
                state.avg_duration = took if old is None else old + EWMA_WEIGHT * (took - old)
            if self._on_finished is not None:
                self._on_finished(ticket)  # usage counters
            # The user's limit may have held back their requests on other nodes too.
            for name in list(self._nodes):
                self._dispatch(name)
        elif ticket in state.waiting:
            state.waiting.remove(ticket)
            self._dispatch(ticket.node)

    def close(self) -> None:
        """The daemon is stopping: every waiting request leaves its line at once, told why
        (Unavailable), instead of holding the shutdown until its grace period ends."""
        self._closed = True
        for state in self._nodes.values():
            for ticket in state.waiting:
                ticket._changed.set()

    def fail_node(self, node: str) -> None:
        """The node stopped answering: its waiting requests leave to try another node."""
        state = self._nodes.get(node)
        if state is None:
            return
        for ticket in list(state.waiting):
            ticket._gone = True
            state.waiting.remove(ticket)
            ticket._changed.set()
        self._dispatch(node)

    # ---- choosing who is next ---------------------------------------------------------------

    def _eligible(self, ticket: Ticket, running: dict[str, int]) -> bool:
        limit = self._user_max_running
        return not limit or running.get(ticket.user_id, 0) < limit

    def _pick(
        self, waiting: list[Ticket], last_served: dict[str, int], running: dict[str, int]
    ) -> Ticket | None:
        candidates = [t for t in waiting if self._eligible(t, running)]
        if not candidates:
            return None
        if self._interactive_first and any(t.interactive for t in candidates):
            candidates = [t for t in candidates if t.interactive]
        # `waiting` is in arrival order, so the first ticket seen per user is their oldest.
        heads: dict[str, Ticket] = {}
        for ticket in candidates:
            heads.setdefault(ticket.user_id, ticket)
        return min(
            heads.values(),
            key=lambda t: (last_served.get(t.user_id, 0), t.enqueued_at),
        )

    def _running_by_user(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for state in self._nodes.values():
            for ticket in state.running:
                counts[ticket.user_id] = counts.get(ticket.user_id, 0) + 1
        return counts

    def _dispatch(self, node: str) -> None:
        state = self._nodes.get(node)
        if state is None:
            return
        state.places = None  # whatever happened to the line, positions are computed again
        capacity = self._capacity(node)
        running = self._running_by_user()
        while len(state.running) < capacity:
            ticket = self._pick(state.waiting, state.last_served, running)
            if ticket is None:
                break
            state.waiting.remove(ticket)
            state.running.add(ticket)
            ticket.started_at = self._clock()
            state.last_served[ticket.user_id] = next(self._serial)
            running[ticket.user_id] = running.get(ticket.user_id, 0) + 1
            ticket._changed.set()
        for waiting in state.waiting:
            waiting._changed.set()  # the line moved (or may have): each one looks again

    def _order(self, state: _Node) -> dict[Ticket, int]:
        """Every waiting ticket's position if slots free one at a time and nobody arrives (the
        per-user running limit aside): the picks of `_pick`, found in one pass. Users take
        turns in the order of their last service, one request each per round, interactive
        requests all before batch ones when `interactive_first`."""
        classes = (
            [
                [t for t in state.waiting if t.interactive],
                [t for t in state.waiting if not t.interactive],
            ]
            if self._interactive_first
            else [list(state.waiting)]
        )
        last = dict(state.last_served)
        serial = max(last.values(), default=0)
        order: dict[Ticket, int] = {}
        for tickets in classes:
            queues: dict[str, deque[Ticket]] = {}
            for ticket in tickets:  # arrival order, so each user's queue is first come first
                queues.setdefault(ticket.user_id, deque()).append(ticket)
            users = sorted(queues, key=lambda u: (last.get(u, 0), queues[u][0].enqueued_at))
            while users:
                still = []
                for user in users:
                    order[queues[user].popleft()] = len(order) + 1
                    serial += 1
                    last[user] = serial
                    if queues[user]:
                        still.append(user)
                users = still
        return order

    def place(self, ticket: Ticket) -> Place | None:
        """Where `ticket` stands (1: served next), and the wait that means at the node's pace."""
        state = self._nodes.get(ticket.node)
        if state is None or ticket not in state.waiting:
            return None
        if state.places is None:
            state.places = self._order(state)  # one pass per change, shared by every waiter
        position = state.places[ticket]
        capacity = self._capacity(ticket.node)
        eta = None
        if state.avg_duration is not None:
            eta = round(position * state.avg_duration / capacity, 1)
        return Place(position, eta, ticket.model, ticket.where or ticket.node)
