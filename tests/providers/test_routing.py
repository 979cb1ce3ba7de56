"""Routing across Ollama nodes: least busy first, failover before the first token, probes,
dead or hung nodes that never hold up /api/models, and a node that went down keeping its models
listed so that the error names it."""

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon_proc import start_daemon
from tests.daemons import client_fixture, daemon_fixture
from tests.standins import StandIn, StandIns, closed_port_url, provider_env, standins
from tests.support import assert_no_traceback, bearer, signup, tcp

__all__ = ["standins"]  # fixture used below

MODEL = "standin:latest"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def nodes(standins: StandIns) -> tuple[StandIn, StandIn, StandIn]:
    hung = standins.ollama(models=["hung:latest"], list_delay=30)
    return standins.ollama(), standins.ollama(), hung


def _routing_env(nodes: tuple[StandIn, StandIn, StandIn]) -> dict[str, str]:
    a, b, hung = nodes
    # Node 2 refuses connections; node 3 accepts them but never lists its models.
    return provider_env(ollama=[a, b, closed_port_url(), hung])


daemon = daemon_fixture(env=_routing_env, tmp="routing")


client = client_fixture(timeout=20)


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> dict[str, str]:
    return bearer(signup(client, "Admin", "admin@example.com")["token"])


@pytest.fixture(autouse=True)
def fresh(nodes: tuple[StandIn, StandIn, StandIn]) -> None:
    for node in nodes[:2]:
        node.reset()


def ask(client: httpx.Client, admin: dict[str, str], **extra: Any) -> str:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], **extra}
    r = client.post("/api/chat/completions", headers=admin, json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["choices"][0]["message"]["content"])


def test_dead_and_hung_nodes_do_not_hold_up_the_model_list(
    client: httpx.Client, admin: dict[str, str]
) -> None:
    start = time.monotonic()
    r = client.get("/api/models", headers=admin, params={"refresh": "true"})
    first = time.monotonic() - start
    assert r.status_code == 200
    models = {m["id"]: m for m in r.json()["data"]}
    assert set(models) == {MODEL}  # the hung node's model is missing, not waited for
    assert models[MODEL]["ollama"]["urls"] == [0, 1]
    assert first < 1.6  # WEBUI_MODELS_TIMEOUT=1 in the tests
    # Both bad nodes are now marked down: the next listing does not wait for them at all.
    start = time.monotonic()
    client.get("/api/models", headers=admin, params={"refresh": "true"})
    assert time.monotonic() - start < 0.5


def test_idle_nodes_take_turns(
    client: httpx.Client, admin: dict[str, str], nodes: tuple[StandIn, StandIn, StandIn]
) -> None:
    a, b, _ = nodes
    for _ in range(4):
        ask(client, admin)
    assert (len(a.chats()), len(b.chats())) == (2, 2)


def test_the_least_busy_node_is_chosen(
    client: httpx.Client, admin: dict[str, str], nodes: tuple[StandIn, StandIn, StandIn]
) -> None:
    a, b, _ = nodes
    for node in (a, b):
        node.set(tokens=8, token_delay=0.15)
    long = threading.Thread(target=ask, args=(client, admin))
    long.start()
    busy = a if a.wait_for(lambda: a.chats() or b.chats()) and a.chats() else b
    idle = b if busy is a else a
    for _ in range(3):
        ask(client, admin, max_tokens=1)  # quick answers while the long one runs
    long.join()
    assert (len(busy.chats()), len(idle.chats())) == (1, 3)


def test_failure_before_the_first_token_is_retried_then_the_node_probed(
    client: httpx.Client, admin: dict[str, str], nodes: tuple[StandIn, StandIn, StandIn]
) -> None:
    a, b, _ = nodes
    a.set(fail_status=500)
    b.set(fail_status=500, fail_times=0)  # b answers normally
    results = [ask(client, admin) for _ in range(3)]
    assert results == ["Hello from the stand-in."] * 3
    assert len(a.chats()) <= 1 and len(b.chats()) == 3  # a failed once, then was skipped
    failed_at = time.monotonic()
    a.set(fail_status=None)  # a recovers; the daemon's probe (after ~0.3 s) notices
    a.wait_for(
        lambda: [r for r in a.requests if r.path == "/api/tags" and r.received_at > failed_at]
    )
    deadline = time.monotonic() + 3
    while not a.chats() or a.chats()[-1].finished_at is None:
        assert time.monotonic() < deadline, "the recovered node got no request"
        ask(client, admin)


def test_a_connection_cut_before_any_token_is_retried(
    client: httpx.Client, admin: dict[str, str], nodes: tuple[StandIn, StandIn, StandIn]
) -> None:
    a, b, _ = nodes
    a.set(cut_after=0)
    b.set(cut_after=0)
    for node in (a, b):  # whichever goes first fails; the other answers
        node.set(fail_times=0)
    b.set(cut_after=None)
    a_first = [ask(client, admin) for _ in range(2)]
    assert a_first == ["Hello from the stand-in."] * 2
    assert all(r.finished_at for r in b.chats())


def test_every_node_failing_passes_the_error_through(
    client: httpx.Client, admin: dict[str, str], nodes: tuple[StandIn, StandIn, StandIn]
) -> None:
    a, b, _ = nodes
    for node in (a, b):
        node.set(fail_status=503, fail_body={"error": "overloaded"})
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    r = client.post("/api/chat/completions", headers=admin, json=body)
    assert (r.status_code, r.json()) == (503, {"detail": "Ollama: overloaded"})
    assert len(a.chats()) == 1 and len(b.chats()) == 1  # each node tried once


def serve_ollama(port: int = 0) -> tuple[subprocess.Popen[str], str]:
    """A stand-in in its own process, so that killing it takes its connections down too."""
    cmd = [sys.executable, "-m", "tests.standins", "ollama", "--model", "gone:latest"]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_a_node_that_went_down_keeps_its_models_and_is_named(tmp_path: Path) -> None:
    node, url = serve_ollama()
    proc = start_daemon(tmp_path, env=provider_env(ollama=[url]))
    try:
        with tcp(proc) as client:
            admin = bearer(signup(client, "Admin", "admin@example.com")["token"])

            def listed() -> dict[str, Any]:
                r = client.get("/api/models", headers=admin, params={"refresh": "true"})
                return {m["id"]: m for m in r.json()["data"]}

            assert "unavailable" not in listed()["gone:latest"]
            node.kill()
            node.wait(5)
            # Still listed (from the node's last list), marked: not "Model not found".
            assert listed()["gone:latest"]["unavailable"] is True
            down = f"Server Connection Error: the provider at {url} is not answering."
            for stream in (False, True):
                body = {"model": "gone:latest", "messages": [{"role": "user", "content": "hi"}]}
                r = client.post(
                    "/api/chat/completions", headers=admin, json=body | {"stream": stream}
                )
                assert (r.status_code, r.json()) == (500, {"detail": down})
            # Back on the same address: its probe notices, and it answers again.
            node, _ = serve_ollama(int(url.rsplit(":", 1)[1]))
            deadline = time.monotonic() + 10
            while "unavailable" in listed()["gone:latest"]:
                assert time.monotonic() < deadline, "the node was not noticed back"
                time.sleep(0.1)
            body = {"model": "gone:latest", "messages": [{"role": "user", "content": "hi"}]}
            r = client.post("/api/chat/completions", headers=admin, json=body)
            assert r.status_code == 200, r.text
        assert_no_traceback(proc)
    finally:
        node.kill()
        node.wait(5)
        proc.stop()
