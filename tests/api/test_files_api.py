"""/api/v1/files against a real daemon: every file type ingested, honest status, limits, the
routes, deletion removing index rows, unchanged bytes not embedded twice."""

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.corpus.make import make_docx, make_pdf, model_env, sse_events, upload, wait_done
from tests.daemon_proc import DaemonProc
from tests.daemons import client_fixture, daemon_fixture
from tests.support import assert_error, bearer, signup
from webui_daemon.rag.records import table_name

KEY = "fastembed:sentence-transformers/all-MiniLM-L6-v2"


daemon = daemon_fixture(env=lambda: model_env({"FILE_MAX_SIZE": "1"}), tmp="files")


client = client_fixture(timeout=60)


@pytest.fixture(scope="module")
def token(client: httpx.Client) -> str:
    return str(signup(client, "Ada", "ada@example.com")["token"])


def index_rows(daemon: DaemonProc) -> dict[str, int]:
    """Rows per file id, read straight from the daemon's LanceDB table."""
    import lancedb

    db = lancedb.connect(str(daemon.data_dir / "vector_db"))
    if table_name(KEY) not in db.list_tables().tables:
        return {}
    table = db.open_table(table_name(KEY))
    counts: dict[str, int] = {}
    for file_id in table.to_arrow().column("file_id").to_pylist():
        counts[file_id] = counts.get(file_id, 0) + 1
    return counts


def query(client: httpx.Client, token: str, collection: str, text: str, **extra: Any) -> Any:
    r = client.post(
        "/api/v1/retrieval/query/doc",
        headers=bearer(token),
        json={"collection_name": collection, "query": text, **extra},
    )
    assert r.status_code == 200, r.text
    return r.json()


FILES: dict[str, tuple[bytes, str]] = {
    "notes.txt": (b"Otters hold hands while they sleep so they do not drift apart.", "text/plain"),
    "guide.md": (
        b"# Setup\nInstall the tool.\n## Config\nSet WEBUI_PORT for TCP.",
        "text/markdown",
    ),
    "page.html": (b"<h1>Lynx</h1><p>The lynx hunts snowshoe hares.</p><script>x()</script>", ""),
    "report.pdf": (
        make_pdf([["Quarterly report, page one: revenue grew."], ["Page two: hedgehogs."]]),
        "application/pdf",
    ),
    "plan.docx": (
        make_docx([("h1", "Garden plan"), ("p", "Plant tulips in October."), ("table", "a,b")]),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "data.csv": (b"animal,legs\nspider,8\nant,6\n", "text/csv"),
    "data.json": (b'{"planet": "Neptune", "moons": 16}', "application/json"),
    "tool.py": (b"def walrus():\n    return 'tusks'\n", "text/x-python"),
    "broken.pdf": (b"%PDF-1.7\n1 0 obj <<< not really a pdf", "application/pdf"),
}


def test_every_type_is_ingested_and_a_corrupt_pdf_fails_alone(
    client: httpx.Client, token: str
) -> None:
    ids = {
        name: upload(client, token, name, data, ctype)["id"]
        for name, (data, ctype) in FILES.items()
    }
    done = {name: wait_done(client, token, file_id) for name, file_id in ids.items()}
    for name, record in done.items():
        if name == "broken.pdf":
            assert record["data"]["status"] == "failed"
            assert record["data"]["error"].startswith("Cannot read the PDF")
        else:
            assert record["data"]["status"] == "completed", (name, record["data"])
            assert record["meta"]["collection_name"] == f"file-{ids[name]}"
    content = {name: r["data"].get("content", "") for name, r in done.items()}
    assert "hedgehogs" in content["report.pdf"] and "snowshoe" in content["page.html"]
    assert "x()" not in content["page.html"] and "tulips" in content["plan.docx"]
    assert "spider,8" in content["data.csv"] and '"Neptune"' in content["data.json"]

    pdf = query(client, token, f"file-{ids['report.pdf']}", "hedgehogs", k=1)
    assert pdf["documents"][0][0].startswith("Page two")
    meta = pdf["metadatas"][0][0]
    assert (meta["page"], meta["page_label"], meta["name"]) == (1, "2", "report.pdf")
    assert meta["file_id"] == ids["report.pdf"] and 0 < pdf["distances"][0][0] <= 1
    md = query(client, token, f"file-{ids['guide.md']}", "which variable sets the port", k=1)
    assert md["metadatas"][0][0]["headers"] == ["Setup", "Config"]
    failed = query(client, token, f"file-{ids['broken.pdf']}", "anything")
    assert failed["documents"] == [[]]


def test_status_goes_pending_processing_completed(client: httpx.Client, token: str) -> None:
    created = upload(client, token, "story.txt", b"A fox jumped over a sleeping dog. " * 40)
    assert created["data"] == {"status": "pending"} and created["status"] is True
    with client.stream(
        "GET", f"/api/v1/files/{created['id']}/process/status?stream=true", headers=bearer(token)
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r)
    order = ["pending", "processing", "completed"]
    seen = [order.index(e["status"]) for e in events]
    assert seen == sorted(seen) and events[-1] == {"status": "completed", "chunk_count": 2}
    plain = client.get(f"/api/v1/files/{created['id']}/process/status", headers=bearer(token))
    assert plain.json() == {"status": "completed", "error": None, "chunk_count": 2}
    record = client.get(f"/api/v1/files/{created['id']}", headers=bearer(token)).json()
    assert record["data"]["chunk_count"] == 2

    inline = upload(
        client, token, "now.txt", b"Processed before the answer.", process_in_background="false"
    )
    assert inline["data"]["status"] == "completed"
    assert inline["data"]["content"] == "Processed before the answer."

    later = upload(client, token, "later.txt", b"Only on request.", process="false")
    time.sleep(0.3)
    assert wait_status(client, token, later["id"]) == "pending"
    r = client.post(
        "/api/v1/retrieval/process/file", headers=bearer(token), json={"file_id": later["id"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["collection_name"] == f"file-{later['id']}"
    assert wait_status(client, token, later["id"]) == "completed"


def wait_status(client: httpx.Client, token: str, file_id: str) -> str:
    r = client.get(f"/api/v1/files/{file_id}/process/status", headers=bearer(token))
    return str(r.json()["status"])


def test_upload_limit_is_file_max_size(
    daemon: DaemonProc, client: httpx.Client, token: str
) -> None:
    uploads = daemon.data_dir / "uploads"
    before = set(uploads.iterdir()) if uploads.exists() else set()
    r = client.post(
        "/api/v1/files/",
        headers=bearer(token),
        files={"file": ("big.txt", b"x" * (1024 * 1024 + 10), "text/plain")},
    )
    assert_error(r, 413)
    assert (set(uploads.iterdir()) if uploads.exists() else set()) == before
    # JSON routes keep the small limit.
    r = client.post(
        "/api/v1/retrieval/process/text",
        headers=bearer(token),
        json={"name": "n", "content": "y" * (3 * 1024 * 1024)},
    )
    assert r.status_code == 413


def test_file_routes(daemon: DaemonProc, client: httpx.Client, token: str) -> None:
    data = b"Penguins cannot fly but they swim fast."
    record = upload(client, token, "../../etc/penguins.txt", data, "text/plain")
    file_id = record["id"]
    assert record["filename"] == "penguins.txt"
    assert Path(record["path"]) == daemon.data_dir / "uploads" / file_id  # server-chosen name
    wait_done(client, token, file_id)
    h = bearer(token)

    listed = client.get("/api/v1/files/", headers=h).json()  # 0.12: always a page
    assert set(listed) == {"items", "total"} and listed["total"] >= 1
    assert file_id in [f["id"] for f in listed["items"]]
    paged = client.get("/api/v1/files/", headers=h, params={"page": 1, "content": "false"}).json()
    assert paged["total"] >= 1 and all("content" not in f["data"] for f in paged["items"])
    assert client.get("/api/v1/files/", headers=h, params={"page": 99}).json()["items"] == []
    own = client.get("/api/v1/files/user/search", headers=h, params={"filename": "PENG*"})
    assert [f["id"] for f in own.json()] == [file_id]
    assert "content" not in own.json()[0]["data"]  # 0.12: content=false by default here
    none = client.get("/api/v1/files/user/search", headers=h, params={"filename": "zz*"})
    assert none.status_code == 200 and none.json() == []
    count = client.get("/api/v1/files/count", headers=h).json()
    assert count == listed["total"] == client.get("/api/v1/files/user/count", headers=h).json()
    found = client.get("/api/v1/files/search", headers=h, params={"filename": "pengu*"}).json()
    assert [f["id"] for f in found] == [file_id]
    assert_error(client.get("/api/v1/files/search", headers=h, params={"filename": "zz*"}), 404)

    raw = client.get(f"/api/v1/files/{file_id}/content", headers=h)
    assert raw.content == data and raw.headers["content-type"].startswith("text/plain")
    attached = client.get(f"/api/v1/files/{file_id}/content?attachment=true", headers=h)
    assert attached.headers["content-disposition"].startswith("attachment")
    text = client.get(f"/api/v1/files/{file_id}/data/content", headers=h).json()
    assert text == {"content": data.decode()}

    r = client.post(
        f"/api/v1/files/{file_id}/data/content/update",
        headers=h,
        json={"content": "Edited: penguins live in the southern hemisphere."},
    )
    assert r.status_code == 200
    wait_done(client, token, file_id)
    hit = query(client, token, f"file-{file_id}", "where do penguins live", k=1)
    assert hit["documents"][0][0].startswith("Edited:")

    assert index_rows(daemon).get(file_id) == 1
    r = client.delete(f"/api/v1/files/{file_id}", headers=h)
    assert r.json() == {"message": "File deleted successfully"}
    assert file_id not in index_rows(daemon)
    assert not (daemon.data_dir / "uploads" / file_id).exists()
    assert_error(client.get(f"/api/v1/files/{file_id}", headers=h), 404)
    assert_error(
        client.post(
            "/api/v1/retrieval/query/doc",
            headers=h,
            json={"collection_name": f"file-{file_id}", "query": "penguins"},
        ),
        400,
    )


def test_unchanged_bytes_are_not_embedded_again(
    daemon: DaemonProc, client: httpx.Client, token: str
) -> None:
    text = "\n\n".join(
        f"Section {i}: the lighthouse keeper logged wind, tide and passing ships. " * 12
        for i in range(12)
    ).encode()
    start = time.perf_counter()
    first = wait_done(client, token, upload(client, token, "log.txt", text)["id"])
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    second = wait_done(client, token, upload(client, token, "copy.txt", text)["id"])
    second_s = time.perf_counter() - start
    assert first["data"]["content"] == second["data"]["content"]
    rows = index_rows(daemon)
    assert rows[first["id"]] == rows[second["id"]] >= 10
    assert second_s < first_s / 3, (first_s, second_s)
    hit = query(client, token, f"file-{second['id']}", "passing ships", k=1)
    assert hit["metadatas"][0][0]["file_id"] == second["id"]
    assert hit["metadatas"][0][0]["name"] == "copy.txt"
