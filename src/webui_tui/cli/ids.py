"""Chats, knowledge bases and notes by what people type: a whole id, a unique prefix of one (4
characters or more), `last` for the latest chat, or a knowledge base's name (a note's title).

A miss reads the same everywhere ("not found: no chat matches 386851d2", exit 2); a prefix that
fits several is one line naming them, ids and titles (a usage problem, exit 1).
"""

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from webui_daemon.schemas.chats import ChatTitleIdResponse
from webui_daemon.schemas.knowledge import KnowledgeResponse
from webui_daemon.schemas.notes import NoteItemResponse
from webui_tui.cli.runtime import UsageProblem
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import AuthFailed, Forbidden, NotFound

MIN_PREFIX = 4
# A whole chat id (a UUID), looked up directly rather than among the listed chats.
WHOLE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
LAST = "last"  # the most recently updated chat
_NAMED = 4  # candidates an ambiguity error names
_CHATS = "/api/v1/chats/"

T = TypeVar("T")


def shown(ref: str) -> str:
    """`ref` as typed, quoted only when it holds spaces (or nothing)."""
    return ref if ref and not any(c.isspace() for c in ref) else repr(ref)


def not_found(kind: str, ref: str, path: str) -> NotFound:
    return NotFound(404, f"no {kind} matches {shown(ref)}", "GET", path)


def matching(items: Sequence[T], ref: str, key: Callable[[T], str]) -> list[T]:
    """The item whose id is `ref`; else every item whose id starts with it (case ignored)."""
    exact = [item for item in items if key(item) == ref]
    if exact:
        return exact[:1]
    wanted = ref.casefold()
    return [item for item in items if key(item).casefold().startswith(wanted)]


def ambiguous(kind: str, ref: str, found: Sequence[tuple[str, str]], hint: str) -> UsageProblem:
    """One line: what `ref` fits (`found`: id and title pairs), and what to give instead."""
    named = ", ".join(f"{item_id} ({title})" for item_id, title in found[:_NAMED])
    more = f" and {len(found) - _NAMED} more" if len(found) > _NAMED else ""
    return UsageProblem(f"{shown(ref)} matches {len(found)} {kind}s: {named}{more}; {hint}")


# --- chats ---


async def find_chat(client: WebUIClient, ref: str) -> ChatTitleIdResponse:
    """The chat `ref` names: `last`, a whole id or a unique prefix of one (archived chats too)."""
    ref = ref.strip()
    if ref.casefold() == LAST:
        latest = await client.last_chat()
        if latest is None:
            raise NotFound(404, "no chat matches last: you have no chats yet", "GET", _CHATS)
        return latest
    if len(ref) < MIN_PREFIX:
        raise UsageProblem(
            f"give at least {MIN_PREFIX} characters of a chat id, or `{LAST}` (not {shown(ref)})"
        )
    if WHOLE_ID.fullmatch(ref):
        # A whole id needs no list: one request, and a miss worded as any other.
        try:
            chat = await client.get_chat(ref)
        except (NotFound, AuthFailed):
            raise not_found("chat", ref, _CHATS) from None
        return ChatTitleIdResponse(
            id=chat.id,
            title=chat.title,
            updated_at=chat.updated_at,
            created_at=chat.created_at,
            archived=chat.archived,
            pinned=chat.pinned,
        )
    # Both lists at once; return_exceptions: neither task's error goes unretrieved.
    listed = await asyncio.gather(
        client.list_chats(), client.archived_chats(), return_exceptions=True
    )
    chats: dict[str, ChatTitleIdResponse] = {}
    for outcome in listed:
        if isinstance(outcome, BaseException):
            raise outcome
        chats |= {chat.id: chat for chat in outcome}
    found = matching(list(chats.values()), ref, lambda chat: chat.id)
    if not found:
        raise not_found("chat", ref, _CHATS)
    if len(found) > 1:
        pairs = [(chat.id, chat.title) for chat in found]
        raise ambiguous("chat", ref, pairs, "give more of the id")
    return found[0]


async def find_chat_id(client: WebUIClient, ref: str) -> str:
    return (await find_chat(client, ref)).id


# --- knowledge bases ---


async def find_knowledge(client: WebUIClient, ref: str) -> KnowledgeResponse:
    """`ref` is a knowledge base id, its exact name (case does not matter), or a unique prefix
    of its id (4 characters or more); a name wins over an id prefix."""
    bases = await client.list_knowledge()
    wanted = ref.strip()
    for kb in bases:
        if kb.id == wanted:
            return kb
    named = [kb for kb in bases if kb.name.casefold() == wanted.casefold()]
    if len(named) > 1:
        pairs = [(kb.id, kb.name) for kb in named]
        raise ambiguous("knowledge base", ref, pairs, "use an id")
    if named:
        return named[0]
    found = matching(bases, wanted, lambda kb: kb.id) if len(wanted) >= MIN_PREFIX else []
    if len(found) > 1:
        pairs = [(kb.id, kb.name) for kb in found]
        raise ambiguous("knowledge base", ref, pairs, "give more of the id, or the name")
    if not found:
        raise not_found("knowledge base", ref, "/api/v1/knowledge/")
    return found[0]


# --- notes ---

_NOTES = "/api/v1/notes/"


async def find_note_id(client: WebUIClient, ref: str) -> str:
    """`ref` is a note id, a unique prefix of one (4 characters or more), or a note's exact
    title (case does not matter). A note the caller may not read is not found, whatever the
    server says (Open WebUI answers 403 for someone else's note)."""
    wanted = ref.strip()
    if WHOLE_ID.fullmatch(wanted):
        try:
            return (await client.get_note(wanted)).id
        except (NotFound, Forbidden, AuthFailed):
            raise not_found("note", ref, _NOTES) from None
    notes = await client.list_notes()
    exact = [n for n in notes if n.id == wanted]
    if exact:
        return exact[0].id
    found: list[NoteItemResponse] = []
    if len(wanted) >= MIN_PREFIX:
        found = matching(notes, wanted, lambda note: note.id)
    if not found:
        found = [n for n in notes if n.title.strip().casefold() == wanted.casefold()]
    if len(found) > 1:
        pairs = [(note.id, note.title) for note in found]
        raise ambiguous("note", ref, pairs, "give more of the id")
    if not found:
        raise not_found("note", ref, _NOTES)
    return found[0].id
