"""Client-side turns against a fake Open WebUI (no /api/webui/info, JSON for saved turns)."""

import itertools
import json
from typing import Any

import httpx

from webui_daemon.schemas.chats import ChatResponse
from webui_tui.client.api import WebUIClient
from webui_tui.client.client_turns import begin_turn, title_for
from webui_tui.client.discovery import Target
from webui_tui.client.transcript import branch

MODEL = "llama3:8b"


class FakeOpenWebUI:
    """Chats kept in memory, merged on update as Open WebUI does; a streamed plain completion."""

    def __init__(self) -> None:
        self.chats: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.requests.append((request.method, path, body))
        if path == "/api/chat/completions":
            if "chat_id" in body:
                return httpx.Response(200, json=None)  # Open WebUI saves such a turn itself
            return httpx.Response(
                200, content=self._sse(body), headers={"content-type": "text/event-stream"}
            )
        if path == "/api/v1/chats/new":
            self.chats["c1"] = self._chat("c1", body["chat"])
            return httpx.Response(200, json=self.chats["c1"])
        if path.startswith("/api/v1/chats/") and request.method == "POST":
            chat = self.chats[path.rsplit("/", 1)[1]]
            chat["chat"] = {**chat["chat"], **body["chat"]}
            return httpx.Response(200, json=chat)
        return httpx.Response(404, json={"detail": "Not Found"})

    @staticmethod
    def _chat(chat_id: str, document: dict[str, Any]) -> dict[str, Any]:
        title = document.get("title", "New Chat")
        return {
            "id": chat_id,
            "user_id": "u",
            "title": title,
            "chat": document,
            "updated_at": 1,
            "created_at": 1,
        }

    @staticmethod
    def _sse(body: dict[str, Any]) -> bytes:
        asked = body["messages"][-1]["content"]
        chunks = [
            {"choices": [{"index": 0, "delta": {"content": f"echo: {asked}"}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {"usage": {"completion_tokens": 2}},
        ]
        lines = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks] + ["data: [DONE]\n\n"]
        return "".join(lines).encode()


async def test_a_server_that_is_not_webui_gets_client_side_turns() -> None:
    fake = FakeOpenWebUI()
    target = Target(source="argument", url="http://open-webui")
    async with WebUIClient(target, transport=httpx.MockTransport(fake)) as client:
        assert await client.server_turns() is False
        assert await client.server_turns() is False  # asked once
        assert [r[1] for r in fake.requests].count("/api/webui/info") == 1

        turn = await begin_turn(client, None, "first\nmore", MODEL, system="Be brief.")
        async with turn.open() as stream:
            [event async for event in stream]
        await turn.save(stream)
        stored = ChatResponse.model_validate(fake.chats["c1"])
        assert stored.title == "first"
        turn2 = await begin_turn(client, stored, "second", MODEL)
        async with turn2.open() as stream2:
            [event async for event in stream2]
        await turn2.save(stream2)

    completions = [r[2] for r in fake.requests if r[1] == "/api/chat/completions"]
    assert all("chat_id" not in body and "id" not in body for body in completions)
    assert completions[1]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first\nmore"},
        {"role": "assistant", "content": "echo: first\nmore"},
        {"role": "user", "content": "second"},
    ]
    document = fake.chats["c1"]["chat"]
    path = branch(document)
    assert [m["role"] for m in path] == ["user", "assistant", "user", "assistant"]
    assert document["messages"] == path
    assert document["history"]["currentId"] == path[-1]["id"] == stream2.message_id
    for parent, child in itertools.pairwise(path):
        assert child["parentId"] == parent["id"]
        assert document["history"]["messages"][parent["id"]]["childrenIds"] == [child["id"]]
    assert path[-1]["done"] is True and path[-1]["usage"] == {"completion_tokens": 2}
    assert "interrupted" not in path[-1] and "error" not in path[-1]


def test_title_is_the_first_line_shortened() -> None:
    assert title_for("\n  hello there \nmore") == "hello there"
    assert title_for("x" * 80) == "x" * 49 + "…"
