"""Loaders: a file on disk to text sections (with page numbers and header paths) for chunking.

Plain text and code, Markdown, HTML (text only), PDF (pypdf), DOCX (python-docx), CSV and JSON
(as text). pypdf and python-docx are imported on first use: the daemon starts without them.
A file that cannot be read raises LoaderError with a reason worded for the person who sent it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

SECTION_SEPARATOR = "\n\n"

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
    path: Path, filename: str, content_type: str | None = None, *, split_headers: bool = True
) -> Document:
    kind = file_kind(filename, content_type)
    if kind == "pdf":
        return load_pdf(path)
    if kind == "docx":
        return load_docx(path, split_headers=split_headers)
    if kind in UNSUPPORTED_EXTENSIONS:
        raise LoaderError(f"Unsupported file type: .{kind} files cannot be read as text.")
    return load_text(path.read_bytes(), kind, split_headers=split_headers)


def load_text(data: bytes, kind: str = "txt", *, split_headers: bool = True) -> Document:
    text = decode_text(data)
    if kind in MARKDOWN_EXTENSIONS:
        sections = markdown_sections(text) if split_headers else [Section(text)]
        return _non_empty(Document("markdown", sections))
    if kind in HTML_EXTENSIONS:
        return _non_empty(Document("html", html_sections(text, split_headers=split_headers)))
    return _non_empty(Document(kind, [Section(text)]))


def decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise LoaderError("Unsupported file type: the file is binary, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Legacy 8-bit text (Windows-1252 is a superset of Latin-1 in its printable range).
        return data.decode("cp1252", errors="replace")


def _non_empty(doc: Document) -> Document:
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
            sections.append(Section("\n".join(lines).strip("\n"), headers=_names(path)))
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


def _names(path: list[tuple[int, str]]) -> tuple[str, ...]:
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


class _HTMLText(HTMLParser):
    def __init__(self, split_headers: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.split_headers = split_headers
        self.sections: list[Section] = []
        self.path: list[tuple[int, str]] = []
        self.parts: list[str] = []
        self.skip = 0
        self.heading: tuple[int, list[str]] | None = None

    def flush(self) -> None:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        text = "\n".join(line for line in lines if line)
        if text:
            self.sections.append(Section(text, headers=_names(self.path)))
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
        self.parts.append(data)
        if self.heading is not None:
            self.heading[1].append(data)


def html_sections(text: str, *, split_headers: bool = True) -> list[Section]:
    parser = _HTMLText(split_headers)
    parser.feed(text)
    parser.close()
    parser.flush()
    return parser.sections


# ---- PDF --------------------------------------------------------------------------------


def load_pdf(path: Path) -> Document:
    import pypdf  # lazy: not needed until someone uploads a PDF
    from pypdf.errors import PyPdfError

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError("The PDF is encrypted with a password.")
        labels: list[str] = list(reader.page_labels)
        sections = []
        for number, page in enumerate(reader.pages):
            text = page.extract_text() or ""
            label = labels[number] if number < len(labels) else str(number + 1)
            sections.append(Section(text.strip(), page=number, page_label=label))
    except LoaderError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise LoaderError(f"Cannot read the PDF: {_reason(exc)}") from exc
    doc = Document("pdf", [s for s in sections if s.text])
    if not doc.sections:
        raise LoaderError(
            "No text found in the PDF (scanned pages need OCR, which webui does not do)."
        )
    return doc


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# ---- DOCX -------------------------------------------------------------------------------


def load_docx(path: Path, *, split_headers: bool = True) -> Document:
    import zipfile

    try:
        import docx  # lazy: python-docx pulls in lxml
        from docx.opc.exceptions import OpcError
        from docx.table import Table

        document: Any = docx.Document(str(path))
        sections: list[Section] = []
        header_path: list[tuple[int, str]] = []
        lines: list[str] = []

        def flush() -> None:
            text = "\n".join(lines).strip()
            if text:
                sections.append(Section(text, headers=_names(header_path)))
            lines.clear()

        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells = [" ".join(c.text.split()) for c in row.cells]
                    lines.append(" | ".join(dict.fromkeys(c for c in cells if c)))
                continue
            text = block.text.strip()
            level = _heading_level(block.style.name if block.style is not None else "")
            if level and text and split_headers:
                flush()
                header_path = [(lvl, n) for lvl, n in header_path if lvl < level]
                header_path.append((level, text))
            if text:
                lines.append(text)
        flush()
    except (OpcError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise LoaderError(f"Cannot read the DOCX file: {_reason(exc)}") from exc
    return _non_empty(Document("docx", sections))


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.match(r"Heading (\d)$", style)
    return int(match.group(1)) if match else 0
