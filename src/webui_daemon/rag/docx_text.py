"""DOCX to text sections, streamed and bounded, so that a zip bomb costs next to nothing.

A DOCX is a zip of XML parts. Each part read (the package relationships, the main document and
its styles) is checked in the zip's directory before a byte of it is unpacked: more than
MAX_RATIO times its packed size (Apache POI's rule) or past the markup limit, and the file is
refused. The main document is then read with expat, block by block, keeping only the current
paragraph or table: the text is counted as it arrives and reading stops as soon as it passes the
text budget. Memory stays at about one block and time at about the limit's worth of XML,
whatever the file expands to. Other parts (images, embedded files) are never unpacked.

The text matches python-docx's, which this replaced for reading: body paragraphs and tables in
order, a paragraph's text from its runs (and hyperlinks' runs), a table as one line per row with
its cells joined by " | ", headings ("Title", "Heading N" styles) opening sections.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.parsers import expat

from webui_daemon.rag.loaders import (
    MB,
    Document,
    LoaderError,
    Section,
    TextBudget,
    header_names,
    heading_level,
    markup_limit,
    markup_too_large,
    non_empty,
    short_reason,
    size_label,
)

# A part unpacking to more than this many times its packed size is a zip bomb (ordinary Word
# XML packs 5-20 times); parts under RATIO_GRACE are small whatever their ratio.
MAX_RATIO = 100
RATIO_GRACE = 1 * MB
# Relationships and styles are small in any real document.
SMALL_PART_LIMIT = 16 * MB
READ_BLOCK = 256 * 1024

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main "
BODY, P, R, T, HYPERLINK = (_W + n for n in ("body", "p", "r", "t", "hyperlink"))
TBL, TR, TC, PPR, PSTYLE = (_W + n for n in ("tbl", "tr", "tc", "pPr", "pStyle"))
BR, STYLE, NAME = _W + "br", _W + "style", _W + "name"
VAL, TYPE, STYLE_ID = _W + "val", _W + "type", _W + "styleId"
# Run content other than w:t, as python-docx renders it (w:br depends on its type).
_RUN_MARKS = {_W + "tab": "\t", _W + "ptab": "\t", _W + "cr": "\n", _W + "noBreakHyphen": "-"}
_RELATIONSHIP = "http://schemas.openxmlformats.org/package/2006/relationships Relationship"


def load_docx(path: Path, budget: TextBudget, *, split_headers: bool = True) -> Document:
    try:
        with zipfile.ZipFile(path) as archive:
            rels = _relationships(archive, "")
            main = rels.get("officeDocument", "word/document.xml")
            styles_part = _relationships(archive, main).get("styles")
            limit = markup_limit(budget.limit)
            info = _checked(archive, main, limit, text_limit=budget.limit)
            styles = _style_names(archive, styles_part) if styles_part else {}
            reader = _BodyReader(budget, styles, split_headers)
            with archive.open(info) as stream:
                _parse(stream, reader.start, reader.end, reader.data)
            reader.flush()
    except LoaderError:
        raise
    # RuntimeError: an encrypted part, or an unknown compression method.
    except (
        zipfile.BadZipFile,
        expat.ExpatError,
        KeyError,
        ValueError,
        OSError,
        RuntimeError,
    ) as exc:
        raise LoaderError(f"Cannot read the DOCX file: {short_reason(exc)}") from exc
    return non_empty(Document("docx", reader.sections))


# ---- the zip --------------------------------------------------------------------------------


def _checked(
    archive: zipfile.ZipFile, name: str, limit: int, *, text_limit: int | None = None
) -> zipfile.ZipInfo:
    """The part's entry, refused from its declared sizes before anything is unpacked (zipfile
    never unpacks more than the declared size: a lying header fails its CRC check instead)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise LoaderError(f"Cannot read the DOCX file: it has no {name}.") from None
    if info.file_size > RATIO_GRACE and info.file_size > MAX_RATIO * max(1, info.compress_size):
        ratio = info.file_size // max(1, info.compress_size)
        raise LoaderError(
            f"The DOCX file looks like a zip bomb: {name} unpacks to {ratio} times its packed "
            f"size (the limit is {MAX_RATIO} times)."
        )
    if info.file_size > limit:
        if text_limit is not None:
            raise markup_too_large(f"The DOCX file's {name} unpacks to", info.file_size, text_limit)
        raise LoaderError(
            f"Cannot read the DOCX file: {name} unpacks to {size_label(info.file_size)}, "
            f"more than the {size_label(limit)} read."
        )
    return info


def _relationships(archive: zipfile.ZipFile, source: str) -> dict[str, str]:
    """The parts a part points to, by relationship type ("officeDocument", "styles"); the
    package's own relationships for source "". Missing relationships: an empty dict."""
    folder, base = posixpath.split(source)
    rels_name = posixpath.join(folder, "_rels", f"{base}.rels")
    if rels_name not in archive.NameToInfo:
        return {}
    info = _checked(archive, rels_name, SMALL_PART_LIMIT)
    found: dict[str, str] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        target = attrs.get("Target", "")
        if name == _RELATIONSHIP and target and attrs.get("TargetMode") != "External":
            kind = attrs.get("Type", "").rsplit("/", 1)[-1]
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found.setdefault(kind, posixpath.normpath(path))

    with archive.open(info) as stream:
        _parse(stream, start)
    return found


def _style_names(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Style id -> name ("Heading1" -> "heading 1"); {} when the part is missing."""
    if part not in archive.NameToInfo:
        return {}
    info = _checked(archive, part, SMALL_PART_LIMIT)
    names: dict[str, str] = {}
    current = [""]

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == STYLE:
            current[0] = attrs.get(STYLE_ID, "")
        elif name == NAME and current[0]:
            names.setdefault(current[0], attrs.get(VAL, ""))

    with archive.open(info) as stream:
        _parse(stream, start)
    return names


def _parse(
    stream: IO[bytes],
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    data: Callable[[str], None] | None = None,
) -> None:
    """Feed the part to expat in blocks; a handler's exception stops the parse at once."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _no_doctype  # Word never writes one: no entity tricks
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if data is not None:
        parser.CharacterDataHandler = data
    while block := stream.read(READ_BLOCK):
        parser.Parse(block, False)
    parser.Parse(b"", True)


def _no_doctype(*_: object) -> None:
    raise LoaderError("Cannot read the DOCX file: its XML declares a DTD.")


# ---- the document body ----------------------------------------------------------------------


@dataclass(slots=True)
class _Paragraph:
    parts: list[str] = field(default_factory=list)
    style: str = ""


class _BodyReader:
    """expat handlers that turn the body into sections, one block at a time. `tags` is the
    path of open elements; paragraphs, cells, rows and tables each have a stack, because
    tables nest (a nested table, like in python-docx, adds nothing to its cell's text)."""

    def __init__(self, budget: TextBudget, styles: dict[str, str], split_headers: bool) -> None:
        self.budget = budget
        self.styles = styles
        self.split_headers = split_headers
        self.tags: list[str] = []
        self.paragraphs: list[_Paragraph] = []
        self.cells: list[list[str]] = []
        self.rows: list[list[str]] = []
        self.tables: list[list[str]] = []
        self.collecting = False
        # The sections being built, as the old python-docx loop built them.
        self.sections: list[Section] = []
        self.header_path: list[tuple[int, str]] = []
        self.lines: list[str] = []

    def _in_run(self) -> bool:
        """The element being opened sits in a run of the current paragraph (directly, or in a
        hyperlink): text in text boxes, fields and tracked changes is not read."""
        tags = self.tags
        if len(tags) < 2 or tags[-1] != R or not self.paragraphs:
            return False
        return tags[-2] == P or (tags[-2] == HYPERLINK and len(tags) > 2 and tags[-3] == P)

    def _add(self, text: str) -> None:
        self.budget.take(text)
        self.paragraphs[-1].parts.append(text)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == P:
            self.paragraphs.append(_Paragraph())
        elif name == T:
            self.collecting = self._in_run()
        elif name in _RUN_MARKS and self._in_run():
            self._add(_RUN_MARKS[name])
        elif name == BR and self._in_run():
            if attrs.get(TYPE, "textWrapping") == "textWrapping":
                self._add("\n")
        elif name == PSTYLE and self.tags[-2:] == [P, PPR] and self.paragraphs:
            self.paragraphs[-1].style = attrs.get(VAL, "")
        elif name == TC:
            self.cells.append([])
        elif name == TR:
            self.rows.append([])
        elif name == TBL:
            self.tables.append([])
        self.tags.append(name)

    def data(self, text: str) -> None:
        if self.collecting:
            self._add(text)

    def end(self, name: str) -> None:
        self.tags.pop()
        parent = self.tags[-1] if self.tags else ""
        if name == T:
            self.collecting = False
        elif name == P and self.paragraphs:
            paragraph = self.paragraphs.pop()
            text = "".join(paragraph.parts)
            if parent == BODY:
                self._paragraph(text.strip(), self.styles.get(paragraph.style, ""))
            elif parent == TC and self.cells:
                self.cells[-1].append(text)
        elif name == TC and self.cells:
            cell = self.cells.pop()
            if parent == TR and self.rows:
                self.rows[-1].append(" ".join("\n".join(cell).split()))
        elif name == TR and self.rows:
            row = self.rows.pop()
            if parent == TBL and self.tables:
                self.tables[-1].append(" | ".join(dict.fromkeys(c for c in row if c)))
        elif name == TBL and self.tables:
            lines = self.tables.pop()
            if parent == BODY:
                self.lines.extend(lines)

    def _paragraph(self, text: str, style: str) -> None:
        level = heading_level(style)
        if level and text and self.split_headers:
            self.flush()
            self.header_path = [(lvl, n) for lvl, n in self.header_path if lvl < level]
            self.header_path.append((level, text))
        if text:
            self.lines.append(text)

    def flush(self) -> None:
        text = "\n".join(self.lines).strip()
        if text:
            self.sections.append(Section(text, headers=header_names(self.header_path)))
        self.lines.clear()
