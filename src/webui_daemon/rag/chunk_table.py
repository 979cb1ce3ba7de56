"""ChunkTable: the synchronous LanceDB side of the knowledge index (one table of chunk rows per
embedding model, with a full-text index, a file_id scalar index and, once the table is big
enough, an ANN index). It runs in the knowledge worker process, behind `rag.index.LanceIndex`;
lancedb and pyarrow are imported on first use.

Callers serialise writes (LanceIndex holds the write lock); searches run concurrently with them.
A search limited to files that hold a big share of the table filters after the index lookup (a
long `file_id IN (...)` costs more than the search itself), and falls back to filtering first
when too few remain.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from webui_daemon.rag.chunking import Chunk
from webui_daemon.rag.records import (
    META_COLUMNS,
    TABLE_PREFIX,
    Hit,
    chunk_schema,
    chunk_table,
    file_filter,
    hit_from_row,
    table_name,
)

if TYPE_CHECKING:
    from webui_daemon.rag.embedders import Vectors

# Filter after the lookup when the allowed files hold at least this share of the table.
POSTFILTER_SHARE = 0.25
MAX_CANDIDATES = 1000


class ChunkTable:
    def __init__(
        self,
        path: Path,
        embedding_key: str,
        *,
        ann_min_rows: int = 50_000,
        ann_nprobes: int = 40,
        ann_ef: int = 200,
    ) -> None:
        self.path = path
        self.name = table_name(embedding_key)
        self._ann_min_rows = ann_min_rows
        self._nprobes = ann_nprobes
        self._ef = ann_ef
        self._db: Any = None
        self._table: Any = None
        self._dim: int | None = None
        self._open_lock = threading.Lock()
        self._indexed: set[str] = set()
        self.rows = 0  # rows in the table, refreshed on open and after each write

    # ---- opening -------------------------------------------------------------------------

    def open(self) -> None:
        with self._open_lock:
            if self._db is None:
                import lancedb

                self.path.mkdir(parents=True, exist_ok=True)
                self._db = lancedb.connect(str(self.path))
                if self.name in self._table_names():
                    self._table = self._db.open_table(self.name)
                    self._dim = self._table.schema.field("vector").type.list_size
                    self._indexed = {i.name for i in self._table.list_indices()}
                    self._count_rows()

    def _count_rows(self) -> None:
        self.rows = 0 if self._table is None else int(self._table.count_rows())

    def _table_names(self) -> list[str]:
        names: list[str] = []
        page_token = None
        while True:
            response = self._db.list_tables(page_token=page_token)
            names.extend(response.tables)
            page_token = getattr(response, "page_token", None)
            if not page_token:
                return names

    def drop_others(self) -> list[str]:
        """Drop the tables of other embedding models (their files are re-indexed)."""
        self.open()
        dropped = []
        for name in self._table_names():
            if name.startswith(TABLE_PREFIX) and name != self.name:
                self._db.drop_table(name)
                dropped.append(name)
        return dropped

    def ensure_table(self, dim: int) -> Any:
        self.open()
        if self._table is None:
            schema = chunk_schema(dim)
            self._table = self._db.create_table(self.name, schema=schema, exist_ok=True)
            self._dim = dim
        elif self._dim != dim:
            raise ValueError(f"vector size {dim} does not match the index ({self._dim})")
        return self._table

    # ---- writing -------------------------------------------------------------------------

    def add(self, file_id: str, chunks: Sequence[Chunk], vectors: Vectors) -> None:
        table = self.ensure_table(int(vectors.shape[1]))
        batch = chunk_table(file_id, chunks, vectors, table.schema)
        table.add(batch)
        self._count_rows()
        self.ensure_indexes()

    def ensure_indexes(self) -> None:
        from lancedb.index import FTS, BTree

        if "file_id_idx" not in self._indexed:
            self._table.create_index("file_id", config=BTree(), replace=True)
            self._indexed.add("file_id_idx")
        if "text_idx" not in self._indexed:
            self._table.create_index(
                "text", config=FTS(with_position=False, stem=True), replace=True
            )
            self._indexed.add("text_idx")

    def delete(self, file_ids: Sequence[str]) -> None:
        self.open()
        if self._table is None:
            return
        for start in range(0, len(file_ids), 500):
            self._table.delete(file_filter(file_ids[start : start + 500]))
        self._count_rows()

    def copy(self, source: str, target: str) -> int:
        self.open()
        if self._table is None:
            return 0
        rows = self._table.search().where(file_filter([source])).limit(None).to_arrow()
        if rows.num_rows == 0:
            return 0
        import pyarrow as pa

        ids = [f"{target}:{i}" for i in rows.column("chunk_index").to_pylist()]
        rows = rows.set_column(rows.schema.get_field_index("id"), "id", pa.array(ids))
        rows = rows.set_column(
            rows.schema.get_field_index("file_id"), "file_id", pa.array([target] * len(ids))
        )
        self._table.add(rows.select(self._table.schema.names))
        self._count_rows()
        return int(rows.num_rows)

    def vectors_by_hash(self, file_id: str) -> dict[str, Any]:
        self.open()
        if self._table is None:
            return {}
        rows = (
            self._table.search()
            .where(file_filter([file_id]))
            .select(["hash", "vector"])
            .limit(None)
            .to_arrow()
        )
        return (
            dict(
                zip(rows.column("hash").to_pylist(), rows.column("vector").to_numpy(), strict=True)
            )
            if rows.num_rows
            else {}
        )

    # ---- maintenance ---------------------------------------------------------------------

    def count(self) -> int:
        self.open()
        return 0 if self._table is None else int(self._table.count_rows())

    def optimize(self) -> bool:
        """Compact small writes and fold new rows into the indexes; True when the table has
        grown big enough for an ANN index it does not have yet."""
        if self._table is None:
            return False
        self._table.optimize(cleanup_older_than=timedelta(minutes=1))
        return not self.has_ann and self.count() >= self._ann_min_rows

    def build_ann(self) -> None:
        from lancedb.index import IvfHnswSq

        self._table.create_index("vector", config=IvfHnswSq(distance_type="cosine"), replace=True)
        self._indexed.add("vector_idx")

    def file_ids(self) -> set[str]:
        self.open()
        if self._table is None:
            return set()
        rows = self._table.search().select(["file_id"]).limit(None).to_arrow()
        return set(rows.column("file_id").unique().to_pylist())

    @property
    def has_ann(self) -> bool:
        return "vector_idx" in self._indexed

    # ---- searching -----------------------------------------------------------------------

    def _candidates(self, file_ids: Sequence[str] | None, allowed_rows: int, limit: int) -> int:
        """How many unfiltered hits to fetch and filter afterwards; 0: filter first instead."""
        if file_ids is None or self.rows == 0 or allowed_rows <= 0:
            return 0
        share = min(1.0, allowed_rows / self.rows)
        if share < POSTFILTER_SHARE:
            return 0
        return min(MAX_CANDIDATES, math.ceil(limit * 2 / share) + limit)

    def vector_search(
        self,
        query: Vectors,
        file_ids: Sequence[str] | None,
        limit: int,
        exact: bool,
        allowed_rows: int,
    ) -> list[Hit]:
        self.open()
        if self._table is None:
            return []
        ann = self.has_ann and not exact
        fetch = self._candidates(file_ids, allowed_rows, limit) if ann else 0
        if fetch and file_ids is not None:
            allowed = set(file_ids)
            hits = [h for h in self._vector_query(query, None, fetch, ann) if h.file_id in allowed]
            if len(hits) >= limit:
                return hits[:limit]
        return self._vector_query(query, file_ids, limit, ann)

    def _vector_query(
        self, query: Vectors, file_ids: Sequence[str] | None, limit: int, ann: bool
    ) -> list[Hit]:
        search = (
            self._table.search(query.reshape(-1), vector_column_name="vector")
            .distance_type("cosine")
            .select([*META_COLUMNS, "_distance"])
            .limit(limit)
        )
        if file_ids is not None:
            search = search.where(file_filter(file_ids), prefilter=True)
        search = search.nprobes(self._nprobes).ef(self._ef) if ann else search.bypass_vector_index()
        rows = search.to_arrow().to_pylist()
        # Cosine distance d lies in [0, 2]; Open WebUI reports (2 - d) / 2, higher is better.
        return [hit_from_row(r, 1.0 - float(r["_distance"]) / 2.0) for r in rows]

    def text_search(
        self, query: str, file_ids: Sequence[str] | None, limit: int, allowed_rows: int
    ) -> list[Hit]:
        self.open()
        if self._table is None or "text_idx" not in self._indexed:
            return []
        fetch = self._candidates(file_ids, allowed_rows, limit)
        if fetch and file_ids is not None:
            allowed = set(file_ids)
            hits = [h for h in self._text_query(query, None, fetch) if h.file_id in allowed]
            if len(hits) >= limit:
                return hits[:limit]
        return self._text_query(query, file_ids, limit)

    def _text_query(self, query: str, file_ids: Sequence[str] | None, limit: int) -> list[Hit]:
        search = (
            self._table.search(query, query_type="fts", fts_columns="text")
            .select([*META_COLUMNS, "vector", "_score"])
            .limit(limit)
        )
        if file_ids is not None:
            search = search.where(file_filter(file_ids), prefilter=True)
        rows = search.to_arrow().to_pylist()
        return [hit_from_row(r, float(r["_score"])) for r in rows]

    def file_chunks(self, file_id: str) -> list[Hit]:
        self.open()
        if self._table is None:
            return []
        rows = (
            self._table.search()
            .where(file_filter([file_id]))
            .select(META_COLUMNS)
            .limit(None)
            .to_arrow()
            .to_pylist()
        )
        return sorted((hit_from_row(r, 1.0) for r in rows), key=lambda h: h.chunk_index)
