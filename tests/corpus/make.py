"""Make test files (a PDF written by hand, a DOCX through python-docx) and drive uploads."""

import io
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import bearer

SHARED_MODEL = Path(__file__).resolve().parents[3] / "shared" / "models" / "all-MiniLM-L6-v2"


def model_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The daemon's environment for knowledge tests: the shared local model (never a download)."""
    env = {"DEFAULT_USER_ROLE": "user"}
    path = os.environ.get("WEBUI_EMBEDDING_MODEL_PATH") or str(SHARED_MODEL)
    env["WEBUI_EMBEDDING_MODEL_PATH"] = path
    env.update(extra or {})
    return env


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF: one page per list of lines, Helvetica, with a correct xref table."""
    objects: list[bytes] = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, lines in enumerate(pages):
        content_id = 4 + 2 * i
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>"
            ).encode()
        )
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def make_docx(blocks: list[tuple[str, str]]) -> bytes:
    """A DOCX from (kind, text) blocks: kind is "h1".."h3", "p", or "table" (rows split by
    ';' and cells by ',')."""
    import docx

    document = docx.Document()
    for kind, text in blocks:
        if kind.startswith("h"):
            document.add_heading(text, level=int(kind[1:]))
        elif kind == "table":
            rows = [r.split(",") for r in text.split(";")]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def upload(
    client: httpx.Client,
    token: str,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
    **params: Any,
) -> Any:
    r = client.post(
        "/api/v1/files/",
        headers=bearer(token),
        params=params,
        files={"file": (name, data, content_type)},
    )
    assert r.status_code == 200, r.text
    return r.json()


def wait_done(client: httpx.Client, token: str, file_id: str, timeout: float = 60) -> Any:
    """Poll /process/status until completed or failed; the file's record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/api/v1/files/{file_id}/process/status", headers=bearer(token))
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("completed", "failed"):
            return client.get(f"/api/v1/files/{file_id}", headers=bearer(token)).json()
        time.sleep(0.05)
    raise AssertionError(f"file {file_id} still processing after {timeout}s")


def sse_events(response: httpx.Response) -> list[Any]:
    return [
        json.loads(line[len("data: ") :])
        for line in response.iter_lines()
        if line.startswith("data: ")
    ]
