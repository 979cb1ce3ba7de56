"""Recorded Open WebUI answers served to the client through httpx's MockTransport.

    replay = Replay("knowledge-list", "knowledge-get", "knowledge-files")
    client = replay.client()                      # a WebUIClient on the recordings
    run_cli(["kb", "show", "Handbook"], replay)   # or the command line, in this process

A request is answered by the first unused recording with its method, path and query (a
recording used already answers again when no fresh one is left); a request nothing recorded
answers gets a 599 and is kept in `misses`, which the tests check is empty.
"""

import json
from typing import Any

import httpx

from tests.contract.scenario import load
from webui_tui.client.api import WebUIClient
from webui_tui.client.discovery import Target
from webui_tui.client.tui_extra import TuiClient

URL = "http://owui.test"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyZWNvcmRlZCI6dHJ1ZX0.recorded"
API_KEY = "sk-" + "0" * 32


def _query(request: httpx.Request) -> dict[str, str]:
    return {key: value for key, value in request.url.params.multi_items()}


class Replay:
    def __init__(self, *names: str) -> None:
        self.recordings = [load(name) for name in names]
        self.used: list[str] = []
        self.misses: list[str] = []
        self.requests: list[httpx.Request] = []

    def _matches(self, recording: dict[str, Any], request: httpx.Request) -> bool:
        wanted = recording["request"]
        return (
            wanted["method"] == request.method
            and wanted["path"] == request.url.path
            and dict(wanted.get("params") or {}) == _query(request)
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        found = [r for r in self.recordings if self._matches(r, request)]
        fresh = [r for r in found if r["name"] not in self.used]
        if not found:
            query = f"?{request.url.query.decode()}" if request.url.query else ""
            self.misses.append(f"{request.method} {request.url.path}{query}")
            return httpx.Response(599, json={"detail": "no recording for this request"})
        recording = fresh[0] if fresh else found[-1]
        self.used.append(recording["name"])
        return response_of(recording)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self, token: str = JWT) -> WebUIClient:
        target = Target(source="WEBUI_URL", url=URL)
        return WebUIClient(target, token=token, transport=self.transport, timeout=5)

    def tui_client(self, token: str = JWT) -> TuiClient:
        target = Target(source="WEBUI_URL", url=URL)
        return TuiClient(target, token=token, transport=self.transport, timeout=5)

    def unused(self) -> list[str]:
        return [r["name"] for r in self.recordings if r["name"] not in self.used]


def response_of(recording: dict[str, Any]) -> httpx.Response:
    """The recorded answer: its status, content type and body (JSON, or the text as sent)."""
    body = recording["body"]
    kind = recording["content_type"] or "application/json"
    content = json.dumps(body).encode() if kind == "application/json" else str(body).encode()
    return httpx.Response(recording["status"], headers={"content-type": kind}, content=content)
