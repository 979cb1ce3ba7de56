"""Tool calls in an answer: one block per call (its arguments and result), collapsed to a line.

The blocks come from the daemon's `: webui.tool` events while an answer streams, or from a
saved answer's `output` (Open WebUI 0.12's `function_call` / `function_call_output` items);
each knows where in the answer's text it happened (`at`), so it is drawn between the text
before and after it.
"""

import json
from dataclasses import dataclass
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from webui_tui.client.sse import ToolActivity

RESULT_LINES = 20  # an open block shows at most this many lines of the result


@dataclass
class ToolBlock:
    call_id: str
    name: str
    arguments: str
    status: str  # queued, pending, in_progress, completed, failed, rejected
    at: int  # where in the answer's text the call came
    result: str | None = None

    def line(self) -> str:
        """`get_forecast(city="Oslo")`, as `webui chat` shows a call."""
        item = {"type": "function_call", "name": self.name, "arguments": self.arguments}
        return ToolActivity(item).line().removeprefix("→ ")


def add_item(blocks: list[ToolBlock], item: dict[str, Any], at: int) -> None:
    """One tool event into the blocks: a new call, a call's new status, or its result."""
    call_id = str(item.get("call_id") or item.get("id") or "")
    known = next((b for b in blocks if b.call_id == call_id), None)
    if item.get("type") == "function_call":
        if known is None:
            name, arguments = str(item.get("name") or "?"), item.get("arguments")
            text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
            blocks.append(ToolBlock(call_id, name, text, str(item.get("status") or ""), at))
        elif known.result is None:
            known.status = str(item.get("status") or known.status)
    elif item.get("type") == "function_call_output" and known is not None:
        parts = item.get("output") or []
        known.result = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
        known.status = str(item.get("status") or "completed")


def blocks_of(output: Any) -> list[ToolBlock]:
    """A saved answer's tool blocks, each placed after the text that came before it."""
    blocks: list[ToolBlock] = []
    if not isinstance(output, list):
        return blocks
    at = 0
    for item in output:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "message":
            at += sum(
                len(str(p.get("text", "")))
                for p in item.get("content") or []
                if isinstance(p, dict)
            )
        else:
            add_item(blocks, item, at)
    return blocks


def segments(text: str, blocks: list[ToolBlock]) -> list[str | ToolBlock]:
    """The answer as its text pieces with the blocks between them, in order."""
    out: list[str | ToolBlock] = []
    start = 0
    for block in sorted(blocks, key=lambda b: b.at):
        at = min(max(block.at, start), len(text))
        if text[start:at]:
            out.append(text[start:at])
        out.append(block)
        start = at
    if text[start:]:
        out.append(text[start:])
    return out


_MARKS = {"failed": "✗", "rejected": "✗", "completed": "✓"}


def render(block: ToolBlock, *, open_: bool) -> RenderableType:
    """Collapsed: the call and its result on one line. Open: the arguments and the result."""
    done = block.result is not None
    mark = _MARKS.get(block.status, "…") if done else "…"
    style = "red" if block.status in ("failed", "rejected") else "cyan"
    head = Text("▾ " if open_ else "▸ ", style="dim")
    head.append(f"{mark} ", style=style)
    if not open_:
        head.append(block.line(), style="bold")
        result = " ".join((block.result or "").split())
        head.append(f"  → {result}" if done else f"  {_waiting(block.status)}", style="dim")
        head.no_wrap, head.overflow = True, "ellipsis"
        return head
    head.append(block.name, style="bold")
    head.append(f"  {block.status}", style="dim")
    body = Text()
    body.append("\n  arguments: ", style="dim")
    body.append(_pretty(block.arguments, indent=4))
    if done:
        body.append("\n  result: ", style="dim")
        lines = _pretty(block.result or "", indent=4).split("\n")
        body.append("\n".join(lines[:RESULT_LINES]))
        if len(lines) > RESULT_LINES:
            body.append(f"\n    … {len(lines) - RESULT_LINES} more lines", style="dim")
    else:
        body.append(f"\n  {_waiting(block.status)}", style="dim")
    return Text.assemble(head, body)


def _waiting(status: str) -> str:
    if status == "pending":
        return "waiting for approval"
    if status == "queued":
        return "queued"
    return "running…"


def _pretty(text: str, indent: int) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if not isinstance(value, dict | list):
        return text
    pad = "\n" + " " * indent
    return pad + json.dumps(value, indent=2, ensure_ascii=False).replace("\n", pad)
