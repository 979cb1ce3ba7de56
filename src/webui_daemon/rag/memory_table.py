"""MemoryTables: the synchronous LanceDB side of users' memory vectors, one small table per user
(Open WebUI's collection `user-memory-{user_id}`) under one folder. It runs in the knowledge
worker process, behind `rag.memory_index.MemoryIndex`; lancedb and pyarrow are imported on
first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webui_daemon.rag.embedders import Vectors

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# Writes to one table before its fragments are compacted (each write adds one).
COMPACT_EVERY = 64


def collection_name(user_id: str) -> str:
    """Open WebUI's name for a user's memory collection (hashed if not a safe table name)."""
    name = f"user-memory-{user_id}"
    if _SAFE_NAME.match(name):
        return name
    return "user-memory-" + hashlib.sha1(user_id.encode()).hexdigest()  # noqa: S324


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class MemoryTables:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: Any = None
        self._lock = threading.Lock()  # LanceDB connection and per-table write counters
        self._writes: dict[str, int] = {}

    def _connect(self) -> Any:
        with self._lock:
            if self._db is None:
                import lancedb

                self.path.mkdir(parents=True, exist_ok=True)
                self._db = lancedb.connect(str(self.path))
            return self._db

    def _open(self, user_id: str) -> Any:
        db = self._connect()
        try:
            return db.open_table(collection_name(user_id))
        except (FileNotFoundError, ValueError):
            return None

    def vectors(self, user_id: str) -> tuple[list[str], Vectors | None]:
        """Every memory id of the user with its vector (rows of the matrix, same order)."""
        table = self._open(user_id)
        if table is None:
            return [], None
        rows = table.to_arrow().select(["id", "vector"])
        if rows.num_rows == 0:
            return [], None
        import numpy as np

        ids = [str(i) for i in rows.column("id").to_pylist()]
        flat = rows.column("vector").combine_chunks().flatten().to_numpy()
        matrix = np.asarray(flat, dtype=np.float32).reshape(rows.num_rows, -1)
        return ids, matrix

    @staticmethod
    def _table(ids: Sequence[str], texts: Sequence[str], vectors: Vectors) -> Any:
        import pyarrow as pa

        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        return pa.table(
            {
                "id": pa.array(list(ids), pa.string()),
                "text": pa.array(list(texts), pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(flat, int(vectors.shape[1])),
            }
        )

    def upsert(
        self, user_id: str, ids: Sequence[str], texts: Sequence[str], vectors: Vectors
    ) -> None:
        """Add or replace these memories' vectors."""
        data = self._table(ids, texts, vectors)
        table = self._open(user_id)
        if table is None:
            self._connect().create_table(collection_name(user_id), data=data, exist_ok=False)
            return
        if table.schema.field("vector").type.list_size != int(vectors.shape[1]):
            # Another vector size under the same model name: start the table again.
            self._connect().create_table(collection_name(user_id), data=data, mode="overwrite")
            return
        table.delete(f"id IN ({','.join(_quote(i) for i in ids)})")
        table.add(data)
        self._compact_now_and_then(user_id, table)

    def replace(
        self, user_id: str, ids: Sequence[str], texts: Sequence[str], vectors: Vectors | None
    ) -> None:
        """The user's table holds exactly these vectors (Open WebUI's reset: a re-index)."""
        self.drop(user_id)
        if ids and vectors is not None:
            data = self._table(ids, texts, vectors)
            self._connect().create_table(collection_name(user_id), data=data, mode="overwrite")

    def delete(self, user_id: str, ids: Sequence[str]) -> None:
        table = self._open(user_id)
        if table is not None:
            table.delete(f"id IN ({','.join(_quote(i) for i in ids)})")
            self._compact_now_and_then(user_id, table)

    def drop(self, user_id: str) -> None:
        """Delete the user's table (all their memory vectors)."""
        db = self._connect()
        name = collection_name(user_id)
        with contextlib.suppress(FileNotFoundError, ValueError):  # no table: nothing to drop
            db.drop_table(name)
        with self._lock:
            self._writes.pop(name, None)

    def _compact_now_and_then(self, user_id: str, table: Any) -> None:
        name = collection_name(user_id)
        with self._lock:
            count = self._writes.get(name, 0) + 1
            self._writes[name] = count
        if count % COMPACT_EVERY == 0:
            # Each write is a fragment; reading hundreds of them is what gets slow.
            table.optimize(cleanup_older_than=timedelta(minutes=1))
