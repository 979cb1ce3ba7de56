"""Many clients doing mixed chat operations at once: the workload of the concurrency test and of
`python -m bench.concurrency`.

Each client is one user with its own connection. Every operation's answer is checked against
what that client itself wrote before (a chat it created must be readable, listed and updatable
at once), so a stale read counts as an error just as a 4xx/5xx does.
"""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class LoadResult:
    operations: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, one per operation


async def _client_run(
    base_url: str, token: str, iterations: int, result: LoadResult, tag: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:

        async def call(method: str, url: str, expect: Any = None, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                r = await client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                result.errors.append(f"{method} {url}: {type(exc).__name__} {exc}")
                return None
            finally:
                result.latencies.append(time.perf_counter() - start)
                result.operations += 1
            if r.status_code != 200:
                result.errors.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
                return None
            body = r.json()
            if expect is not None and not expect(body):
                result.errors.append(f"{method} {url}: unexpected answer {str(body)[:200]}")
            return body

        kept: list[str] = []
        for i in range(iterations):
            title = f"{tag} chat {i}"
            created = await call("POST", "/api/v1/chats/new", json={"chat": {"title": title}})
            if created is None:
                continue
            chat_id = created["id"]
            await call("GET", f"/api/v1/chats/{chat_id}", lambda b, t=title: b["title"] == t)
            renamed = f"{title} renamed"
            await call(
                "POST",
                f"/api/v1/chats/{chat_id}",
                lambda b, t=renamed: b["title"] == t,
                json={"chat": {"title": renamed}},
            )
            await call(
                "GET",
                "/api/v1/chats/",
                lambda b, c=chat_id: any(item["id"] == c for item in b),
            )
            await call("POST", f"/api/v1/chats/{chat_id}/pin", lambda b: b["pinned"] is True)
            if i % 3 == 2:
                await call("DELETE", f"/api/v1/chats/{chat_id}", lambda b: b is True)
                await call(
                    "GET",
                    "/api/v1/chats/",
                    lambda b, c=chat_id: all(item["id"] != c for item in b),
                )
            else:
                kept.append(chat_id)
        await call(
            "GET",
            "/api/v1/chats/all",
            lambda b: {c["id"] for c in b} >= set(kept),
            headers={"Accept": "application/json"},  # 0.6's array, not 0.12's NDJSON
        )


async def run_mixed(base_url: str, tokens: list[str], iterations: int) -> LoadResult:
    """Every token's client runs `iterations` rounds of create/get/update/list/pin(/delete) at
    the same time as all the others."""
    result = LoadResult()
    await asyncio.gather(
        *(
            _client_run(base_url, token, iterations, result, f"c{n}")
            for n, token in enumerate(tokens)
        )
    )
    return result
