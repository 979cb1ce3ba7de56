"""`Problem`: the one message every failure travels in, up to the app's notice handler."""

from textual.message import Message


class Problem(Message):
    """Something failed; the app shows it once, as a notice (and reconnects if need be)."""

    def __init__(self, error: BaseException, doing: str = "") -> None:
        super().__init__()
        self.error = error
        self.doing = doing


class Reconnected(Message):
    """The daemon answers again: screens reload what they show."""
