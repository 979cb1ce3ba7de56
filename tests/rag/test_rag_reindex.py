"""Provider embedding endpoints (Ollama /api/embed, OpenAI /v1/embeddings) through a stand-in
server, and changing the embedding model at run time: every file is re-indexed into the new
model's table, the old table goes, and a failing endpoint fails only the files it touches."""

import json
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import lancedb
import pytest

from tests.corpus.make import model_env, upload, wait_done
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.support import assert_error, bearer, signup, tcp
from webui_daemon.rag.records import TABLE_PREFIX, table_name

DIM = 64


def hashed_vector(text: str) -> list[float]:
    """A bag of words hashed into DIM buckets: texts sharing words point the same way."""
    vector = [0.0] * DIM
    for word in text.lower().split():
        vector[zlib.crc32(word.strip(".,?!:;").encode()) % DIM] += 1.0
    return vector


class EmbeddingStandIn:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], str | None]] = []
        self.fail = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.requests.append((self.path, body, self.headers.get("authorization")))
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                if outer.fail:
                    answer, status = {"error": "model is overloaded"}, 503
                elif self.path == "/api/embed":
                    answer, status = {"embeddings": [hashed_vector(t) for t in texts]}, 200
                elif self.path == "/v1/embeddings":
                    data = [
                        {"index": i, "embedding": hashed_vector(t)} for i, t in enumerate(texts)
                    ]
                    answer, status = {"data": list(reversed(data))}, 200  # any order
                else:
                    answer, status = {"error": "not found"}, 404
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def standin() -> Iterator[EmbeddingStandIn]:
    server = EmbeddingStandIn()
    yield server
    server.server.shutdown()


daemon = daemon_fixture(env=lambda: model_env(), tmp="reindex")


def tables(daemon: DaemonProc) -> dict[str, list[str]]:
    db = lancedb.connect(str(daemon.data_dir / "vector_db"))
    return {
        name: db.open_table(name).to_arrow().column("file_id").to_pylist()
        for name in db.list_tables().tables
        if name.startswith(TABLE_PREFIX)
    }


def wait_all(client: httpx.Client, token: str, ids: list[str]) -> list[Any]:
    return [wait_done(client, token, file_id) for file_id in ids]


def switch(client: httpx.Client, token: str, body: dict[str, Any]) -> Any:
    r = client.post("/api/v1/retrieval/embedding/update", headers=bearer(token), json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_model_change_reindexes_every_file(daemon: DaemonProc, standin: EmbeddingStandIn) -> None:
    with tcp(daemon, timeout=60) as client:
        token = signup(client, "Admin", "admin@example.com")["token"]
        docs = {
            "tea.txt": b"Green tea is steamed; black tea is oxidised before drying.",
            "bikes.txt": b"Disc brakes stop a bicycle well in the rain.",
            "moon.txt": b"The moon has no atmosphere, so its sky is black by day.",
        }
        ids = [upload(client, token, name, data)["id"] for name, data in docs.items()]
        wait_all(client, token, ids)
        fastembed_table = table_name("fastembed:sentence-transformers/all-MiniLM-L6-v2")
        assert sorted(tables(daemon)[fastembed_table]) == sorted(ids)

        answer = switch(
            client,
            token,
            {
                "RAG_EMBEDDING_ENGINE": "ollama",
                "RAG_EMBEDDING_MODEL": "hashy",
                "ollama_config": {"url": standin.url, "key": ""},
            },
        )
        assert (
            answer["RAG_EMBEDDING_ENGINE"] == "ollama" and answer["RAG_EMBEDDING_MODEL"] == "hashy"
        )
        records = wait_all(client, token, ids)
        assert {r["data"]["status"] for r in records} == {"completed"}
        assert tables(daemon) == {
            table_name("ollama:hashy"): tables(daemon)[table_name("ollama:hashy")]
        }
        assert sorted(tables(daemon)[table_name("ollama:hashy")]) == sorted(ids)
        assert {path for path, _, _ in standin.requests} == {"/api/embed"}
        assert {body["model"] for _, body, _ in standin.requests} == {"hashy"}

        r = client.post(
            "/api/v1/retrieval/query/doc",
            headers=bearer(token),
            json={"collection_name": f"file-{ids[1]}", "query": "bicycle brakes rain"},
        )
        meta = r.json()["metadatas"][0][0]
        assert json.loads(meta["embedding_config"]) == {"engine": "ollama", "model": "hashy"}
        assert standin.requests[-1][1]["input"] == ["bicycle brakes rain"]  # the query, too

        switch(
            client,
            token,
            {
                "RAG_EMBEDDING_ENGINE": "openai",
                "RAG_EMBEDDING_MODEL": "hashy-2",
                "openai_config": {"url": standin.url + "/v1", "key": "sk-test"},
            },
        )
        wait_all(client, token, ids)
        assert set(tables(daemon)) == {table_name("openai:hashy-2")}
        assert standin.requests[-1][0] == "/v1/embeddings"
        assert standin.requests[-1][2] == "Bearer sk-test"
        hits = client.post(
            "/api/v1/retrieval/query/doc",
            headers=bearer(token),
            json={"collection_name": f"file-{ids[2]}", "query": "moon sky"},
        ).json()
        assert hits["documents"][0][0].startswith("The moon")

        # A failing endpoint fails the file it was embedding, with the reason; nothing else.
        standin.fail = True
        broken = wait_done(client, token, upload(client, token, "x.txt", b"Overloaded now.")["id"])
        assert broken["data"]["status"] == "failed"
        assert "answered 503" in broken["data"]["error"]
        standin.fail = False
        again = wait_done(client, token, upload(client, token, "y.txt", b"Fine again.")["id"])
        assert again["data"]["status"] == "completed"
        assert {r["data"]["status"] for r in wait_all(client, token, ids)} == {"completed"}

        r = client.post(
            "/api/v1/retrieval/embedding/update",
            headers=bearer(token),
            json={"RAG_EMBEDDING_ENGINE": "azure_openai"},
        )
        assert_error(r, 400)
