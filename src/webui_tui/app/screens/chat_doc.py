"""From a chat document to what the conversation shows (pure functions, no widgets)."""

from typing import Any

from webui_tui.app.tree import siblings, usage_line
from webui_tui.app.widgets.message_view import MessageInfo
from webui_tui.app.widgets.tool_blocks import blocks_of
from webui_tui.client.transcript import branch, history_of, image_labels, message_notes, speaker


def infos_of(document: dict[str, Any], leaf_id: str | None = None) -> list[MessageInfo]:
    """The current branch (or the one ending at `leaf_id`) as message infos."""
    messages, _ = history_of(document)
    out = []
    for message in branch(document, leaf_id):
        mid = str(message.get("id") or "")
        sibs = siblings(messages, mid) if messages else [mid]
        sources = message.get("sources")
        usage = message.get("usage")
        out.append(
            MessageInfo(
                id=mid,
                role=str(message.get("role") or "assistant"),
                speaker=speaker(message),
                content=str(message.get("content") or ""),
                index=sibs.index(mid) + 1 if mid in sibs else 1,
                total=max(1, len(sibs)),
                notes=[n for n in message_notes(message) if n != "still generating"],
                images=image_labels(message),
                tools=blocks_of(message.get("output")),
                stats=usage_line(usage if isinstance(usage, dict) else None),
                sources=[s for s in sources if isinstance(s, dict)]
                if isinstance(sources, list)
                else [],
            )
        )
    return out


def chat_model(document: dict[str, Any]) -> str | None:
    models = document.get("models")
    if isinstance(models, list) and models and isinstance(models[0], str) and models[0]:
        return models[0]
    return None
