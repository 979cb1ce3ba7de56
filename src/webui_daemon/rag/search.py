"""Hybrid search: fuse vector and BM25 results into one ranking with scores in [0, 1].

Relative score fusion: over the union of both candidate lists, vector similarities are min-max
normalised, BM25 scores divided by the best BM25 score (absent = 0), and the two are mixed with
RAG_HYBRID_BM25_WEIGHT (0 = vector only, 1 = BM25 only), as Open WebUI's weight means. Every
candidate gets its exact vector similarity (full-text hits carry their vectors), so a chunk that
only BM25 found still competes on meaning. Also: merging hits across collections by content
hash, best score first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from webui_daemon.rag.records import Hit

if TYPE_CHECKING:
    from webui_daemon.rag.embedders import Vectors


def fuse(
    query: Vectors,
    vector_hits: list[Hit],
    text_hits: list[Hit],
    bm25_weight: float,
) -> list[Hit]:
    import numpy as np

    weight = min(1.0, max(0.0, bm25_weight))
    candidates: dict[str, Hit] = {h.chunk_id: h for h in vector_hits}
    similarity = {h.chunk_id: h.score for h in vector_hits}
    q = query.reshape(-1)
    for hit in text_hits:
        candidates.setdefault(hit.chunk_id, hit)
        if hit.chunk_id not in similarity and hit.vector is not None:
            cosine = float(np.dot(q, np.asarray(hit.vector, dtype=np.float32)))
            similarity[hit.chunk_id] = (1.0 + cosine) / 2.0
    if not candidates:
        return []
    bm25 = {h.chunk_id: h.score for h in text_hits}
    best_bm25 = max(bm25.values(), default=0.0)
    low, high = min(similarity.values(), default=0.0), max(similarity.values(), default=0.0)
    fused: list[Hit] = []
    for chunk_id, hit in candidates.items():
        sim = similarity.get(chunk_id, low)
        vector_part = (sim - low) / (high - low) if high > low else 1.0
        text_part = bm25.get(chunk_id, 0.0) / best_bm25 if best_bm25 > 0 else 0.0
        score = (1.0 - weight) * vector_part + weight * text_part
        fused.append(replace(hit, score=round(score, 6), vector=None))
    fused.sort(key=lambda h: (-h.score, h.chunk_id))
    return fused


def merge_by_hash(hits: Iterable[Hit], limit: int) -> list[Hit]:
    """One hit per chunk text (the best-scoring one), best first, at most `limit`."""
    best: dict[str, Hit] = {}
    for hit in hits:
        kept = best.get(hit.hash)
        if kept is None or hit.score > kept.score:
            best[hit.hash] = hit
    return sorted(best.values(), key=lambda h: (-h.score, h.chunk_id))[:limit]
