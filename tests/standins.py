"""Stand-in model providers: real HTTP servers on 127.0.0.1 speaking Ollama's and OpenAI's wire.

Ollama: GET / /api/version /api/tags /api/ps, POST /api/show /api/chat /api/generate (NDJSON
stream by default, one JSON object with "stream": false) and /v1/chat/completions (OpenAI's
format, as Ollama serves it). OpenAI-compatible: GET /v1/models, POST /v1/chat/completions (SSE
with "stream": true, JSON otherwise). Model administration and embeddings: tests/standin_admin.py.
Every stand-in listens on an ephemeral port; all of them share one event loop in a background
thread.

    from tests.standins import start_ollama, start_openai, provider_env

    ollama = start_ollama(models=["llama3.1:8b"], reply="Hi there.", token_delay=0.01)
    ollama.url                      # OLLAMA_BASE_URL (for OpenAI: OPENAI_API_BASE_URL, .../v1)
    env = provider_env(ollama=[ollama])      # env for tests.daemon_proc.start_daemon
    ollama.set(fail_status=500)     # change behaviour; applies to the next request
    ollama.reset()                  # default behaviour (+ keywords given), forget requests
    ollama.chats()[-1].body         # the JSON body of the last chat/generate request
    ollama.wait_closed()            # the request whose client hung up mid-answer; its
                                    # .closed_at is time.monotonic() when the stand-in saw it
    ollama.connection_of(request)   # which accepted connection carried it (keep-alive checks)
    ollama.end_delay = 0.05         # end the chunked body this long after the last piece
                                    # (like a server that finishes its response a moment
                                    # later); reset() sets it back to 0
    ollama.stop()

Behaviour (keywords of start_*/set/reset, see `Behaviour`): reply text or `tokens=N`, a
`token_delay`, a slow start (`first_token_delay`, `header_delay`), an error status before
streaming (`fail_status`, `fail_body`, `fail_times`; `fail_in_stream` sends it after a 200
head; `engine_error("llama.cpp", "context")` gives the keywords for an engine's own 4xx), a cut
after N tokens (`cut_after`), `thinking`, tool calls (`use_tools`, `tool_calls`,
`tool_arguments`, `tool_rounds`: a tool-calling model; after tool results it answers `reply` with
them), a slow or failing model list (`list_delay`, `list_status`), a required `api_key`,
`parallel` generations at once (Ollama's queue), and `reply_fn(body) -> str` to answer from the
request.

Pytest fixtures (import them into a test module): `ollama_standin`, `openai_standin` (one per
module; call `.reset()` at the start of a test, or in an autouse fixture of your module) and
`standins` (a module-scoped factory: `standins.ollama(**kw)`, `standins.openai(**kw)`,
`standins.reset()`), all stopped at the end of the module.
`python -m tests.standins ollama --tokens 200` serves one in the foreground and prints its URL.
"""

import argparse
import asyncio
import dataclasses
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest

from tests.standin_admin import answer_admin, loaded_models
from tests.standin_wire import ENGINE_ERRORS as ENGINE_ERRORS
from tests.standin_wire import (
    TOKEN,
    Behaviour,
    Form,
    Recorded,
    chunk,
    planned_calls,
    read_request,
    send,
    send_head,
    send_json,
    show,
    tag,
    tool_results,
)
from tests.standin_wire import engine_error as engine_error
from tests.standin_wire import error_message as error_message

Kind = Literal["ollama", "openai"]


class _Loop:
    """One event loop in a daemon thread, shared by every stand-in of the process."""

    loop: asyncio.AbstractEventLoop | None = None
    lock = threading.Lock()

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls.lock:
            if cls.loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="standins", daemon=True).start()
                cls.loop = loop
            return cls.loop


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class StandIn:
    def __init__(self, kind: Kind, **behaviour: Any) -> None:
        self.kind = kind
        self.behaviour = Behaviour(**behaviour)
        self.requests: list[Recorded] = []
        # The requests each accepted connection carried, in order (kept across reset()).
        self.connections: list[list[Recorded]] = []
        self.end_delay = 0.0  # seconds between a stream's last piece and the body's end
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failed = 0
        self._gate: tuple[int, asyncio.Semaphore] | None = None  # `parallel`: size, slots
        # Models pulled, created or copied in, and deleted; and those a request loaded.
        self.added: list[str] = []
        self.removed: set[str] = set()
        self.loaded: set[str] = set()

    # ---- control (from the test's thread) ---------------------------------------------------

    @property
    def url(self) -> str:
        base = f"http://127.0.0.1:{self.port}"
        return base if self.kind == "ollama" else base + "/v1"

    @property
    def models(self) -> list[str]:
        default = ["standin:latest"] if self.kind == "ollama" else ["standin-gpt"]
        listed = list(self.behaviour.models or default) + self.added
        return [m for m in listed if m not in self.removed]

    def add_model(self, name: str) -> None:
        self.removed.discard(name)
        if name not in self.models:
            self.added.append(name)

    def remove_model(self, name: str) -> None:
        self.removed.add(name)
        self.loaded.discard(name)

    def start(self) -> "StandIn":
        self._loop = _Loop.get()
        asyncio.run_coroutine_threadsafe(self.serve(), self._loop).result(5)
        return self

    async def serve(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self._server is not None and self._loop is not None:
            server = self._server

            async def close() -> None:
                server.close()
                if hasattr(server, "close_clients"):
                    server.close_clients()

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
            self._server = None

    def set(self, **changes: Any) -> None:
        self.behaviour = dataclasses.replace(self.behaviour, **changes)
        self._failed = 0

    def reset(self, **behaviour: Any) -> None:
        self.behaviour = Behaviour(**behaviour)
        self.requests.clear()
        self.end_delay = 0.0
        self._failed = 0
        self.added.clear()
        self.removed.clear()
        self.loaded.clear()

    def chats(self) -> list[Recorded]:
        ends = ("/api/chat", "/api/generate", "/chat/completions")
        return [r for r in self.requests if r.path.endswith(ends)]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 3.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.005)
        raise AssertionError(f"stand-in condition not met within {timeout} s")

    def wait_closed(self, timeout: float = 3.0) -> Recorded:
        """The last request whose client closed the connection before the answer ended."""
        return self.wait_for(  # type: ignore[no-any-return]
            lambda: next((r for r in reversed(self.requests) if r.closed_at), None), timeout
        )

    def connection_of(self, request: Recorded) -> int:
        """The number (0, 1, ... in accepting order) of the connection that carried `request`."""
        return next(
            number
            for number, served in enumerate(self.connections)
            if any(r is request for r in served)
        )

    # ---- serving (on the stand-ins' loop) ---------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        prefix = b""
        served: list[Recorded] = []
        self.connections.append(served)
        try:
            while True:
                request = await read_request(reader, prefix)
                if request is None:
                    return
                prefix = await self._answer(*request, reader, writer, served)
                if request[2].get("connection", "").lower() == "close":
                    return  # HTTP/1.1: the client asked for the connection to end here
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def _answer(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        raw: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        served: list[Recorded],
    ) -> bytes:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        rec = Recorded(method, path, headers, body, time.monotonic())
        self.requests.append(rec)
        served.append(rec)
        b = self.behaviour
        if b.api_key and headers.get("authorization") != f"Bearer {b.api_key}":
            await send_json(writer, 401, self._error("Unauthorized: bad API key"))
            return b""
        route = (method, path[3:] if self.kind == "openai" and path.startswith("/v1/") else path)
        if route in (("GET", "/api/tags"), ("GET", "/models"), ("GET", "/api/ps")):
            await asyncio.sleep(b.list_delay)
            if b.list_status:
                await send_json(writer, b.list_status, self._error("model list failed"))
            elif route[1] == "/api/ps":
                await send_json(writer, 200, loaded_models(self))
            else:
                await send_json(writer, 200, self._model_list())
            return b""
        if route == ("GET", "/api/version"):
            await send_json(writer, 200, {"version": b.version})
            return b""
        if route == ("GET", "/") and self.kind == "ollama":
            await send(writer, 200, b"Ollama is running", "text/plain")
            return b""
        if route == ("POST", "/api/show"):
            name = (body or {}).get("model") or (body or {}).get("name")
            if name not in self.models:
                await send_json(writer, 404, {"error": f"model '{name}' not found"})
            else:
                await send_json(writer, 200, show(name))
            return b""
        if route in (
            ("POST", "/api/chat"),
            ("POST", "/api/generate"),
            ("POST", "/chat/completions"),
            ("POST", "/v1/chat/completions"),  # Ollama's OpenAI-compatible API
        ):
            return await self._chat(rec, route[1], body or {}, reader, writer)
        if await answer_admin(self, method, route[1], body or {}, writer):
            return b""
        await send_json(writer, 404, self._error(f"no route {method} {path}"))
        return b""

    def _error(self, message: str) -> Any:
        if self.kind == "ollama":
            return {"error": message}
        return {"error": {"message": message, "type": "invalid_request_error", "code": None}}

    def _model_list(self) -> Any:
        if self.kind == "ollama":
            return {"models": [tag(name) for name in self.models]}
        created = int(time.time())
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": created, "owned_by": "standin"}
                for m in self.models
            ],
        }

    async def _chat(
        self,
        rec: Recorded,
        path: str,
        body: dict[str, Any],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bytes:
        closed = asyncio.Event()
        pushed = bytearray()

        async def watch() -> None:
            try:
                data = await reader.read(1)
            except ConnectionError:
                data = b""
            if data:
                pushed.extend(data)  # the next request came early: keep its first byte
            else:
                rec.closed_at = time.monotonic()
                closed.set()

        async def pause(seconds: float) -> bool:
            """Sleep; True when the client hung up (the watcher has timed that already)."""
            if seconds > 0 and not closed.is_set():
                await asyncio.sleep(seconds)
            return closed.is_set()

        watcher = asyncio.ensure_future(watch())
        try:
            await self._reply(rec, path, body, writer, pause)
        except ConnectionError:
            rec.closed_at = rec.closed_at or time.monotonic()
        finally:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        return bytes(pushed)

    async def _reply(
        self,
        rec: Recorded,
        path: str,
        body: dict[str, Any],
        writer: asyncio.StreamWriter,
        pause: Callable[[float], Any],
    ) -> None:
        b = self.behaviour
        if await pause(b.header_delay):
            return
        model = str(body.get("model", ""))
        if b.fail_status and (b.fail_times is None or self._failed < b.fail_times):
            self._failed += 1
            failure = b.fail_body or self._error("stand-in failure")
            if b.fail_in_stream:
                await self._fail_in_stream(writer, path, failure)
            else:
                await send_json(writer, b.fail_status, failure)
            return
        if model not in self.models:
            message = (
                f'model "{model}" not found, try pulling it first'
                if self.kind == "ollama"
                else f"The model `{model}` does not exist or you do not have access to it."
            )
            await send_json(writer, 404, self._error(message))
            return
        if body.get("keep_alive") == 0 and not body.get("prompt") and not body.get("messages"):
            self.loaded.discard(model)  # Ollama's way of unloading a model
            unload = {"model": model, "response": "", "done": True, "done_reason": "unload"}
            await send_json(writer, 200, unload)
            return
        self.loaded.add(model)
        if b.parallel:
            if self._gate is None or self._gate[0] != b.parallel:
                self._gate = (b.parallel, asyncio.Semaphore(b.parallel))
            async with self._gate[1]:
                await self._generate(rec, path, body, writer, pause, model)
        else:
            await self._generate(rec, path, body, writer, pause, model)

    async def _fail_in_stream(self, writer: asyncio.StreamWriter, path: str, body: Any) -> None:
        """A 200 head, then the error as the stream's only item, then the end."""
        if self.kind == "ollama" and not path.startswith("/v1/"):
            await send_head(writer, 200, "application/x-ndjson")
            writer.write(chunk(json.dumps(body).encode() + b"\n"))
        else:
            await send_head(writer, 200, "text/event-stream")
            writer.write(chunk(b"data: " + json.dumps(body).encode() + b"\n\n"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _generate(
        self,
        rec: Recorded,
        path: str,
        body: dict[str, Any],
        writer: asyncio.StreamWriter,
        pause: Callable[[float], Any],
        model: str,
    ) -> None:
        b = self.behaviour
        # Ollama's /v1 answers in OpenAI's format.
        kind = "openai" if path.startswith("/v1/") else self.kind
        text = b.reply_fn(body) if b.reply_fn else b.reply
        if b.tokens is not None:
            text = "".join(f"tok{i} " for i in range(b.tokens))
        calls = planned_calls(body, b) if path != "/api/generate" else None
        results = tool_results(body)
        if calls:
            text = ""
        elif results and not b.reply_fn:
            text = f"{text} Tool results: {' | '.join(results)}"
        tokens = TOKEN.findall(text)
        limit = body.get("max_tokens") or (body.get("options") or {}).get("num_predict")
        if isinstance(limit, int) and limit > 0:
            tokens = tokens[:limit]  # as a model does: stop at the token budget
        form = Form(kind, path, model, body)
        if not body.get("stream", kind == "ollama"):
            if await pause(b.first_token_delay + b.token_delay * len(tokens)):
                return
            await send_json(writer, 200, form.whole(text, b, calls))
            rec.tokens_sent, rec.finished_at = len(tokens), time.monotonic()
            return
        media = "application/x-ndjson" if kind == "ollama" else "text/event-stream"
        await send_head(writer, 200, media)
        if await pause(b.first_token_delay):
            return
        for index, (piece, is_token) in enumerate(form.pieces(tokens, b, calls)):
            cut = b.cut_after is not None and rec.tokens_sent >= b.cut_after
            if cut and (is_token or b.cut_after == 0):
                writer.close()
                return
            if index and is_token and await pause(b.token_delay):
                return
            writer.write(chunk(piece))
            await writer.drain()
            if is_token:
                rec.tokens_sent += 1
                rec.first_token_at = rec.first_token_at or time.monotonic()
        if self.end_delay and await pause(self.end_delay):
            return
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        rec.finished_at = time.monotonic()


# ---- helpers for tests ----------------------------------------------------------------------


def start_ollama(**behaviour: Any) -> StandIn:
    return StandIn("ollama", **behaviour).start()


def start_openai(**behaviour: Any) -> StandIn:
    return StandIn("openai", **behaviour).start()


def provider_env(
    ollama: list[StandIn | str] | None = None,
    openai: list[StandIn | str] | None = None,
    *,
    openai_keys: list[str] | None = None,
    **extra: str,
) -> dict[str, str]:
    """Environment for a daemon using exactly these providers (URLs or stand-ins), with the
    short timeouts tests want. A kind with no entry is switched off."""
    # Stand-ins answer any number of requests at once (real Ollama: OLLAMA_NUM_PARALLEL), so
    # the fair scheduler holds nothing back unless a test gives a node a `capacity`.
    env = {
        "WEBUI_MODELS_TIMEOUT": "1",
        "WEBUI_NODE_RETRY_AFTER": "0.3",
        "WEBUI_OLLAMA_CAPACITY": "0",
    }
    urls = [s.url if isinstance(s, StandIn) else s for s in ollama or []]
    env["ENABLE_OLLAMA_API"] = "true" if urls else "false"
    env["OLLAMA_BASE_URLS"] = ";".join(urls) if urls else closed_port_url()
    urls = [s.url if isinstance(s, StandIn) else s for s in openai or []]
    env["ENABLE_OPENAI_API"] = "true" if urls else "false"
    env["OPENAI_API_BASE_URLS"] = ";".join(urls)
    env["OPENAI_API_KEYS"] = ";".join(openai_keys or ["sk-standin"] * len(urls))
    env.update(extra)
    return env


class StandIns:
    """A factory that stops every stand-in it started."""

    def __init__(self) -> None:
        self.started: list[StandIn] = []

    def ollama(self, **behaviour: Any) -> StandIn:
        self.started.append(start_ollama(**behaviour))
        return self.started[-1]

    def openai(self, **behaviour: Any) -> StandIn:
        self.started.append(start_openai(**behaviour))
        return self.started[-1]

    def reset(self) -> None:
        for standin in self.started:
            standin.reset(models=standin.behaviour.models)

    def stop(self) -> None:
        for standin in self.started:
            standin.stop()


@pytest.fixture(scope="module")
def standins() -> Iterator[StandIns]:
    factory = StandIns()
    yield factory
    factory.stop()


@pytest.fixture(scope="module")
def ollama_standin() -> Iterator[StandIn]:
    standin = start_ollama()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def openai_standin() -> Iterator[StandIn]:
    standin = start_openai()
    yield standin
    standin.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve one stand-in in the foreground (benchmarks run it in its own process)."""
    parser = argparse.ArgumentParser(prog="python -m tests.standins")
    parser.add_argument("kind", choices=["ollama", "openai"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tokens", type=int, default=None)
    parser.add_argument("--token-delay", type=float, default=0.0)
    parser.add_argument("--model", action="append", default=None)
    parser.add_argument("--tool-rounds", type=int, default=0, help="call tools this many rounds")
    args = parser.parse_args(argv)
    tools = {"use_tools": True, "tool_rounds": args.tool_rounds} if args.tool_rounds else {}
    standin = StandIn(
        args.kind, tokens=args.tokens, token_delay=args.token_delay, models=args.model, **tools
    )

    async def run() -> None:
        await standin.serve(args.port)
        print(standin.url, flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
