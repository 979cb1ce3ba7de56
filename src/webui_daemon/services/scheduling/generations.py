"""What the box is doing: running and waiting generations as people see them (`webui ps`), and
stopping one (`webui stop ID`). Users see and stop their own; admins everyone's."""

from typing import Any

from webui_daemon.services.scheduling.queue import Scheduler
from webui_daemon.services.turns.turns import TurnManager
from webui_daemon.storage.rows import UserRow


class Generations:
    def __init__(self, scheduler: Scheduler, turns: TurnManager) -> None:
        self._scheduler = scheduler
        self._turns = turns

    def visible(self, user: UserRow) -> list[dict[str, Any]]:
        """Running then waiting generations, oldest first: all for an admin, else the caller's."""
        return [
            self._scheduler.describe(t)
            for t in self._scheduler.tickets()
            if user.role == "admin" or t.user_id == user.id
        ]

    def close(self) -> None:
        """Shutdown: the requests still waiting for a slot are told the daemon is stopping."""
        self._scheduler.close()

    def ids(self) -> list[str]:
        return [t.id for t in self._scheduler.tickets()]

    async def stop(self, user: UserRow, task_id: str) -> bool:
        """Stop a generation (or leave the line): a server-side turn as a stop button does
        (what arrived is saved, interrupted); any other request is ended. False when there is
        no such generation the caller may stop."""
        turn = self._turns.get(user.id, task_id)
        ticket = self._scheduler.get(task_id)
        if turn is None and ticket is not None and user.role == "admin":
            turn = self._turns.get(ticket.user_id, task_id)  # an admin stops anyone's turn
        if turn is not None:
            await self._turns.stop(turn)
            return True
        if ticket is None or (user.role != "admin" and ticket.user_id != user.id):
            return False
        if ticket.task is not None and not ticket.task.done():
            ticket.task.cancel()  # the request's task: its response ends, its slot is freed
        return True
