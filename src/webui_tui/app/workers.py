"""Workers that never end the app: `work` (textual's, with exit_on_error off) and the one handler
that turns any failed worker into a `Problem` notice (`ReportsWorkerFailures`).

Workers catch the client's own errors where they know what was being done; anything else (a bug,
an answer nobody expected) used to end the TUI with a traceback. Now the worker's node gets
`Worker.StateChanged` with state ERROR and this handler shows it in one line.
"""

from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from textual import work as textual_work
from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from webui_tui.app.widgets.notice import Problem

P = ParamSpec("P")
R = TypeVar("R")


def work(
    *, group: str = "default", exclusive: bool = False
) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Worker[R]]]:
    """`@work(...)` as textual's, except that a worker's failure is reported, not fatal."""

    def decorate(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Worker[R]]:
        return textual_work(method, group=group, exclusive=exclusive, exit_on_error=False)

    return decorate


class ReportsWorkerFailures:
    """Mixed into every screen and the app: the nodes that start workers (StateChanged does not
    bubble, so each such node handles its own)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is not WorkerState.ERROR or worker.error is None:
            return
        doing = worker.name.replace("_", " ").strip() if worker.name else ""
        node: DOMNode = self  # type: ignore[assignment]  # always mixed into a DOMNode
        node.post_message(Problem(worker.error, doing))
