"""NodePool: which upstream node to ask, by health and load.

Open WebUI picks a node at random and never retries. Here each node (one configured URL) has an
in-flight count and a health state: callers try nodes in `order()` (healthy ones first, least
busy first, then least recently used), report `failed()` or `succeeded()`, and a node that
failed is left alone while a background probe asks it again after a back-off that doubles from
`retry_after` up to `max_retry_after`. A node that is down is still tried last, so a request
never fails without trying every node.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Prober = Callable[[], Awaitable[bool]]


@dataclass(slots=True)
class NodeState:
    in_flight: int = 0
    down: bool = False
    failures: int = 0  # since the last request that worked
    next_probe_at: float = 0.0
    last_used: float = 0.0
    probing: bool = False
    reason: str = ""  # why it is down (the last failure), for `webui status`


class NodePool:
    def __init__(
        self,
        *,
        retry_after: float = 2.0,
        max_retry_after: float = 60.0,
        probe_timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retry_after = retry_after
        self._max_retry_after = max_retry_after
        self._probe_timeout = probe_timeout
        self._clock = clock
        self._nodes: dict[str, NodeState] = {}
        self._probers: dict[str, Prober] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def state(self, node: str) -> NodeState:
        state = self._nodes.get(node)
        if state is None:
            state = self._nodes[node] = NodeState()
        return state

    def register(self, node: str, prober: Prober) -> None:
        """How to ask `node` whether it is back (called again when the configuration changes)."""
        self._probers[node] = prober

    def forget_others(self, nodes: set[str]) -> None:
        """Drop the state of nodes no longer configured (their probes end on their own)."""
        for node in set(self._nodes) - nodes:
            if not self._nodes[node].in_flight:
                del self._nodes[node]
        for node in set(self._probers) - nodes:
            del self._probers[node]

    def down_reason(self, node: str) -> str | None:
        """Why `node` is down (its last failure), or None when it is not."""
        state = self._nodes.get(node)
        return (state.reason or "no answer") if state is not None and state.down else None

    def is_down(self, node: str) -> bool:
        state = self._nodes.get(node)
        return state is not None and state.down

    def order(self, items: Sequence[T], node: Callable[[T], str]) -> list[T]:
        def rank(item: T) -> tuple[int, float, float]:
            state = self.state(node(item))
            if state.down:
                return (1, state.next_probe_at, 0.0)
            return (0, float(state.in_flight), state.last_used)

        return sorted(items, key=rank)

    def acquire(self, node: str) -> NodeState:
        """Count one request in flight on `node` until `release()`."""
        state = self.state(node)
        state.in_flight += 1
        state.last_used = self._clock()
        return state

    @staticmethod
    def release(state: NodeState) -> None:
        state.in_flight -= 1

    @contextlib.contextmanager
    def use(self, node: str) -> Iterator[NodeState]:
        """Count one request in flight on `node` for the duration of the block."""
        state = self.acquire(node)
        try:
            yield state
        finally:
            self.release(state)

    def succeeded(self, node: str) -> None:
        """A request worked: the node is healthy and its failure count starts over."""
        state = self._nodes.get(node)
        if state is not None and (state.failures or state.down):
            if state.down:
                log.info("provider node %s is back", node)
            state.down = False
            state.failures = 0
            state.reason = ""

    def _back_off(self, state: NodeState) -> float:
        state.failures += 1
        delay = min(self._retry_after * 2.0 ** (state.failures - 1), self._max_retry_after)
        state.next_probe_at = self._clock() + delay
        return delay

    def failed(self, node: str, reason: str = "") -> None:
        state = self.state(node)
        was_down, state.down = state.down, True
        state.reason = reason
        delay = self._back_off(state)
        if not was_down:
            log.warning(
                "provider node %s failed (%s); probing it again in %.1f s", node, reason, delay
            )
        if not state.probing and node in self._probers:
            state.probing = True
            task = asyncio.get_running_loop().create_task(self._probe_loop(node))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _probe_loop(self, node: str) -> None:
        state = self.state(node)
        try:
            while state.down and self._nodes.get(node) is state:
                await asyncio.sleep(max(0.0, state.next_probe_at - self._clock()))
                prober = self._probers.get(node)
                if prober is None or not state.down:
                    return
                try:
                    async with asyncio.timeout(self._probe_timeout):
                        ok = await prober()
                except TimeoutError:
                    ok = False
                if ok:
                    # Eligible again; only a request that works resets `failures`, so a node
                    # that passes its probe but keeps failing waits longer each time.
                    state.down = False
                    state.reason = ""
                    log.info("provider node %s answers its probe", node)
                else:
                    self._back_off(state)
        finally:
            state.probing = False

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
