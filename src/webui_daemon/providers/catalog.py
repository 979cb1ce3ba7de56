"""Catalog: the provider models, listed from every node at once, merged and cached briefly.

Each refresh asks every healthy node concurrently with a short timeout (a dead node costs at
most that timeout once, then it is down and skipped until its probe succeeds), merges Ollama
lists by model name (`urls` = the node indices serving it) and OpenAI lists by id, and builds
Open WebUI's model objects (spec 4.1). Completions may use a stale snapshot while a refresh
runs in the background, so a token never waits for a model listing.

A node that does not answer keeps the models it listed last: they stay in the list, marked
`"unavailable": true` when no node that answered serves them, so a request for one reaches
the node and its error names it (instead of a "Model not found" for a model that exists).
"""

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webui_daemon.providers.base import Connection, Kind, Provider, ProviderError
from webui_daemon.providers.router import NodePool

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Route:
    """One node serving a model, and the model's name on that node (prefix removed)."""

    conn: Connection
    upstream: str


@dataclass(slots=True)
class ProviderModel:
    id: str
    kind: Kind
    name: str
    wire: dict[str, Any]  # Open WebUI's model object for /api/models (without info/preset)
    routes: list[Route] = field(default_factory=list)


@dataclass(slots=True)
class Snapshot:
    models: dict[str, ProviderModel]
    ollama: list[dict[str, Any]]  # merged /api/tags entries, each with `urls`
    openai: list[dict[str, Any]]  # merged /openai/models entries, each with `urlIdx`
    fetched_at: float = 0.0

    def find(self, model_id: str) -> ProviderModel | None:
        model = self.models.get(model_id)
        if model is None and ":" not in model_id:
            # Ollama answers to "llama3" for "llama3:latest"; so does Open WebUI.
            candidate = self.models.get(f"{model_id}:latest")
            if candidate is not None and candidate.kind == "ollama":
                return candidate
        return model


EMPTY = Snapshot(models={}, ollama=[], openai=[])


def merge(
    ollama: list[tuple[Connection, list[dict[str, Any]]]],
    openai: list[tuple[Connection, list[dict[str, Any]]]],
    stale: frozenset[str] = frozenset(),
) -> Snapshot:
    """One snapshot of every node's list; `stale`: the nodes whose lists are their last known
    ones (they did not answer this time)."""
    models: dict[str, ProviderModel] = {}
    openai_out: list[dict[str, Any]] = []
    for conn, listed in openai:
        for raw in listed:
            model_id = str(raw["id"])
            route = Route(conn, conn.unprefixed(model_id))
            existing = models.get(model_id)
            if existing is not None:  # the first connection owns it; others share the load
                existing.routes.append(route)
                continue
            wire = {
                **raw,
                "name": raw.get("name") or model_id,
                "owned_by": "openai",
                "openai": raw,
                "connection_type": raw.get("connection_type", "external"),
                "provider": conn.provider or str(raw.get("provider") or ""),
                "urlIdx": conn.idx,
                "tags": list(raw.get("tags") or []),
            }
            wire.setdefault("object", "model")
            wire.setdefault("created", 0)
            openai_out.append(wire)
            models[model_id] = ProviderModel(model_id, "openai", wire["name"], wire, [route])
    merged: dict[str, dict[str, Any]] = {}
    routes: dict[str, list[Route]] = {}
    for conn, listed in ollama:
        for raw in listed:
            name = str(raw.get("model") or raw.get("name"))
            if name in merged:
                merged[name]["urls"].append(conn.idx)
            else:
                merged[name] = {**raw, "urls": [conn.idx]}
            routes.setdefault(name, []).append(Route(conn, conn.unprefixed(name)))
    for name, raw in merged.items():
        wire = {
            "id": name,
            "name": raw.get("name") or name,
            "object": "model",
            "created": 0,
            "owned_by": "ollama",
            "ollama": raw,
            "connection_type": raw.get("connection_type", "local"),
            "tags": list(raw.get("tags") or []),
            "loaded": "expires_at" in raw,
        }
        # Duplicate ids collapse and the last one wins: Ollama over OpenAI (spec 4.1).
        models[name] = ProviderModel(name, "ollama", wire["name"], wire, routes[name])
    if stale:
        for model in models.values():
            if all(route.conn.node in stale for route in model.routes):
                model.wire["unavailable"] = True
    return Snapshot(models, list(merged.values()), openai_out, time.monotonic())


class Catalog:
    def __init__(self, providers: Mapping[Kind, Provider], pool: NodePool, *, ttl: float) -> None:
        self._providers = providers
        self._pool = pool
        self._ttl = ttl
        self._connections: list[Connection] = []
        self._snapshot: Snapshot | None = None
        self._refresh: asyncio.Task[Snapshot] | None = None
        self._generation = 0
        self._list_failed: set[str] = set()
        # Each node's last list, and the connection settings it was listed with.
        self._last: dict[str, tuple[Connection, list[dict[str, Any]]]] = {}

    @property
    def connections(self) -> list[Connection]:
        return self._connections

    def configure(self, connections: list[Connection], probe_timeout: float) -> None:
        """New connection settings: forget cached lists and register each node's probe."""
        self._connections = connections
        self._generation += 1
        self._snapshot = None
        self._refresh = None  # a listing of the old settings still running is not reused
        for conn in connections:
            provider = self._providers[conn.kind]

            async def probe(provider: Provider = provider, conn: Connection = conn) -> bool:
                return await provider.probe(conn, probe_timeout)

            self._pool.register(conn.node, probe)
        self._pool.forget_others({c.node for c in connections})
        self._last = {n: last for n, last in self._last.items() if last[0] in connections}

    def listed_count(self, node: str) -> int | None:
        """How many models `node` listed the last time it answered (None: it never did)."""
        last = self._last.get(node)
        return None if last is None else len(last[1])

    def down_reason(self, node: str) -> str | None:
        return self._pool.down_reason(node)

    def invalidate(self) -> None:
        self._snapshot = None

    async def snapshot(self, *, refresh: bool = False, allow_stale: bool = False) -> Snapshot:
        """The merged lists: cached for `ttl` seconds; `allow_stale` answers at once from an
        older list (refreshing it in the background) when there is one."""
        current = self._snapshot
        if current is not None and not refresh:
            fresh = time.monotonic() - current.fetched_at < self._ttl
            if fresh:
                return current
            if allow_stale:
                self._start_refresh()
                return current
        return await asyncio.shield(self._start_refresh())

    def _start_refresh(self) -> "asyncio.Task[Snapshot]":
        """The refresh in flight, or a new one: concurrent callers share one listing."""
        task = self._refresh
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._fetch(self._generation))
            self._refresh = task
        return task

    async def _fetch(self, generation: int) -> Snapshot:
        # Skip nodes whose listing failed and whose probe has not succeeded since; a node that
        # is down for failing a chat still lists its models (it is then tried last).
        configured = list(self._connections)
        connections = [
            c
            for c in configured
            if not (c.node in self._list_failed and self._pool.is_down(c.node))
        ]
        results = await asyncio.gather(
            *(self._providers[c.kind].list_models(c) for c in connections),
            return_exceptions=True,
        )
        answered: dict[str, list[dict[str, Any]]] = {}
        for conn, result in zip(connections, results, strict=True):
            if isinstance(result, ProviderError):
                self._list_failed.add(conn.node)
                self._pool.failed(conn.node, str(result))
            elif isinstance(result, BaseException):
                log.error("listing models of %s failed", conn.node, exc_info=result)
            else:
                # A fine listing says little about chats: only the probe brings a node back.
                self._list_failed.discard(conn.node)
                answered[conn.node] = result
        listed: dict[Kind, list[tuple[Connection, list[dict[str, Any]]]]] = {
            "ollama": [],
            "openai": [],
        }
        stale: set[str] = set()
        for conn in configured:  # in the configured order: the first connection owns an id
            models = answered.get(conn.node)
            if models is not None:
                if generation == self._generation:
                    self._last[conn.node] = (conn, models)
            else:
                last = self._last.get(conn.node)
                if last is None or last[0] != conn:
                    continue
                models = last[1]
                stale.add(conn.node)
            listed[conn.kind].append((conn, models))
        snapshot = merge(listed["ollama"], listed["openai"], frozenset(stale))
        if generation == self._generation:
            self._snapshot = snapshot
        return snapshot

    async def aclose(self) -> None:
        if self._refresh is not None and not self._refresh.done():
            self._refresh.cancel()
            await asyncio.gather(self._refresh, return_exceptions=True)
