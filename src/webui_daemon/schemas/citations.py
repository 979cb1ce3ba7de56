"""Citation numbering of a completion's `sources`: one rule for the daemon and the clients.

The daemon writes each chunk into the model's context as `<source id="N">`; the CLI lists the
documents under an answer and the TUI shows them, so that `[N]` in the answer names the same
document everywhere. The rule is Open WebUI 0.12's (utils/middleware.py `get_source_context`):
one number per distinct document, in order of first appearance, the document being the chunk's
`metadata.source`, else the source item's `id`, else "N/A". A chunk whose `metadata` entry is
missing counts as one with empty metadata (0.12's web app numbers it so; its backend's `zip`
would leave the text out of the context, and we keep it in). Standard library only: the CLI
and the TUI import it.

    for chunk in numbered_chunks(sources):      # the daemon's context, chunk by chunk
        ...chunk.number, chunk.text...
    for citation in number_sources(sources):    # the documents, [1], [2], ...
        print(citation.line())                  # "[1] guide.pdf (pages 2, 5)"
"""

from dataclasses import dataclass, field
from typing import Any

# The key of a chunk that names no document and comes from an item without an id (0.12's).
NO_KEY = "N/A"


@dataclass(frozen=True, slots=True)
class NumberedChunk:
    """One chunk of the sources with the citation number of its document."""

    number: int
    key: str
    text: str
    metadata: dict[str, Any]
    item: dict[str, Any]


@dataclass(slots=True)
class Citation:
    """One distinct document of a completion's sources: `[number] name (pages, sections)`.

    `title` is the name the sources give it (None when they give none: `name` is then its
    key); `snippet` is the text of its first chunk."""

    number: int
    key: str
    title: str | None
    file_id: str | None = None
    pages: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    snippet: str = ""

    @property
    def name(self) -> str:
        return self.title or self.key

    def where(self) -> str:
        """Where in the document the chunks came from: "page 2, 5" or "Intro > Setup"."""
        parts = []
        if self.pages:
            label = "page" if len(self.pages) == 1 else "pages"
            parts.append(f"{label} {', '.join(self.pages)}")
        # A section whose subsection is listed too says nothing more ("A" beside "A > B").
        parts.extend(
            s for s in self.sections if not any(t.startswith(f"{s} > ") for t in self.sections)
        )
        return "; ".join(parts)

    def line(self) -> str:
        where = self.where()
        return f"[{self.number}] {self.name}" + (f" ({where})" if where else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.number,
            "name": self.name,
            "source": self.key,
            "file_id": self.file_id,
            "pages": self.pages,
            "sections": self.sections,
        }


def citation_key(item: dict[str, Any], metadata: dict[str, Any]) -> str:
    """What one citation number stands for: the document (`metadata.source`), else the
    source item's id, else "N/A"."""
    return str(metadata.get("source") or item.get("id") or NO_KEY)


def numbered_chunks(sources: list[dict[str, Any]]) -> list[NumberedChunk]:
    """Every chunk of `sources` in order, with its document's number."""
    numbers: dict[str, int] = {}
    out: list[NumberedChunk] = []
    for source in sources if isinstance(sources, list) else []:
        if not isinstance(source, dict):
            continue
        item = _dict(source.get("source"))
        documents = source.get("document")
        metadatas = source.get("metadata")
        metas = metadatas if isinstance(metadatas, list) else []
        for index, text in enumerate(documents if isinstance(documents, list) else []):
            meta = _dict(metas[index]) if index < len(metas) else {}
            key = citation_key(item, meta)
            number = numbers.setdefault(key, len(numbers) + 1)
            out.append(NumberedChunk(number, key, str(text), meta, item))
    return out


def number_sources(sources: list[dict[str, Any]]) -> list[Citation]:
    """The distinct documents of `sources`, `[1]` first: each with its name (the first chunk's
    `metadata.name`, else `metadata.source`, else the item's name), file id, the pages and
    sections its chunks came from, and its first chunk's text."""
    citations: list[Citation] = []
    for chunk in numbered_chunks(sources):
        if chunk.number > len(citations):
            meta, item = chunk.metadata, chunk.item
            title = meta.get("name") or meta.get("source") or item.get("name")
            citations.append(
                Citation(chunk.number, chunk.key, str(title) if title else None, snippet=chunk.text)
            )
        _place(citations[chunk.number - 1], chunk.metadata)
    return citations


def _place(citation: Citation, meta: dict[str, Any]) -> None:
    """Add a chunk's file id (the first one given), page and section to its document."""
    if citation.file_id is None and meta.get("file_id"):
        citation.file_id = str(meta["file_id"])
    label = meta.get("page_label")
    if label is None and isinstance(meta.get("page"), int):
        label = str(meta["page"] + 1)
    if label is not None and str(label) not in citation.pages:
        citation.pages.append(str(label))
    headers = meta.get("headers")
    if isinstance(headers, list) and headers:
        section = " > ".join(str(h) for h in headers)
        if section not in citation.sections:
            citation.sections.append(section)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
