"""The conversation: message views rendered lazily, streaming coalesced, bottom-following.

Only the last `PAGE` messages of a branch are mounted; `home` (or moving up past the first)
mounts the page before. While an answer streams, text is gathered and shown at most every
`FLUSH_S` seconds, and the view follows the bottom only if the reader was there. A redraw
costs Textual work for every line of the message, so a long answer is redrawn less often:
every `FLUSH_S` up to `PACE_LINES` lines, then proportionally more seldom, at most every
`MAX_FLUSH_S`.
"""

import time
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Static

from webui_tui.app.widgets.message_view import MessageInfo, MessageView

PAGE = 40
FLUSH_S = 0.05
MAX_FLUSH_S = 0.2
PACE_LINES = 30


class Conversation(VerticalScroll, can_focus=False):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("home", "earlier", "Earlier", show=False)]

    DEFAULT_CSS = """
    Conversation { height: 1fr; }
    Conversation > .earlier { color: $text-muted; padding: 0 1; }
    Conversation > .empty { color: $text-muted; padding: 1 2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._infos: list[MessageInfo] = []
        self._first_shown = 0
        self._stream_view: MessageView | None = None
        self._buffer: list[str] = []
        self._dirty = False
        self._timer: Timer | None = None
        self._flushed_at = 0.0
        self.flushes = 0  # how many redraws streaming caused (benchmarks read it)

    @property
    def views(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    def show(self, infos: list[MessageInfo], empty_text: str = "") -> None:
        """Replace everything with these messages (the last page of them mounted)."""
        self.end_stream()
        self._infos = list(infos)
        self._first_shown = max(0, len(infos) - PAGE)
        self.remove_children()
        widgets: list[Static] = []
        if self._first_shown:
            widgets.append(self._earlier_marker())
        widgets += [MessageView(info) for info in infos[self._first_shown :]]
        if not infos and empty_text:
            widgets.append(Static(empty_text, classes="empty"))
        self.mount_all(widgets)
        self.scroll_end(animate=False)

    def _earlier_marker(self) -> Static:
        return Static(f"▲ {self._first_shown} earlier messages (home)", classes="earlier")

    def action_earlier(self) -> None:
        self.load_earlier()

    def load_earlier(self) -> MessageView | None:
        """Mount the page before the first shown; the view that was first, to keep focus."""
        if not self._first_shown:
            return None
        start = max(0, self._first_shown - PAGE)
        new = [MessageView(info) for info in self._infos[start : self._first_shown]]
        self._first_shown = start
        for marker in self.query_children(".earlier"):
            marker.remove()
        first = self.views[0] if self.views else None
        self.mount_all(new, before=0)
        if start:
            self.mount(self._earlier_marker(), before=0)
        return first

    def add(self, info: MessageInfo) -> MessageView:
        for empty in self.query_children(".empty"):
            empty.remove()
        self._infos.append(info)
        view = MessageView(info)
        self.mount(view)
        self.scroll_end(animate=False)
        return view

    def view_of(self, message_id: str) -> MessageView | None:
        for view in self.views:
            if view.info.id == message_id:
                return view
        return None

    # --- streaming ---

    @property
    def at_bottom(self) -> bool:
        return self.scroll_y >= self.max_scroll_y - 1

    def begin_stream(self, view: MessageView, text: str = "") -> None:
        self.end_stream()
        self._stream_view = view
        view.streaming = True
        self._buffer = [text] if text else []
        self._dirty = True
        self._timer = self.set_interval(FLUSH_S, self.flush)

    def feed(self, text: str) -> None:
        self._buffer.append(text)
        self._dirty = True

    def streamed_length(self) -> int:
        """How much text the answer streaming now has (where a tool call comes in it)."""
        return sum(len(piece) for piece in self._buffer)

    def reset_stream(self) -> None:
        self._buffer = []
        self._dirty = True

    def flush(self) -> None:
        view = self._stream_view
        if view is None or not self._dirty:
            return
        now = time.monotonic()
        pace = min(MAX_FLUSH_S, FLUSH_S * max(1.0, view.size.height / PACE_LINES))
        if now - self._flushed_at < pace - FLUSH_S / 2:
            return
        self._flushed_at = now
        self._dirty = False
        follow = self.at_bottom
        view.set_content("".join(self._buffer))
        self.flushes += 1
        if follow:
            self.scroll_end(animate=False)

    def end_stream(self) -> str:
        """Show the last of the text and stop the timer; the text streamed."""
        view = self._stream_view
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = "".join(self._buffer)
        if view is not None:
            view.streaming = False
            self._dirty = True
            follow = self.at_bottom
            view.set_content(text)
            if follow:
                self.scroll_end(animate=False)
        self._stream_view = None
        self._buffer = []
        return text
