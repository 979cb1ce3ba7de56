"""Parse Open WebUI's chat search text (`tag:x folder:y pinned:true ... words`) for FTS5.

Plain words become quoted prefix terms (`"word"*`), so nothing a user types is read as FTS5
syntax: quotes are doubled, and operators, asterisks and dashes stay inside a string.
"""

from dataclasses import dataclass, field

from webui_daemon.services.chats.chat_tree import tag_id

_FLAGS = ("pinned", "archived", "shared")
_BOOLS = {"true": True, "false": False}


@dataclass(slots=True)
class SearchTerms:
    words: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    untagged: bool = False
    folders: list[str] = field(default_factory=list)
    pinned: bool | None = None
    archived: bool | None = None
    shared: bool | None = None


def parse(text: str) -> SearchTerms:
    terms = SearchTerms()
    for word in text.split():
        key, sep, value = word.partition(":")
        key = key.lower()
        if sep and key == "tag" and value:
            tid = tag_id(value)
            if tid == "none":
                terms.untagged = True
            else:
                terms.tags.append(tid)
        elif sep and key == "folder" and value:
            terms.folders.append(value)
        elif sep and key in _FLAGS and value.lower() in _BOOLS:
            setattr(terms, key, _BOOLS[value.lower()])
        else:
            terms.words.append(word)
    return terms


def _searchable(word: str) -> bool:
    # The tokenizer keeps letters and digits only: a word without any matches nothing.
    return any(ch.isalnum() for ch in word)


def fts_expression(words: list[str]) -> str | None:
    """An FTS5 MATCH expression requiring every word (as a prefix), or None when no word can
    match anything (only punctuation)."""
    # FTS5 reads its query as a C string, which a NUL would end ("unterminated string"); for the
    # tokenizer it separates words anyway. (api.text_guard refuses a NUL before it gets here.)
    quoted = [
        '"' + w.replace('"', '""').replace("\x00", " ") + '"*' for w in words if _searchable(w)
    ]
    return " ".join(quoted) if quoted else None


def folder_key(name: str) -> str:
    """How `folder:x` compares names: case-insensitive, underscores standing for spaces."""
    return name.replace("_", " ").strip().lower()
