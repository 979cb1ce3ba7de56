"""Vector records: the rows of a model's LanceDB table, and the hits searches return (the
third model layer, beside wire schemas and SQLite rows; converted here and nowhere else)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from webui_daemon.rag.chunking import Chunk

if TYPE_CHECKING:
    from webui_daemon.rag.embedders import Vectors

TABLE_PREFIX = "chunks_"
META_COLUMNS = ["id", "file_id", "text", "hash", "chunk_index", "start_index", "page"]
META_COLUMNS += ["page_label", "headers"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One chunk found by a search; `score` is higher for better matches (0..1 for vectors,
    BM25 for full text)."""

    chunk_id: str
    file_id: str
    text: str
    hash: str
    chunk_index: int
    start_index: int
    page: int | None
    page_label: str | None
    headers: tuple[str, ...]
    score: float
    vector: Any = None


def table_name(embedding_key: str) -> str:
    return TABLE_PREFIX + hashlib.sha1(embedding_key.encode()).hexdigest()[:16]  # noqa: S324


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def file_filter(file_ids: Sequence[str]) -> str:
    return f"file_id IN ({','.join(_quote(f) for f in file_ids)})"


def hit_from_row(row: dict[str, Any], score: float) -> Hit:
    page = row.get("page")
    return Hit(
        chunk_id=row["id"],
        file_id=row["file_id"],
        text=row["text"],
        hash=row["hash"],
        chunk_index=int(row["chunk_index"]),
        start_index=int(row["start_index"]),
        page=None if page is None or page < 0 else int(page),
        page_label=row.get("page_label") or None,
        headers=tuple(json.loads(row["headers"])) if row.get("headers") else (),
        score=score,
        vector=row.get("vector"),
    )


def chunk_schema(dim: int) -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("id", pa.string()),
            pa.field("file_id", pa.string()),
            pa.field("text", pa.string()),
            pa.field("hash", pa.string()),
            pa.field("chunk_index", pa.int32()),
            pa.field("start_index", pa.int64()),
            pa.field("page", pa.int32()),  # -1: no page
            pa.field("page_label", pa.string()),
            pa.field("headers", pa.string()),  # JSON list of the header path
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def chunk_table(file_id: str, chunks: Sequence[Chunk], vectors: Vectors, schema: Any) -> Any:
    """One file's chunks and vectors as an Arrow table (ids are `<file id>:<chunk index>`)."""
    import pyarrow as pa

    flat = pa.array(vectors.reshape(-1), type=pa.float32())
    return pa.table(
        {
            "id": [f"{file_id}:{c.index}" for c in chunks],
            "file_id": [file_id] * len(chunks),
            "text": [c.text for c in chunks],
            "hash": [c.hash for c in chunks],
            "chunk_index": pa.array([c.index for c in chunks], pa.int32()),
            "start_index": pa.array([c.start_index for c in chunks], pa.int64()),
            "page": pa.array([-1 if c.page is None else c.page for c in chunks], pa.int32()),
            "page_label": [c.page_label for c in chunks],
            "headers": [json.dumps(list(c.headers)) if c.headers else None for c in chunks],
            "vector": pa.FixedSizeListArray.from_arrays(flat, int(vectors.shape[1])),
        },
        schema=schema,
    )
