"""One upload never stalls everyone's files: a zip-bomb DOCX is refused before it is unpacked, a
file's text stops at WEBUI_FILE_MAX_TEXT_BYTES (the loaders count as they extract), and the
processing queue serves uploading users in turns. Real daemons for the end-to-end cases; the
round-robin queue and the bounded loaders on their own below."""

import asyncio
import functools
import io
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest

from tests.corpus.make import make_docx, make_pdf, model_env, upload, wait_done
from tests.daemon_proc import DaemonProc
from tests.daemons import client_fixture, daemon_fixture
from tests.support import add_user, assert_error, assert_no_traceback, bearer, signup, tcp
from webui_daemon.rag.loaders import LoaderError, TextTooLarge, load_file
from webui_daemon.services.knowledge.ingest_queue import FairQueue

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MB = 1024 * 1024
SMALL_CAP = 64 * 1024
CAP_ERROR = "The file's text is larger than the 64 KB limit (WEBUI_FILE_MAX_TEXT_BYTES)."


# ---- building DOCX files by hand ------------------------------------------------------------

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def minimal_docx(body: Iterable[bytes], *, prolog: bytes = b"") -> bytes:
    """A valid minimal DOCX whose body is written piece by piece (so a huge one never sits in
    memory unpacked): content types, package relationships, word/document.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + prolog)
            part.write(f'<w:document xmlns:w="{W_NS}"><w:body>'.encode())
            for piece in body:
                part.write(piece)
            part.write(b"</w:body></w:document>")
    return out.getvalue()


def paragraph(text: str) -> bytes:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()


@functools.cache
def zip_bomb(unpacked_mb: int) -> bytes:
    """A DOCX of well under 1 MB whose document.xml unpacks to `unpacked_mb` MB of paragraphs
    (about half of it text): the shape of the 155 KB file that expanded to 50 MB of text."""
    para = paragraph("All work and no play makes Jack a dull boy.")
    block = para * (MB // len(para))
    return minimal_docx(block for _ in range(unpacked_mb))


# ---- end to end: a daemon with one ingest worker --------------------------------------------


# One worker: what holds the queue shows at once (with several, a stalled file holds a
# worker, and the queue's order still decides who waits).
daemon = daemon_fixture(env=lambda: model_env({"WEBUI_INGEST_WORKERS": "1"}), tmp="fair")


client = client_fixture(timeout=60)


@pytest.fixture(scope="module")
def tokens(client: httpx.Client) -> tuple[str, str]:
    """Alice (admin) and Bob, on a daemon that has loaded its embedding model already (so the
    timings below are processing, not the model's first load)."""
    alice = signup(client, "Alice", "alice@example.com")["token"]
    bob = add_user(client, alice, "Bob", "bob@example.com", "user")["token"]
    warm = upload(client, alice, "warm.txt", b"Warming up the embedding model.")["id"]
    assert wait_done(client, alice, warm)["data"]["status"] == "completed"
    return str(alice), str(bob)


def test_a_zip_bomb_fails_at_once_and_holds_nobody_up(
    client: httpx.Client, tokens: tuple[str, str]
) -> None:
    alice, bob = tokens
    bomb = zip_bomb(200)
    assert len(bomb) < MB
    started = time.monotonic()
    bomb_id = upload(client, alice, "report.docx", bomb, DOCX)["id"]
    note_id = upload(client, bob, "note.txt", b"Bob's note: water the fern daily.")["id"]
    failed = wait_done(client, alice, bomb_id, timeout=20)
    assert failed["data"]["status"] == "failed"
    error = failed["data"]["error"]
    assert "zip bomb" in error and "word/document.xml" in error, error
    assert "the limit is 100 times" in error, error
    note = wait_done(client, bob, note_id, timeout=20)
    assert note["data"]["status"] == "completed", note["data"]
    # Seconds (the old loader took minutes over this file, and Bob's note waited behind it).
    assert time.monotonic() - started < 5


def test_users_take_turns_in_the_queue(
    daemon: DaemonProc, client: httpx.Client, tokens: tuple[str, str]
) -> None:
    """Alice queues eight files, then Bob one: Bob's is processed next, not after Alice's
    eight (with a first-come queue every one of hers would be done before his)."""
    alice, bob = tokens
    h = bearer(alice)
    words = "the ledger records otters, beavers, herons and the river's seasons in order"
    alice_ids = [  # one chunk each, a fraction of a second to embed; uploads are quicker
        upload(client, alice, f"ledger{i}.txt", f"Ledger {i}: {words}. ".encode() * 10)["id"]
        for i in range(8)
    ]
    bob_id = upload(client, bob, "bob.txt", b"Bob keeps one short list of birds.")["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = client.get(f"/api/v1/files/{bob_id}/process/status", headers=bearer(bob))
        if r.json()["status"] in ("completed", "failed"):
            break
        time.sleep(0.02)
    assert r.json()["status"] == "completed", r.json()
    statuses = [
        client.get(f"/api/v1/files/{i}/process/status", headers=h).json()["status"]
        for i in alice_ids
    ]
    # Her first file was being processed when Bob's arrived; one more may have finished
    # while this test looked.
    assert statuses.count("completed") <= 3, statuses
    for file_id in alice_ids:
        assert wait_done(client, alice, file_id)["data"]["status"] == "completed"
    assert_no_traceback(daemon)


# ---- end to end: a daemon with a small text limit -------------------------------------------


capped = daemon_fixture(
    env=lambda: model_env({"WEBUI_FILE_MAX_TEXT_BYTES": str(SMALL_CAP)}), tmp="capped"
)


def test_text_past_the_limit_fails_naming_it(capped: DaemonProc) -> None:
    sentence = "Beavers build dams of branches and mud across the stream. "
    big_text = (sentence * 1200).encode()  # about 70 KB
    assert len(big_text) > SMALL_CAP
    files: dict[str, tuple[bytes, str]] = {
        "long.txt": (big_text, "text/plain"),
        "long.docx": (make_docx([("p", sentence * 12)] * 100), DOCX),
        "long.pdf": (make_pdf([[sentence] * 40 for _ in range(30)]), "application/pdf"),
        "long.html": (b"<p>" + big_text + b"</p>", "text/html"),
    }
    with tcp(capped, timeout=60) as client:
        token = signup(client, "Cora", "cora@example.com")["token"]
        ids = {
            name: upload(client, token, name, data, ct)["id"] for name, (data, ct) in files.items()
        }
        for name, file_id in ids.items():
            record = wait_done(client, token, file_id, timeout=30)
            assert record["data"]["status"] == "failed", (name, record["data"])
            assert record["data"]["error"] == CAP_ERROR, (name, record["data"])
        # Text sent as text is held to the same limit.
        r = client.post(
            "/api/v1/retrieval/process/text",
            headers=bearer(token),
            json={"name": "pasted", "content": big_text.decode()},
        )
        assert assert_error(r, 400) == CAP_ERROR
    assert_no_traceback(capped)


# ---- the round-robin queue ------------------------------------------------------------------


def drain(queue: FairQueue) -> list[str]:
    """Take every item as one worker would (each done before the next)."""

    async def run() -> list[str]:
        order = []
        while len(queue):
            owner, item = await queue.get()
            order.append(item)
            queue.done(owner)
        return order

    return asyncio.run(run())


def test_queue_serves_owners_in_turns() -> None:
    queue = FairQueue()
    for item in ("a1", "a2", "a3", "a4"):
        queue.put("alice", item)
    queue.put("bob", "b1")
    queue.put("carol", "c1")
    queue.put("carol", "c2")
    # A first-come queue would give a1 a2 a3 a4 b1 c1 c2.
    assert drain(queue) == ["a1", "b1", "c1", "a2", "c2", "a3", "a4"]


def test_queue_newcomer_goes_before_the_owner_just_served() -> None:
    async def run() -> list[str]:
        queue = FairQueue()
        queue.put("alice", "a1")
        owner, first = await queue.get()  # a1 is processing ...
        for item in ("a2", "a3"):
            queue.put("alice", item)
        queue.put("bob", "b1")  # ... when Bob's file arrives
        queue.done(owner)
        order = [first]
        while len(queue):
            owner, item = await queue.get()
            order.append(item)
            queue.done(owner)
        return order

    assert asyncio.run(run()) == ["a1", "b1", "a2", "a3"]


def test_queue_gives_a_free_worker_to_the_owner_with_fewest_running() -> None:
    async def run() -> list[tuple[str, str]]:
        queue = FairQueue()
        for item in ("a1", "a2", "a3"):
            queue.put("alice", item)
        taken = [await queue.get(), await queue.get()]  # two workers, both on Alice's files
        queue.put("bob", "b1")
        queue.put("bob", "b2")
        queue.done("alice")  # one of them frees up: Bob has none running, he goes first
        taken.append(await queue.get())
        taken.append(await queue.get())  # one each running: Alice was served longer ago
        return taken

    assert asyncio.run(run()) == [
        ("alice", "a1"),
        ("alice", "a2"),
        ("bob", "b1"),
        ("alice", "a3"),
    ]


def test_queue_remove_put_and_waiting_get() -> None:
    async def run() -> tuple[str, str]:
        queue = FairQueue()
        queue.put("alice", "a1")
        queue.put("alice", "a1")  # already waiting: once
        assert len(queue) == 1 and "a1" in queue
        assert queue.remove("a1") and not queue.remove("a1")
        assert len(queue) == 0 and "a1" not in queue
        getter = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0.01)
        assert not getter.done()
        queue.put("bob", "b1")
        return await asyncio.wait_for(getter, 1)

    assert asyncio.run(run()) == ("bob", "b1")


# ---- the loaders, bounded -------------------------------------------------------------------


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return path


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    path = _write(tmp_path, zip_bomb(200))
    started = time.monotonic()
    with pytest.raises(LoaderError, match=r"zip bomb: word/document\.xml unpacks to \d+ times"):
        load_file(path, "bomb.docx", max_text_bytes=10 * MB)
    assert time.monotonic() - started < 1


def test_docx_text_stops_at_the_limit_inside_one_paragraph(tmp_path: Path) -> None:
    # One run of 2 MB of varied text (it packs well below the zip-bomb ratio): the text limit
    # stops the reader inside it.
    words = " ".join(f"w{i * 7919 % 100003}" for i in range(300_000))
    path = _write(tmp_path, minimal_docx([paragraph(words)]))
    with pytest.raises(TextTooLarge) as caught:
        load_file(path, "one-paragraph.docx", max_text_bytes=SMALL_CAP)
    assert str(caught.value) == CAP_ERROR
    doc = load_file(path, "one-paragraph.docx", max_text_bytes=10 * MB)
    assert doc.content == words


def test_docx_refuses_a_dtd_and_reads_paragraphs_and_tables(tmp_path: Path) -> None:
    dtd = b'<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">]>'
    with pytest.raises(LoaderError, match="DTD"):
        load_file(_write(tmp_path, minimal_docx([paragraph("x")], prolog=dtd)), "dtd.docx")
    data = make_docx([("h1", "Plan"), ("p", "Intro."), ("h2", "Costs"), ("table", "a,b;c,d")])
    doc = load_file(_write(tmp_path, data), "plan.docx", max_text_bytes=SMALL_CAP)
    assert [(s.text, s.headers) for s in doc.sections] == [
        ("Plan\nIntro.", ("Plan",)),
        ("Costs\na | b\nc | d", ("Plan", "Costs")),
    ]


def test_text_files_past_the_limit_are_refused(tmp_path: Path) -> None:
    # Past twice the limit (UTF-16's worst case) the file is refused without being read.
    with pytest.raises(TextTooLarge):
        load_file(_write(tmp_path, b"x" * (3 * SMALL_CAP)), "big.txt", max_text_bytes=SMALL_CAP)
    # Between the limit and twice it, the decoded text decides: UTF-16 of 40 K characters is
    # 80 KB on disk and 40 KB of text, which fits.
    utf16 = ("y" * 40_000).encode("utf-16")
    assert (
        len(load_file(_write(tmp_path, utf16), "u.txt", max_text_bytes=SMALL_CAP).content) == 40_000
    )
    with pytest.raises(TextTooLarge):
        load_file(_write(tmp_path, b"z" * (SMALL_CAP + 1)), "md.md", max_text_bytes=SMALL_CAP)
    html = b"<div>" + b"<p>short</p>" * 20_000 + b"</div>"  # 240 KB of markup, 100 KB of text
    with pytest.raises(TextTooLarge):
        load_file(_write(tmp_path, html), "page.html", max_text_bytes=SMALL_CAP)


def test_pdf_stops_at_the_limit(tmp_path: Path) -> None:
    pdf = make_pdf([[f"Page {p} line {i} about herons." for i in range(40)] for p in range(60)])
    path = _write(tmp_path, pdf)
    with pytest.raises(TextTooLarge, match="2 KB limit"):
        load_file(path, "long.pdf", max_text_bytes=2048)
    assert len(load_file(path, "long.pdf").sections) == 60
