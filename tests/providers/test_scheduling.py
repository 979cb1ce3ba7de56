"""The fair scheduler on its own (services/scheduling/queue.py): order of service, places in
line, cancelling while queued, limits and a node that goes away, with real asyncio tasks."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from webui_daemon.services.scheduling.queue import NodeGone, Place, QueueFull, Scheduler

NODE = "http://gpu-box:11434"


class Box:
    """Generations as tasks that hold their slot until the test lets them finish."""

    def __init__(self, scheduler: Scheduler, capacity: int) -> None:
        self.scheduler = scheduler
        self.capacity = capacity
        self.served: list[str] = []  # labels, in the order their slot was granted
        self.release: dict[str, asyncio.Event] = {}
        self.places: dict[str, list[Place]] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def submit(self, label: str, user: str, *, interactive: bool = True) -> asyncio.Task[None]:
        self.release[label] = asyncio.Event()
        self.places[label] = []

        async def told(place: Place) -> None:
            self.places[label].append(place)

        async def run() -> None:
            ticket = await self.scheduler.acquire(
                NODE,
                capacity=self.capacity,
                user_id=user,
                user_name=user,
                model="m",
                interactive=interactive,
                on_wait=told,
            )
            try:
                self.served.append(label)
                await self.release[label].wait()
            finally:
                self.scheduler.release(ticket)

        task = asyncio.create_task(run())
        self.tasks[label] = task
        return task

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def finish(self, label: str) -> None:
        self.release[label].set()
        await self.tasks[label]
        await self.settle()


def make_box(capacity: int = 2, **kwargs: Any) -> Box:
    return Box(Scheduler(**kwargs), capacity)


async def test_one_users_batch_does_not_hold_back_another_users_request() -> None:
    box = make_box(capacity=2)
    for i in range(20):
        box.submit(f"a{i}", "alice")
    await box.settle()
    box.submit("b0", "bob")
    await box.settle()
    assert box.served == ["a0", "a1"]
    assert box.places["b0"][-1].position == 1  # next in line, ahead of alice's 18
    assert box.places["a2"][-1].position == 2
    await box.finish("a0")
    assert box.served == ["a0", "a1", "b0"]
    await box.finish("a1")
    assert box.served[-1] == "a2"
    for task in box.tasks.values():
        task.cancel()
    await box.settle()


async def test_users_are_served_in_turn_and_each_in_arrival_order() -> None:
    box = make_box(capacity=1)
    box.submit("first", "carol")
    await box.settle()
    for label, user in [("a1", "alice"), ("a2", "alice"), ("a3", "alice")]:
        box.submit(label, user)
    for label, user in [("b1", "bob"), ("b2", "bob"), ("c1", "carol")]:
        box.submit(label, user)
    await box.settle()
    # Positions as announced: alice and bob have never been served, carol has.
    assert [box.places[x][-1].position for x in ("a1", "b1", "c1", "a2", "b2", "a3")] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    for label in ["first", "a1", "b1", "c1", "a2", "b2"]:
        await box.finish(label)
    assert box.served == ["first", "a1", "b1", "c1", "a2", "b2", "a3"]
    await box.finish("a3")


async def test_interactive_turns_go_before_batch_traffic() -> None:
    box = make_box(capacity=1)
    box.submit("running", "alice", interactive=False)
    await box.settle()
    box.submit("batch1", "alice", interactive=False)
    box.submit("batch2", "bob", interactive=False)
    await box.settle()
    box.submit("chat", "alice", interactive=True)
    await box.settle()
    assert box.places["chat"][-1].position == 1
    await box.finish("running")
    assert box.served[-1] == "chat"
    for label in ["chat", "batch2", "batch1"]:
        await box.finish(label)
    assert box.served == ["running", "chat", "batch2", "batch1"]


async def test_interactive_priority_can_be_turned_off() -> None:
    box = make_box(capacity=1, interactive_first=False)
    box.submit("running", "alice", interactive=False)
    box.submit("batch", "bob", interactive=False)
    await box.settle()
    box.submit("chat", "carol", interactive=True)
    await box.settle()
    await box.finish("running")
    assert box.served == ["running", "batch"]
    await box.finish("batch")
    await box.finish("chat")


async def test_cancelling_a_waiting_request_removes_it_at_once() -> None:
    box = make_box(capacity=1)
    sched = box.scheduler
    box.submit("running", "alice")
    box.submit("gone", "bob")
    box.submit("next", "carol")
    await box.settle()
    assert box.places["next"][-1].position == 2
    box.tasks["gone"].cancel()
    await box.settle()
    assert box.tasks["gone"].cancelled()
    assert [t.state for t in sched.tickets()] == ["running", "queued"]
    assert box.places["next"][-1].position == 1  # told that the line moved
    await box.finish("running")
    assert box.served == ["running", "next"]  # the cancelled one never took a slot
    await box.finish("next")
    assert sched.tickets() == []


async def test_a_users_running_limit_lets_others_through() -> None:
    box = make_box(capacity=4, user_max_running=1)
    box.submit("a1", "alice")
    box.submit("a2", "alice")
    box.submit("b1", "bob")
    await box.settle()
    assert box.served == ["a1", "b1"]  # a free slot, but alice already holds her one
    await box.finish("a1")
    assert box.served == ["a1", "b1", "a2"]
    await box.finish("a2")
    await box.finish("b1")


async def test_too_many_waiting_requests_are_refused_with_a_retry_after() -> None:
    box = make_box(capacity=1, user_max_queued=2)
    box.submit("running", "alice")
    box.submit("w1", "alice")
    box.submit("w2", "alice")
    await box.settle()
    refused = box.submit("w3", "alice")
    await box.settle()
    with pytest.raises(QueueFull) as info:
        await refused
    assert info.value.status == 429 and info.value.retry_after >= 1
    assert "2 requests waiting" in info.value.detail
    ok = box.submit("b1", "bob")  # other users are not affected
    await box.settle()
    assert not ok.done()
    for task in box.tasks.values():
        task.cancel()
    await box.settle()


async def test_waiting_requests_leave_a_node_that_goes_away() -> None:
    box = make_box(capacity=1)
    sched = box.scheduler
    box.submit("running", "alice")
    waiting = box.submit("waiting", "bob")
    await box.settle()
    sched.fail_node(NODE)
    await box.settle()
    with pytest.raises(NodeGone):
        await waiting
    assert [t.state for t in sched.tickets()] == ["running"]
    await box.finish("running")


async def test_estimated_wait_follows_the_nodes_pace() -> None:
    now = [0.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    box = make_box(capacity=2, clock=clock)
    box.submit("a", "alice")
    box.submit("b", "bob")
    await box.settle()
    box.submit("c", "carol")
    box.submit("d", "dave")
    await box.settle()
    assert box.places["d"][-1].eta_s is None  # nothing finished yet to judge by
    now[0] = 10.0
    await box.finish("a")  # a took 10 s; c runs, d is first in line
    place = box.places["d"][-1]
    assert (place.position, place.eta_s) == (1, 5.0)  # 1 ahead-slot of 10 s over 2 slots
    for label in ["b", "c", "d"]:
        await box.finish(label)


@pytest.mark.parametrize("seed", range(8))
async def test_announced_places_are_the_order_of_service(seed: int) -> None:
    """However requests, users and priorities mix, the place each waiting request is told is
    the order the node then serves them in (one slot, freed one at a time)."""
    import random

    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not a secret
    for interactive_first in (True, False):
        box = make_box(capacity=1, interactive_first=interactive_first)
        box.submit("holder", "zed")
        for i in range(rng.randint(3, 6)):  # some history: users served before
            await box.settle()
            box.submit(f"h{i}", rng.choice(["ann", "bo", "cy"]))
            await box.finish(box.served[-1])
        waiting = []
        for i in range(rng.randint(5, 14)):
            label = f"w{i}"
            box.submit(
                label, rng.choice(["ann", "bo", "cy", "dee"]), interactive=rng.random() < 0.6
            )
            waiting.append(label)
        await box.settle()
        told = {label: box.places[label][-1].position for label in waiting}
        announced = sorted(waiting, key=told.__getitem__)
        assert sorted(told.values()) == list(range(1, len(waiting) + 1))
        start = len(box.served)  # the last of the history holds the slot
        while len(box.served) < start + len(waiting):
            await box.finish(box.served[-1])
        assert box.served[start:] == announced, (told, box.served)
        await box.finish(box.served[-1])
