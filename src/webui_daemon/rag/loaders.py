"""Loaders: a file on disk to text sections (with page numbers and header paths) for chunking.

Plain text and code, Markdown, HTML (text only), PDF (pypdf), DOCX (streamed, see docx_text),
CSV and JSON (as text). pypdf is imported on first use: the daemon starts without it.
A file that cannot be read raises LoaderError with a reason worded for the person who sent it.

A file's text is bounded (`max_text_bytes`, UTF-8 bytes; WEBUI_FILE_MAX_TEXT_BYTES): loaders
count the text as they extract it and stop with TextTooLarge as soon as it passes the limit,
page by page for a PDF and run by run for a DOCX, so a small file that expands to a huge text
costs about as much as a file at the limit, never the whole expansion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

SECTION_SEPARATOR = "\n\n"
MB = 1024 * 1024
DEFAULT_MAX_TEXT_BYTES = 10 * MB
# Named in the error, so the person who sees it knows which knob an admin would turn.
TEXT_LIMIT_SETTING = "WEBUI_FILE_MAX_TEXT_BYTES"
# Markup (HTML, a DOCX's XML) read at most per byte of the text limit.
MARKUP_PER_TEXT = 20

MARKDOWN_EXTENSIONS = frozenset({"md", "markdown", "mdx", "mkd"})
HTML_EXTENSIONS = frozenset({"html", "htm", "xhtml"})
# Formats we know and cannot read as text: a clear reason beats a page of mojibake.
UNSUPPORTED_EXTENSIONS = frozenset(
    {
        "doc", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "epub", "rtf",
        "png", "jpg", "jpeg", "gif", "webp", "bmp", "tiff", "svgz", "ico",
        "mp3", "wav", "ogg", "flac", "m4a", "mp4", "mkv", "mov", "avi", "webm",
        "zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "tar", "exe", "dll", "so", "bin",
    }
)  # fmt: skip
_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "text/html": "html",
    "text/markdown": "md",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/json": "json",
    "text/csv": "csv",
}


class LoaderError(Exception):
    """The file cannot be turned into text; the message says why."""


class TextTooLarge(LoaderError):
    """The file's text passed the limit (raised as soon as it does, not after extraction)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The file's text is larger than the {size_label(limit)} limit ({TEXT_LIMIT_SETTING})."
        )
        self.limit = limit


def size_label(size: int) -> str:
    """10485760 -> "10 MB", 1572864 -> "1.5 MB", 4096 -> "4 KB", 5000 -> "5,000 bytes"."""
    for unit, scale in (("GB", 1024 * MB), ("MB", MB)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    if size >= 1024 and size % 1024 == 0:
        return f"{size // 1024} KB"
    return f"{size:,} bytes"


class TextBudget:
    """The UTF-8 bytes of text a loader has extracted so far, against the limit: `take` raises
    TextTooLarge as soon as a piece of text takes the total past it."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, text: str) -> None:
        # isascii() is O(1) on CPython strings: most text is counted without encoding it.
        self.used += len(text) if text.isascii() else len(text.encode("utf-8", "replace"))
        if self.used > self.limit:
            raise TextTooLarge(self.limit)


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text with where it came from: a PDF page, or a header path."""

    text: str
    page: int | None = None  # 0-based, as Open WebUI's PDF loader
    page_label: str | None = None  # the page's printed label, "1" for the first by default
    headers: tuple[str, ...] = ()


@dataclass(slots=True)
class Document:
    kind: str
    sections: list[Section] = field(default_factory=list)

    @property
    def content(self) -> str:
        """The extracted text (Open WebUI's `data.content`); offsets index into it."""
        return SECTION_SEPARATOR.join(s.text for s in self.sections)


def file_kind(filename: str, content_type: str | None = None) -> str:
    """The loader to use: an extension, or one guessed from the content type."""
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix:
        return suffix
    return _CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower(), "txt")


def load_file(
    path: Path,
    filename: str,
    content_type: str | None = None,
    *,
    split_headers: bool = True,
    max_text_bytes: int = DEFAULT_MAX_TEXT_BYTES,
) -> Document:
    kind = file_kind(filename, content_type)
    budget = TextBudget(max_text_bytes)
    if kind == "pdf":
        return load_pdf(path, budget)
    if kind == "docx":
        from webui_daemon.rag.docx_text import load_docx

        return load_docx(path, budget, split_headers=split_headers)
    if kind in UNSUPPORTED_EXTENSIONS:
        raise LoaderError(f"Unsupported file type: .{kind} files cannot be read as text.")
    size = path.stat().st_size
    if kind in HTML_EXTENSIONS:
        if size > markup_limit(max_text_bytes):
            raise markup_too_large("The HTML file is", size, max_text_bytes)
    elif size > 2 * max_text_bytes + 2:
        # Even as UTF-16 (two bytes a character, and a BOM) its text is past the limit:
        # refused without reading it.
        raise TextTooLarge(max_text_bytes)
    return load_text(path.read_bytes(), kind, split_headers=split_headers, budget=budget)


def markup_limit(max_text_bytes: int) -> int:
    """The most markup (HTML, a DOCX's XML) read for a text limit: tags, attributes and styling
    take several times the room of the text they carry, but not more than this."""
    return max(16 * MB, MARKUP_PER_TEXT * max_text_bytes)


def markup_too_large(what: str, size: int, max_text_bytes: int) -> LoaderError:
    return LoaderError(
        f"{what} {size_label(size)}, more than the {size_label(markup_limit(max_text_bytes))} "
        f"of markup read for the {size_label(max_text_bytes)} text limit ({TEXT_LIMIT_SETTING})."
    )


def load_text(
    data: bytes, kind: str = "txt", *, split_headers: bool = True, budget: TextBudget | None = None
) -> Document:
    text = decode_text(data)
    if kind in HTML_EXTENSIONS:
        return non_empty(
            Document("html", html_sections(text, split_headers=split_headers, budget=budget))
        )
    if budget is not None:
        budget.take(text)
    if kind in MARKDOWN_EXTENSIONS:
        sections = markdown_sections(text) if split_headers else [Section(text)]
        return non_empty(Document("markdown", sections))
    return non_empty(Document(kind, [Section(text)]))


def decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Broken UTF-16 (an odd length, a lone surrogate) keeps its readable text.
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:8192]:
        raise LoaderError("Unsupported file type: the file is binary, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Legacy 8-bit text (Windows-1252 is a superset of Latin-1 in its printable range).
        return data.decode("cp1252", errors="replace")


def non_empty(doc: Document) -> Document:
    doc.sections = [s for s in doc.sections if s.text.strip()]
    if not doc.sections:
        raise LoaderError("The file has no text to index.")
    return doc


# ---- Markdown ---------------------------------------------------------------------------

_ATX = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_sections(text: str) -> list[Section]:
    """Split at ATX headers outside code fences; each section keeps its header line and the
    path of headers above it (as Open WebUI's Markdown header splitter, headers kept)."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        if lines:
            sections.append(Section("\n".join(lines).strip("\n"), headers=header_names(path)))
            lines.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _ATX.match(line)
        if match:
            flush()
            level = len(match.group(1))
            path = [(lvl, name) for lvl, name in path if lvl < level]
            path.append((level, match.group(2).strip()))
        lines.append(line)
    flush()
    return sections


def header_names(path: list[tuple[int, str]]) -> tuple[str, ...]:
    return tuple(name for _, name in path)


# ---- HTML -------------------------------------------------------------------------------

_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe"})
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header",
        "footer", "nav", "aside", "main", "blockquote", "pre", "hr", "dd", "dt", "dl", "form",
        "figure", "figcaption", "address", "title",
    }
)  # fmt: skip
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
HTML_FEED = 256 * 1024


class _HTMLText(HTMLParser):
    def __init__(self, split_headers: bool, budget: TextBudget | None) -> None:
        super().__init__(convert_charrefs=True)
        self.split_headers = split_headers
        self.budget = budget
        self.sections: list[Section] = []
        self.path: list[tuple[int, str]] = []
        self.parts: list[str] = []
        self.skip = 0
        self.heading: tuple[int, list[str]] | None = None

    def flush(self) -> None:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        text = "\n".join(line for line in lines if line)
        if text:
            self.sections.append(Section(text, headers=header_names(self.path)))
        self.parts = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag in _HEADINGS and self.skip == 0:
            if self.split_headers:
                self.flush()
            self.heading = (_HEADINGS[tag], [])
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag in _HEADINGS and self.heading is not None:
            level, words = self.heading
            name = " ".join("".join(words).split())
            if name and self.split_headers:
                self.path = [(lvl, n) for lvl, n in self.path if lvl < level]
                self.path.append((level, name))
            self.heading = None
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.budget is not None and not data.isspace():
            self.budget.take(data)  # indentation between tags is not text: not counted
        self.parts.append(data)
        if self.heading is not None:
            self.heading[1].append(data)


def html_sections(
    text: str, *, split_headers: bool = True, budget: TextBudget | None = None
) -> list[Section]:
    parser = _HTMLText(split_headers, budget)
    # In pieces, so that a page past the text limit stops early instead of at its end.
    for start in range(0, len(text), HTML_FEED):
        parser.feed(text[start : start + HTML_FEED])
    parser.close()
    parser.flush()
    return parser.sections


# ---- PDF --------------------------------------------------------------------------------


def load_pdf(path: Path, budget: TextBudget | None = None) -> Document:
    """Page by page; with a budget, every piece of text is counted as pypdf produces it, so
    extraction stops inside the page where the text passes the limit. pypdf bounds the rest
    (decompressed stream sizes, page-tree entries)."""
    import pypdf  # lazy: not needed until someone uploads a PDF
    from pypdf.errors import PyPdfError

    def count(text: str, *_: Any) -> None:
        if budget is not None and text:
            budget.take(text)

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError("The PDF is encrypted with a password.")
        labels: list[str] = list(reader.page_labels)
        sections = []
        for number, page in enumerate(reader.pages):
            text = page.extract_text(visitor_text=count) or ""
            label = labels[number] if number < len(labels) else str(number + 1)
            sections.append(Section(text.strip(), page=number, page_label=label))
    except LoaderError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoaderError(f"Cannot read the PDF: {short_reason(exc)}") from exc
    doc = Document("pdf", [s for s in sections if s.text])
    if not doc.sections:
        raise LoaderError(
            "No text found in the PDF (scanned pages need OCR, which webui does not do)."
        )
    return doc


def short_reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# ---- DOCX (the reader is in docx_text) -------------------------------------------------


def heading_level(style: str) -> int:
    """A paragraph style's heading level: "Title" 1, "Heading 2" (Word's built-in names are
    "heading 2" in the file) 2, anything else 0."""
    if style.lower() == "title":
        return 1
    match = re.match(r"heading (\d)$", style, re.IGNORECASE)
    return int(match.group(1)) if match else 0
