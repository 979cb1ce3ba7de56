"""Chunking: Open WebUI's recursive character splitter (CHUNK_SIZE / CHUNK_OVERLAP characters),
applied per section, so every chunk keeps its page, header path and offset for citations.

A section that is only headings (`## Section` right before `### Sub`) is joined to the section
after it, and a chunk that is still only headings is left out: a heading alone answers no
question, and it would take one of the top-k places in a search.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from webui_daemon.rag.loaders import SECTION_SEPARATOR, Document, Section

SEPARATORS = ("\n\n", "\n", " ", "")


@dataclass(frozen=True, slots=True)
class Chunk:
    text: str
    index: int  # position in the document
    start_index: int  # character offset in Document.content
    page: int | None = None
    page_label: str | None = None
    headers: tuple[str, ...] = ()

    @property
    def hash(self) -> str:
        return text_hash(self.text)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def split_text(
    text: str, chunk_size: int, chunk_overlap: int, separators: tuple[str, ...] = SEPARATORS
) -> list[tuple[str, int]]:
    """(chunk, start offset) pairs: LangChain's RecursiveCharacterTextSplitter with
    keep_separator=True, strip_whitespace=True and add_start_index=True."""
    if chunk_size <= 0:
        raise ValueError("chunk size must be positive")
    overlap = max(0, min(chunk_overlap, chunk_size - 1))
    pieces = _split(text, separators, chunk_size, overlap)
    out: list[tuple[str, int]] = []
    index, previous_len = 0, 0
    for piece in pieces:
        offset = index + previous_len - overlap
        found = text.find(piece, max(0, offset))
        if found < 0:
            found = text.find(piece)
        index, previous_len = max(found, 0), len(piece)
        out.append((piece, index))
    return out


def _split(text: str, separators: tuple[str, ...], size: int, overlap: int) -> list[str]:
    separator: str = ""
    rest: tuple[str, ...] = ()
    for i, candidate in enumerate(separators):
        if candidate == "" or candidate in text:
            separator, rest = candidate, separators[i + 1 :]
            break
    if separator:
        raw = re.split(f"({re.escape(separator)})", text)
        # The separator starts the piece that follows it (keep_separator="start").
        parts = [raw[0], *(raw[i] + raw[i + 1] for i in range(1, len(raw) - 1, 2))]
        if len(raw) % 2 == 0:
            parts.append(raw[-1])
        parts = [p for p in parts if p]
    else:
        parts = list(text)
    chunks: list[str] = []
    fitting: list[str] = []
    for part in parts:
        if len(part) < size:
            fitting.append(part)
            continue
        if fitting:
            chunks.extend(_merge(fitting, size, overlap))
            fitting = []
        if rest:
            chunks.extend(_split(part, rest, size, overlap))
        else:
            chunks.append(part.strip())
    if fitting:
        chunks.extend(_merge(fitting, size, overlap))
    return [c for c in chunks if c]


def _merge(parts: list[str], size: int, overlap: int) -> list[str]:
    """Pack small parts into chunks of at most `size`, carrying up to `overlap` characters
    of the previous chunk into the next one."""
    out: list[str] = []
    current: list[str] = []
    total = 0
    for part in parts:
        if total + len(part) > size and current:
            text = "".join(current).strip()
            if text:
                out.append(text)
            while total > overlap or (total + len(part) > size and total > 0):
                total -= len(current[0])
                current.pop(0)
        current.append(part)
        total += len(part)
    text = "".join(current).strip()
    if text:
        out.append(text)
    return out


_HEADING = re.compile(r"^#{1,6}[ \t]+\S")


def headings_only(text: str) -> bool:
    """Whether every non-blank line of `text` is a Markdown ATX heading."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(_HEADING.match(line) for line in lines)


def _joined(sections: list[Section]) -> list[tuple[Section, int]]:
    """(section, its offset in the content): heading-only sections joined to the next one on
    the same page (the text between them is SECTION_SEPARATOR, so offsets stay true)."""
    out: list[tuple[Section, int]] = []
    base = 0
    held: tuple[Section, int] | None = None
    for section in sections:
        start = base
        base += len(section.text) + len(SECTION_SEPARATOR)
        if held is not None and held[0].page == section.page:
            text = held[0].text + SECTION_SEPARATOR + section.text
            section = Section(text, section.page, section.page_label, section.headers)
            start = held[1]
        elif held is not None:
            out.append(held)
        held = None
        if headings_only(section.text):
            held = (section, start)
        else:
            out.append((section, start))
    if held is not None:
        out.append(held)
    return out


def chunk_document(doc: Document, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    pieces = [
        (text, base + offset, section)
        for section, base in _joined(doc.sections)
        for text, offset in split_text(section.text, chunk_size, chunk_overlap)
    ]
    # A document of nothing but headings keeps them: it is still found by its words.
    kept = [p for p in pieces if not headings_only(p[0])] or pieces
    return [
        Chunk(
            text=text,
            index=index,
            start_index=start,
            page=section.page,
            page_label=section.page_label,
            headers=section.headers,
        )
        for index, (text, start, section) in enumerate(kept)
    ]
