"""Retrieval quality on a small corpus with known answers (vector and hybrid both reported), and
the retrieval admin routes."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.corpus.docs import CORPUS, QUESTIONS
from tests.corpus.make import model_env, upload, wait_done
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.support import assert_error, bearer, signup, tcp

GOAL = 0.9


daemon = daemon_fixture(env=lambda: model_env(), tmp="quality")


@pytest.fixture(scope="module")
def setup(daemon: DaemonProc) -> Iterator[tuple[httpx.Client, dict[str, str], str]]:
    with tcp(daemon, timeout=60) as client:
        admin = bearer(signup(client, "Admin", "admin@example.com")["token"])
        kb = client.post("/api/v1/knowledge/create", headers=admin, json={"name": "corpus"}).json()
        ids = [
            upload(client, admin["Authorization"][7:], name, text.encode(), "text/plain")["id"]
            for name, text in CORPUS.items()
        ]
        r = client.post(
            f"/api/v1/knowledge/{kb['id']}/files/batch/add",
            headers=admin,
            json=[{"file_id": i} for i in ids],
        )
        assert r.json()["warnings"] is None
        for file_id in ids:
            assert wait_done(client, admin["Authorization"][7:], file_id)["data"]["status"] == (
                "completed"
            )
        yield client, admin, kb["id"]


def top3_rate(client: httpx.Client, headers: dict[str, str], kb: str, hybrid: bool) -> float:
    hits = 0
    for question, expected in QUESTIONS:
        r = client.post(
            "/api/v1/retrieval/query/collection",
            headers=headers,
            json={"collection_names": [kb], "query": question, "k": 3, "hybrid": hybrid},
        )
        assert r.status_code == 200, r.text
        names = [m["name"] for m in r.json()["metadatas"][0]]
        hits += expected in names
    return hits / len(QUESTIONS)


def test_right_document_in_the_top_three(setup: tuple[httpx.Client, dict[str, str], str]) -> None:
    client, admin, kb = setup
    assert len(CORPUS) >= 30 and len(QUESTIONS) >= 20
    vector = top3_rate(client, admin, kb, hybrid=False)
    r = client.post(
        "/api/v1/retrieval/config/update", headers=admin, json={"ENABLE_RAG_HYBRID_SEARCH": True}
    )
    assert r.json()["ENABLE_RAG_HYBRID_SEARCH"] is True
    hybrid = top3_rate(client, admin, kb, hybrid=True)
    n = len(QUESTIONS)
    print(f"\nretrieval top-3 over {n} questions: vector {vector:.0%}, hybrid {hybrid:.0%}")
    assert vector >= GOAL
    assert hybrid >= GOAL


def test_scores_are_higher_for_better_matches(
    setup: tuple[httpx.Client, dict[str, str], str],
) -> None:
    client, admin, kb = setup
    for hybrid in (False, True):
        r = client.post(
            "/api/v1/retrieval/query/doc",
            headers=admin,
            json={
                "collection_name": kb,
                "query": "waggle dance of bees",
                "k": 5,
                "k_reranker": 5,
                "hybrid": hybrid,
            },
        )
        body = r.json()
        distances = body["distances"][0]
        assert distances == sorted(distances, reverse=True) and len(distances) == 5
        assert all(0.0 <= d <= 1.0 for d in distances)
        assert body["metadatas"][0][0]["name"] == "honeybees.txt"
        assert [m["score"] for m in body["metadatas"][0]] == distances
    # A relevance threshold (hybrid path) keeps only what scores above it.
    r = client.post(
        "/api/v1/retrieval/query/doc",
        headers=admin,
        json={"collection_name": kb, "query": "waggle dance of bees", "k": 5, "r": 0.99},
    )
    assert len(r.json()["documents"][0]) < 5


def test_config_and_embedding_routes(setup: tuple[httpx.Client, dict[str, str], str]) -> None:
    client, admin, _ = setup
    config = client.get("/api/v1/retrieval/config", headers=admin).json()
    assert config["CHUNK_SIZE"] == 1000 and config["CHUNK_OVERLAP"] == 100
    assert config["TOP_K"] == 3 and "{{CONTEXT}}" in config["RAG_TEMPLATE"]
    r = client.post(
        "/api/v1/retrieval/config/update", headers=admin, json={"TOP_K": 5, "CHUNK_OVERLAP": 5000}
    )
    assert_error(r, 400)
    r = client.post(
        "/api/v1/retrieval/config/update",
        headers=admin,
        json={"TOP_K": 5, "RAG_TEMPLATE": "Use {{CONTEXT}}"},
    )
    assert r.json()["TOP_K"] == 5 and r.json()["RAG_TEMPLATE"] == "Use {{CONTEXT}}"
    embedding = client.get("/api/v1/retrieval/embedding", headers=admin).json()
    assert embedding["RAG_EMBEDDING_MODEL"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert embedding["RAG_EMBEDDING_ENGINE"] == ""
    r = client.post(
        "/api/v1/retrieval/embedding/update",
        headers=admin,
        json={"RAG_EMBEDDING_ENGINE": "carrier-pigeon"},
    )
    assert_error(r, 400)


def test_process_text_collections(setup: tuple[httpx.Client, dict[str, str], str]) -> None:
    client, admin, _ = setup
    body: dict[str, Any] = {"name": "memo", "content": "The spare key is under the red flowerpot."}
    r = client.post("/api/v1/retrieval/process/text", headers=admin, json=body)
    assert r.status_code == 200, r.text
    name = r.json()["collection_name"]
    assert len(name) == 64  # sha256 of the content when no name is given
    assert_error(client.post("/api/v1/retrieval/process/text", headers=admin, json=body), 400)
    r = client.post(
        "/api/v1/retrieval/query/doc",
        headers=admin,
        json={"collection_name": name, "query": "where is the key"},
    )
    assert r.json()["documents"][0] == [body["content"]]
    assert r.json()["metadatas"][0][0]["name"] == "memo"
