"""Knowledge building blocks without a daemon: loaders, chunking, hybrid fusion, the batcher, the
RAG template and its placement, preset knowledge expansion."""

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.corpus.make import make_docx, make_pdf
from webui_daemon.rag.batcher import EmbedBatcher
from webui_daemon.rag.chunking import chunk_document, split_text
from webui_daemon.rag.loaders import LoaderError, load_file, load_text
from webui_daemon.rag.records import Hit
from webui_daemon.rag.search import fuse, merge_by_hash
from webui_daemon.rag.template import (
    DEFAULT_RAG_TEMPLATE,
    inject,
    render_template,
    source_context,
)
from webui_daemon.services.knowledge.rag_context import expand_preset_knowledge

# ---- loaders --------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "stored-without-extension"
    path.write_bytes(data)
    return path


def test_text_and_code_load_as_one_section(tmp_path: Path) -> None:
    doc = load_file(_write(tmp_path, "x", b"def f():\n    return 1\n"), "tool.py")
    assert doc.content == "def f():\n    return 1\n"
    assert doc.sections[0].page is None


def test_markdown_splits_at_headers_and_keeps_the_path(tmp_path: Path) -> None:
    text = b"intro\n# A\none\n## B\ntwo\n```\n# not a header\n```\n# C\nthree\n"
    doc = load_file(_write(tmp_path, "x", text), "notes.md")
    assert [s.headers for s in doc.sections] == [(), ("A",), ("A", "B"), ("C",)]
    assert "# not a header" in doc.sections[2].text
    flat = load_file(_write(tmp_path, "x", text), "notes.md", split_headers=False)
    assert len(flat.sections) == 1


def test_html_keeps_text_only(tmp_path: Path) -> None:
    html = (
        b"<html><head><title>T</title><style>p{}</style></head><body>"
        b"<h1>Intro</h1><p>Hello &amp; welcome</p><script>var x = 1;</script>"
        b"<h2>Details</h2><ul><li>one</li><li>two</li></ul></body></html>"
    )
    doc = load_file(_write(tmp_path, "x", html), "page.html")
    assert "var x" not in doc.content and "p{}" not in doc.content
    assert "Hello & welcome" in doc.content
    assert doc.sections[-1].headers == ("Intro", "Details")
    assert "one\ntwo" in doc.sections[-1].text


def test_pdf_pages_and_labels(tmp_path: Path) -> None:
    pdf = make_pdf([["First page about otters."], ["Second page about beavers."]])
    doc = load_file(_write(tmp_path, "x", pdf), "report.pdf")
    assert [s.page for s in doc.sections] == [0, 1]
    assert [s.page_label for s in doc.sections] == ["1", "2"]
    assert "beavers" in doc.sections[1].text


def test_corrupt_and_empty_pdfs_fail_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(LoaderError, match="Cannot read the PDF"):
        load_file(_write(tmp_path, "x", b"%PDF-1.4\n garbage \x00\x01"), "broken.pdf")
    with pytest.raises(LoaderError, match="No text found"):
        load_file(_write(tmp_path, "x", make_pdf([[]])), "blank.pdf")


def test_docx_headings_paragraphs_and_tables(tmp_path: Path) -> None:
    data = make_docx(
        [("h1", "Plan"), ("p", "Intro text."), ("h2", "Costs"), ("table", "item,eur;tea,3")]
    )
    doc = load_file(_write(tmp_path, "x", data), "plan.docx")
    assert [s.headers for s in doc.sections] == [("Plan",), ("Plan", "Costs")]
    assert "tea | 3" in doc.content
    with pytest.raises(LoaderError, match="Cannot read the DOCX"):
        load_file(_write(tmp_path, "x", b"not a zip"), "bad.docx")


def test_csv_json_as_text_binary_and_empty_fail(tmp_path: Path) -> None:
    assert "a,b" in load_text(b"a,b\n1,2\n", "csv").content
    assert '"k": 1' in load_text(b'{"k": 1}', "json").content
    assert load_text("caf\xe9".encode("cp1252")).content == "café"
    with pytest.raises(LoaderError, match="binary"):
        load_text(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(LoaderError, match="no text"):
        load_text(b"  \n ")
    with pytest.raises(LoaderError, match="Unsupported file type"):
        load_file(_write(tmp_path, "x", b"PK"), "sheet.xlsx")


# ---- chunking -------------------------------------------------------------------------------


def test_split_respects_size_overlap_and_offsets() -> None:
    text = "\n\n".join(f"Paragraph {i}. " + "word " * (40 + i % 7) for i in range(60))
    chunks = split_text(text, 1000, 100)
    assert len(chunks) > 10
    for piece, start in chunks:
        assert len(piece) <= 1000
        assert text[start : start + len(piece)] == piece
    # Paragraphs longer than the overlap are never repeated (LangChain's rule too) ...
    assert all(s >= e for s, e in _bounds(chunks))
    # ... but within running text the next chunk starts up to 100 characters back.
    prose = " ".join(f"word{i}" for i in range(2000))
    running = split_text(prose, 1000, 100)
    assert all(0 < e - s <= 100 for s, e in _bounds(running))


def _bounds(chunks: list[tuple[str, int]]) -> list[tuple[int, int]]:
    """(start of each chunk, end of the previous one)."""
    return [(chunks[i][1], chunks[i - 1][1] + len(chunks[i - 1][0])) for i in range(1, len(chunks))]


def test_split_falls_back_to_characters_for_unbroken_text() -> None:
    chunks = split_text("x" * 2500, 1000, 100)
    assert [len(p) for p, _ in chunks] == [1000, 1000, 700]


def test_chunks_carry_page_headers_and_global_offsets(tmp_path: Path) -> None:
    doc = load_text(b"# A\n" + b"alpha " * 300 + b"\n# B\nbeta", "md")
    chunks = chunk_document(doc, 500, 50)
    content = doc.content
    for chunk in chunks:
        assert content[chunk.start_index : chunk.start_index + len(chunk.text)] == chunk.text
    assert chunks[0].headers == ("A",) and chunks[-1].headers == ("B",)
    assert [c.index for c in chunks] == list(range(len(chunks)))


# ---- fusion ---------------------------------------------------------------------------------


def _hit(chunk_id: str, score: float, vector: Any = None, text: str | None = None) -> Hit:
    return Hit(
        chunk_id, "f", text or chunk_id, text or chunk_id, 0, 0, None, None, (), score, vector
    )


def test_fuse_weights_bm25_and_scores_bm25_only_hits_by_meaning() -> None:
    query = np.array([1.0, 0.0], dtype=np.float32)
    vector_hits = [_hit("a", 0.9), _hit("b", 0.6)]
    text_hits = [_hit("b", 7.0, [1.0, 0.0]), _hit("c", 3.5, [0.0, 1.0])]
    only_vector = fuse(query, vector_hits, text_hits, 0.0)
    assert only_vector[0].chunk_id == "a"
    only_text = fuse(query, vector_hits, text_hits, 1.0)
    assert [h.chunk_id for h in only_text][:2] == ["b", "c"]
    mixed = fuse(query, vector_hits, text_hits, 0.5)
    assert all(0.0 <= h.score <= 1.0 for h in mixed)
    assert mixed[0].chunk_id == "b"  # good on both counts
    assert all(h.vector is None for h in mixed)


def test_merge_by_hash_keeps_the_best_copy() -> None:
    hits = [_hit("x1", 0.5, text="same"), _hit("x2", 0.8, text="same"), _hit("y", 0.7)]
    merged = merge_by_hash(hits, 5)
    assert [(h.chunk_id, h.score) for h in merged] == [("x2", 0.8), ("y", 0.7)]


# ---- batcher --------------------------------------------------------------------------------


class _CountingEmbedder:
    key = "fake:model"

    def __init__(self) -> None:
        self.batches: list[int] = []

    async def embed_documents(self, texts: Sequence[str]) -> Any:
        self.batches.append(len(texts))
        await asyncio.sleep(0.01)
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    async def embed_query(self, text: str) -> Any:
        return np.array([[1.0, 0.0]], dtype=np.float32)

    async def aclose(self) -> None:
        pass


async def test_batcher_packs_concurrent_requests_and_keeps_order() -> None:
    embedder = _CountingEmbedder()
    batcher = EmbedBatcher(embedder, batch_size=4)
    requests = [["a" * (i + j) for j in range(3)] for i in range(1, 5)]
    results = await asyncio.gather(*(batcher.embed(r) for r in requests))
    for texts, vectors in zip(requests, results, strict=True):
        assert vectors[:, 0].tolist() == [float(len(t)) for t in texts]
    assert sum(embedder.batches) == 12 and max(embedder.batches) == 4
    assert len(embedder.batches) == 3  # full batches across requests, not one per request


async def test_batcher_drops_a_cancelled_request() -> None:
    embedder = _CountingEmbedder()
    batcher = EmbedBatcher(embedder, batch_size=2)
    first = asyncio.ensure_future(batcher.embed(["a", "b"]))
    second = asyncio.ensure_future(batcher.embed(["c"] * 10))
    await asyncio.sleep(0)
    second.cancel()
    assert (await first).shape == (2, 2)
    await asyncio.sleep(0.05)
    assert sum(embedder.batches) <= 4
    await batcher.aclose()


# ---- template and placement -----------------------------------------------------------------

SOURCES = [
    {
        "source": {"type": "collection", "id": "kb1", "name": "Notes"},
        "document": ["alpha one", "beta", "alpha two"],
        "metadata": [
            {"source": "a.txt", "name": "a.txt"},
            {"source": "b.pdf", "name": "b.pdf"},
            {"source": "a.txt", "name": "a.txt"},
        ],
    },
    {"source": {"type": "text", "name": "pasted"}, "document": ["gamma"], "metadata": [{}]},
]


def test_sources_numbered_per_distinct_document() -> None:
    context = source_context(SOURCES)
    assert context.splitlines() == [
        '<source id="1" name="a.txt">alpha one</source>',
        '<source id="2" name="b.pdf">beta</source>',
        '<source id="1" name="a.txt">alpha two</source>',
        '<source id="3" name="pasted">gamma</source>',
    ]


def test_template_fills_once_and_never_expands_document_text() -> None:
    rendered = render_template(DEFAULT_RAG_TEMPLATE, "doc says {{QUERY}}", "q?")
    assert rendered.endswith("<context>\ndoc says {{QUERY}}\n</context>\n")
    assert render_template("[query] / {{CONTEXT}}", "C", "Q") == "Q / C"


def test_context_goes_before_the_last_user_text() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "second"},
    ]
    out = inject(messages, "CTX", system_context=False)
    assert out[-1]["content"] == "CTX\nsecond" and out[1]["content"] == "first"
    assert messages[-1]["content"] == "second"  # the caller's list is untouched
    parts = [{"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url"}]}]
    assert inject(parts, "CTX", system_context=False)[0]["content"][0]["text"] == "CTX\nlook"
    tail = inject([{"role": "assistant", "content": "hi"}], "CTX", system_context=False)
    assert tail[-1] == {"role": "user", "content": "CTX"}


def test_system_context_appends_to_the_first_system_message() -> None:
    out = inject(
        [{"role": "system", "content": "S"}, {"role": "user", "content": "u"}],
        "CTX",
        system_context=True,
    )
    assert out[0]["content"] == "S\nCTX" and out[1]["content"] == "u"
    created = inject([{"role": "user", "content": "u"}], "CTX", system_context=True)
    assert created[0] == {"role": "system", "content": "CTX"}


def test_preset_knowledge_expands_to_files_items() -> None:
    meta = {
        "knowledge": [
            {"id": "kb1", "type": "collection", "name": "Docs"},
            {"id": "f1", "type": "file", "name": "a.pdf"},
            {"collection_name": "legacy-kb", "name": "Old"},
            {"collection_names": ["k2", "k3"], "name": "Many"},
            {"id": "kb4", "name": "untyped"},
            "junk",
        ]
    }
    items = expand_preset_knowledge(meta, [{"type": "file", "id": "f1"}])
    assert items == [
        {"type": "file", "id": "f1"},
        {"id": "kb1", "type": "collection", "name": "Docs"},
        {"id": "legacy-kb", "name": "Old", "legacy": True},
        {"type": "collection", "name": "Many", "collection_names": ["k2", "k3"], "legacy": True},
        {"id": "kb4", "name": "untyped", "type": "collection"},
    ]
    assert expand_preset_knowledge(None) == []


def test_broken_utf16_text_keeps_its_readable_text() -> None:
    from webui_daemon.rag.loaders import decode_text

    lone_surrogate = "\ufeffHello".encode("utf-16-le") + b"\x00\xd8" + "world".encode("utf-16-le")
    text = decode_text(lone_surrogate)
    assert text == "Hello\ufffdworld"  # the BOM read as such, the lone half replaced
    assert decode_text(lone_surrogate + b"x").startswith("Hello\ufffdworld")  # odd length
