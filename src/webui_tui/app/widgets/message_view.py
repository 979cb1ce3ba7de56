"""One message of the conversation: who, branch position `◀ 2/3 ▶`, Markdown, its tool calls
(blocks, enter or space opens and closes them), its numbered sources, notes, usage."""

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from webui_daemon.schemas.citations import number_sources
from webui_tui.app.widgets.streamed import Rendered, StreamedMarkdown, markdown
from webui_tui.app.widgets.tool_blocks import ToolBlock, add_item, render, segments

CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


@dataclass
class MessageInfo:
    """What a message view shows (built by the screen from the chat tree)."""

    id: str
    role: str
    speaker: str
    content: str
    index: int = 1  # position among its siblings, from 1
    total: int = 1
    notes: list[str] = field(default_factory=list)
    stats: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # `photo.png 1024×768`, one line each
    tools: list[ToolBlock] = field(default_factory=list)  # the calls the daemon ran for it


class MessageView(Static, can_focus=True):
    """Keys act on this message; the screen does the work when it gets the message posted."""

    DEFAULT_CSS = """
    MessageView { height: auto; padding: 0 1; margin: 0 0 1 0; }
    MessageView.user { background: $boost; }
    MessageView:focus { background: $primary 15%; }
    """

    HELP_TITLE = "A message (ctrl+l, then ↑ ↓)"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "ask('edit')", "Edit", id="message.edit", tooltip="Edit and resend yours"),
        Binding(
            "r",
            "ask('regenerate')",
            "Regen",
            id="message.regenerate",
            tooltip="Regenerate from here (a new branch)",
        ),
        Binding("s", "ask('sources')", "Sources", id="message.sources"),
        Binding("c", "copy", "Copy", id="message.copy", tooltip="Copy the message (OSC 52)"),
        Binding(
            "left,[",
            "branch(-1)",
            "◀ branch",
            id="message.prev_branch",
            show=False,
            tooltip="Previous branch",
        ),
        Binding(
            "right,]",
            "branch(1)",
            "branch ▶",
            id="message.next_branch",
            show=False,
            tooltip="Next branch",
        ),
        Binding(
            "y",
            "copy_code",
            "Copy code",
            id="message.copy_code",
            show=False,
            tooltip="Copy its last code block",
        ),
        Binding(
            "enter,space",
            "toggle_tools",
            "Tool calls",
            id="message.tools",
            show=False,
            tooltip="Open or close its tool calls (arguments, whole result)",
        ),
        Binding("up,k", "move(-1)", "Previous", show=False, tooltip="Previous message"),
        Binding("down,j", "move(1)", "Next", show=False, tooltip="Next message"),
    ]

    class BranchAsked(Message):
        def __init__(self, message_id: str, step: int) -> None:
            super().__init__()
            self.message_id = message_id
            self.step = step

    class ActionAsked(Message):
        def __init__(self, action: str, message_id: str) -> None:
            super().__init__()
            self.action = action
            self.message_id = message_id

    class MoveAsked(Message):
        def __init__(self, view: "MessageView", step: int) -> None:
            super().__init__()
            self.view = view
            self.step = step

    def __init__(self, info: MessageInfo) -> None:
        super().__init__(classes=info.role)
        # No links to highlight (Markdown is drawn with hyperlinks off): skip restyling lines.
        self.set_reactive(MessageView.auto_links, False)
        self.info = info
        self.waiting = ""  # "waiting: 2nd in line …" while a busy node holds the answer back
        self._streaming = False
        self._streamed: StreamedMarkdown | None = None
        self.tools_open = False
        self.update(self._renderable())

    @property
    def streaming(self) -> bool:
        return self._streaming

    @streaming.setter
    def streaming(self, value: bool) -> None:
        # While streaming, only the last block of the answer is rendered again on a change;
        # after, the whole answer as one Markdown (as a reopened chat shows it).
        self._streaming = value
        self._streamed = StreamedMarkdown() if value else None

    def set_content(self, text: str) -> None:
        self.info.content = text
        self.update(self._renderable())

    def add_tool(self, item: dict[str, Any], at: int) -> None:
        """A tool call or result of the answer (a `: webui.tool` event), `at` this much text."""
        add_item(self.info.tools, item, at)
        self.update(self._renderable())

    def action_toggle_tools(self) -> None:
        if self.info.tools:
            self.tools_open = not self.tools_open
            self.update(self._renderable())

    def set_waiting(self, text: str) -> None:
        """Shown in the answer's place until its first text arrives."""
        if text != self.waiting:
            self.waiting = text
            self.update(self._renderable())

    def set_stats(self, stats: str, notes: list[str] | None = None) -> None:
        self.info.stats = stats
        if notes is not None:
            self.info.notes = notes
        self.update(self._renderable())

    def _renderable(self) -> RenderableType:
        info = self.info
        head = Text(info.speaker, style="bold")
        if info.total > 1:
            head.append(f"  ◀ {info.index}/{info.total} ▶", style="dim")
        if self.streaming:
            head.append("  …", style="dim")
        parts: list[RenderableType] = [head]
        parts.extend(Text(f"[image: {label}]", style="dim") for label in info.images)
        if info.tools:
            parts.extend(self._with_tools())
        elif info.content:
            if self._streamed is not None:
                parts.append(self._streamed.update(info.content))
            else:
                parts.append(Rendered(markdown(info.content)))
        elif info.role == "assistant" and not info.notes:
            parts.append(Text(self.waiting or "…", style="dim"))
        citations = number_sources(info.sources) if not self.streaming else []
        if citations:  # numbered as the answer cites them, as `webui chat --kb` lists them
            listed = Text("Sources", style="bold dim")
            listed.append("  (s: what each says)", style="dim")
            for citation in citations:
                listed.append("\n" + citation.line(), style="dim")
            parts.append(listed)
        foot = list(info.notes)
        if info.stats:
            foot.append(info.stats)
        if foot:
            parts.append(Text(" · ".join(foot), style="dim italic"))
        return Group(*parts)

    def _with_tools(self) -> list[RenderableType]:
        """The answer's text with its tool blocks where they came; while streaming, only the
        text after the last block is the growing Markdown."""
        pieces = segments(self.info.content, self.info.tools)
        out: list[RenderableType] = []
        for index, piece in enumerate(pieces):
            if isinstance(piece, ToolBlock):
                out.append(render(piece, open_=self.tools_open))
            elif self._streamed is not None and index == len(pieces) - 1:
                out.append(self._streamed.update(piece))
            else:
                out.append(Rendered(markdown(piece)))
        return out

    def action_branch(self, step: int) -> None:
        if self.info.total > 1:
            self.post_message(self.BranchAsked(self.info.id, step))

    def action_ask(self, action: str) -> None:
        self.post_message(self.ActionAsked(action, self.info.id))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.info.content)
        self.notify("Message copied (OSC 52)")

    def action_copy_code(self) -> None:
        blocks = CODE_BLOCK.findall(self.info.content)
        if not blocks:
            self.notify("No code block in this message", severity="warning")
            return
        self.app.copy_to_clipboard(blocks[-1].rstrip("\n"))
        self.notify("Code block copied (OSC 52)")

    def action_move(self, step: int) -> None:
        self.post_message(self.MoveAsked(self, step))
