"""Helpers for the chat tests: a signed-in caller, and Open WebUI-shaped documents."""

import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support import bearer, signup

_emails = itertools.count()


@dataclass
class Caller:
    """One signed-in user talking to the daemon."""

    client: httpx.Client
    token: str
    id: str
    role: str

    def _headers(self) -> dict[str, str]:
        return bearer(self.token)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self._headers(), **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self._headers(), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.request("DELETE", path, headers=self._headers(), **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        r = getattr(self, method)(path, **kwargs)
        assert r.status_code == 200, (method, path, r.status_code, r.text)
        if r.headers.get("content-type", "").startswith("application/x-ndjson"):
            return [json.loads(line) for line in r.text.splitlines() if line]  # 0.12's export
        return r.json()

    def new_chat(self, document: dict[str, Any] | None = None, **form: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.ok(
            "post", "/api/v1/chats/new", json={"chat": document or {}, **form}
        )
        return result


def _email(name: str) -> str:
    return f"{name.lower()}-{next(_emails)}-{uuid.uuid4().hex[:6]}@example.com"


def first_admin(client: httpx.Client) -> Caller:
    """The first user to sign up on a fresh daemon (the admin; signup closes after it)."""
    session = signup(client, "Admin", _email("admin"))
    assert session["role"] == "admin"
    return Caller(client, session["token"], session["id"], session["role"])


def caller(admin: Caller, name: str, role: str = "user") -> Caller:
    """A new user added by the admin."""
    session = admin.ok(
        "post",
        "/api/v1/auths/add",
        json={"name": name, "email": _email(name), "password": "pw-123456", "role": role},
    )
    return Caller(admin.client, session["token"], session["id"], session["role"])


def message(
    mid: str,
    parent: str | None,
    role: str,
    content: str,
    children: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": mid,
        "parentId": parent,
        "childrenIds": children or [],
        "role": role,
        "content": content,
        "timestamp": 1730000000,
        **extra,
    }


def document(
    title: str, messages: list[dict[str, Any]], current: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A document as the Open WebUI frontend sends it (tree plus the derived list)."""
    tree = {m["id"]: m for m in messages}
    current = current or (messages[-1]["id"] if messages else None)
    path: list[dict[str, Any]] = []
    walk = current
    while walk is not None:
        path.insert(0, tree[walk])
        walk = tree[walk]["parentId"]
    return {
        "id": "",
        "title": title,
        "models": ["llama3.1:8b"],
        "params": {},
        "history": {"messages": tree, "currentId": current},
        "messages": path,
        "tags": [],
        "files": [],
        "timestamp": 1730000000000,
        **extra,
    }


def exchange(title: str, question: str, answer: str, prefix: str = "") -> dict[str, Any]:
    """A one-turn chat: a user message and its answer."""
    return document(
        title,
        [
            message(f"{prefix}u1", None, "user", question, [f"{prefix}a1"]),
            message(f"{prefix}a1", f"{prefix}u1", "assistant", answer, model="llama3.1:8b"),
        ],
    )


def path_ids(chat: dict[str, Any]) -> list[str]:
    return [m["id"] for m in chat["chat"]["messages"]]
