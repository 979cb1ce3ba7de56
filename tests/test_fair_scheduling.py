"""Fair scheduling through a real daemon: a stand-in Ollama node with a capacity of 1 (the
`capacity` connection option), users on their own tokens, streaming requests over TCP.

Checked: the order the node serves requests in (another user's single request goes before the
rest of one user's batch), the queue-position comments a waiting stream gets, a request that
hangs up while waiting never reaching the node, the per-user waiting limit (429 + Retry-After),
API-key traffic going after interactive requests, and seeing and stopping generations
(`webui ps`, `webui stop`, `/api/tasks`).
"""

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc, start_daemon
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import add_user, assert_no_traceback, signup, tcp
from tests.test_cli_support import cli_env, one_error_line, webui

MODEL = "standin:latest"
TOKENS, TOKEN_DELAY = 6, 0.1  # each answer holds the node ~0.6 s


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], tokens=TOKENS, token_delay=TOKEN_DELAY)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, standin: StandIn) -> Iterator[DaemonProc]:
    env = provider_env(
        ollama=[standin],
        ENABLE_TITLE_GENERATION="false",
        BYPASS_MODEL_ACCESS_CONTROL="true",
        OLLAMA_API_CONFIGS=json.dumps({"0": {"capacity": 1}}),
        WEBUI_USER_MAX_QUEUED="3",
    )
    proc = start_daemon(tmp_path_factory.mktemp("fair"), env=env)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def tokens(daemon: DaemonProc) -> dict[str, str]:
    with tcp(daemon) as c:
        admin = signup(c, "Admin", "admin@fair.test")["token"]
        out = {
            name: add_user(c, admin, name, f"{name}@fair.test", "user")["token"]
            for name in ("alice", "bob")
        }
        out["admin"] = admin
        r = c.post("/api/v1/auths/api_key", headers={"Authorization": f"Bearer {out['alice']}"})
        assert r.status_code == 200, r.text
        out["alice-key"] = r.json()["api_key"]
    return out


@pytest.fixture(autouse=True)
def fresh(standin: StandIn) -> None:
    standin.reset(models=[MODEL], tokens=TOKENS, token_delay=TOKEN_DELAY)


def body(label: str) -> dict[str, Any]:
    return {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": label}]}


async def ask(
    daemon: DaemonProc, token: str, label: str, lines: list[str] | None = None
) -> list[str]:
    """One streaming request; every SSE line it got (comments included)."""
    got = [] if lines is None else lines
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=daemon.base_url, timeout=30) as client,
        client.stream("POST", "/api/chat/completions", json=body(label), headers=headers) as r,
    ):
        assert r.status_code == 200, await r.aread()
        async for line in r.aiter_lines():
            if line:
                got.append(line)
    return got


def served(standin: StandIn) -> list[str]:
    """The labels of the requests that reached the node, in the order it got them."""
    return [c.messages[-1]["content"] for c in standin.chats()]


def places(lines: list[str]) -> list[dict[str, Any]]:
    prefix = ": webui.queue "
    return [json.loads(line[len(prefix) :]) for line in lines if line.startswith(prefix)]


async def settle(seconds: float = 0.15) -> None:
    await asyncio.sleep(seconds)


async def until(check: Any, what: str, timeout: float = 10.0) -> None:
    """Wait (bounded) until `check()` holds: a loaded machine may take a while."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_another_users_request_goes_before_a_batch_and_is_told_its_place(
    daemon: DaemonProc, standin: StandIn, tokens: dict[str, str]
) -> None:
    standin.set(tokens=20)  # 2 s each: nothing ends while the requests are being placed
    alice: list[asyncio.Task[list[str]]] = []
    alice_lines: list[list[str]] = [[], [], []]
    for i in range(3):  # in this order, while a0 holds the node
        alice.append(asyncio.create_task(ask(daemon, tokens["alice"], f"a{i}", alice_lines[i])))
        if i == 0:
            await until(lambda: len(standin.chats()) == 1, "a0 to reach the node")
        else:
            await until(lambda i=i: places(alice_lines[i]), f"a{i} to wait")
    bob_lines: list[str] = []
    bob = asyncio.create_task(ask(daemon, tokens["bob"], "b0", bob_lines))
    answers = await asyncio.gather(*alice, bob)
    # a0 held the node; bob, never served, went before alice's a1 and a2.
    assert served(standin) == ["a0", "b0", "a1", "a2"]
    told = places(bob_lines)
    assert told and told[0]["position"] == 1, bob_lines
    assert told[0]["model"] == MODEL and told[0]["node"] == f"127.0.0.1:{standin.port}"
    # The comments come first, then the answer, which is whole.
    first_data = next(i for i, line in enumerate(bob_lines) if line.startswith("data:"))
    assert all(line.startswith(":") for line in bob_lines[:first_data])
    assert bob_lines[-1] == "data: [DONE]"
    assert places(answers[0]) == []  # a0 never waited
    a2 = places(answers[2])
    # a2: 2nd behind a1, 3rd when bob (never served) arrived, then moving up as answers end.
    assert [p["position"] for p in a2] == [2, 3, 2, 1]
    # After the first answer finished, the estimate follows the node's pace (~2 s each).
    assert any(p["eta_s"] is not None and 0 < p["eta_s"] < 10 for p in a2), a2


async def test_a_request_that_hangs_up_while_waiting_never_reaches_the_node(
    daemon: DaemonProc, standin: StandIn, tokens: dict[str, str]
) -> None:
    standin.set(tokens=30)  # 3 s: the second request waits long enough to hang up in line
    first = asyncio.create_task(ask(daemon, tokens["alice"], "holder"))
    await until(lambda: len(standin.chats()) == 1, "the holder to reach the node")
    leaving_lines: list[str] = []
    leaving = asyncio.create_task(ask(daemon, tokens["bob"], "leaver", leaving_lines))
    await until(lambda: places(leaving_lines), "the second request to be told its place")
    leaving.cancel()  # the client hangs up while in line
    await settle()
    after = asyncio.create_task(ask(daemon, tokens["bob"], "after"))
    await asyncio.gather(first, after)
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert served(standin) == ["holder", "after"]


async def test_too_many_waiting_requests_get_429_with_retry_after(
    daemon: DaemonProc, tokens: dict[str, str]
) -> None:
    held = [asyncio.create_task(ask(daemon, tokens["alice"], f"q{i}")) for i in range(4)]
    await settle()  # one runs, three wait: alice's limit (WEBUI_USER_MAX_QUEUED=3)
    async with httpx.AsyncClient(base_url=daemon.base_url, timeout=30) as client:
        r = await client.post(
            "/api/chat/completions",
            json=body("one too many"),
            headers={"Authorization": f"Bearer {tokens['alice']}"},
        )
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    assert "3 requests waiting" in r.json()["detail"]
    await asyncio.gather(*held)


async def test_api_key_traffic_waits_behind_interactive_requests(
    daemon: DaemonProc, standin: StandIn, tokens: dict[str, str]
) -> None:
    holder = asyncio.create_task(ask(daemon, tokens["bob"], "holder"))
    await settle()
    batch = asyncio.create_task(ask(daemon, tokens["alice-key"], "batch"))
    await settle()
    chat = asyncio.create_task(ask(daemon, tokens["alice"], "chat"))
    await asyncio.gather(holder, batch, chat)
    assert served(standin) == ["holder", "chat", "batch"]
    assert_no_traceback(daemon)


async def test_ps_shows_running_and_waiting_and_stop_takes_one_out(
    daemon: DaemonProc, standin: StandIn, tokens: dict[str, str], tmp_path: Path
) -> None:
    def cli(who: str, *args: str) -> Any:
        env = cli_env(tmp_path, WEBUI_URL=daemon.base_url, WEBUI_TOKEN=tokens[who])
        return webui(*args, env=env)

    standin.set(tokens=300)  # 30 s unless stopped: the holder outlives every CLI call here
    holder_lines: list[str] = []
    holder = asyncio.create_task(ask(daemon, tokens["alice"], "holder", holder_lines))
    await until(lambda: len(standin.chats()) == 1, "the holder to reach the node")
    waiting_lines: list[str] = []
    waiting = asyncio.create_task(ask(daemon, tokens["bob"], "waiting", waiting_lines))
    await until(lambda: places(waiting_lines), "the second request to wait")
    everyone = await asyncio.to_thread(cli, "admin", "ps", "--json")
    assert everyone.returncode == 0, everyone.stderr
    rows = json.loads(everyone.stdout)
    assert [(r["user_name"], r["state"], r["position"]) for r in rows] == [
        ("alice", "running", None),
        ("bob", "queued", 1),
    ]
    assert rows[0]["model"] == MODEL and rows[0]["node"] == f"127.0.0.1:{standin.port}"
    own = json.loads((await asyncio.to_thread(cli, "bob", "ps", "--json")).stdout)
    assert [r["user_name"] for r in own] == ["bob"]
    table = await asyncio.to_thread(cli, "admin", "ps")
    assert "queued #1" in table.stdout and "alice" in table.stdout, table.stdout
    with tcp(daemon) as c:
        listed = c.get("/api/tasks", headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert listed.json() == {"tasks": [rows[0]["id"], rows[1]["id"]]}
        refused = c.get("/api/tasks", headers={"Authorization": f"Bearer {tokens['bob']}"})
        assert refused.status_code == 401
    # Bob may not stop alice's; the admin takes bob's out of the line.
    other = await asyncio.to_thread(cli, "bob", "stop", rows[0]["id"])
    assert other.returncode != 0
    assert "is not a generation you may stop" in one_error_line(other)
    stopped = await asyncio.to_thread(cli, "admin", "stop", rows[1]["id"])
    assert stopped.returncode == 0, stopped.stderr
    assert f"Stopped {rows[1]['id']}." in stopped.stdout
    with pytest.raises(httpx.HTTPError):  # its response ended without [DONE]
        await waiting
    # A running generation is stopped the same way; its node sees the request hang up.
    stopped = await asyncio.to_thread(cli, "admin", "stop", rows[0]["id"])
    assert stopped.returncode == 0, stopped.stderr
    with pytest.raises(httpx.HTTPError):
        await holder
    assert standin.chats()[0].closed_at is not None
    assert served(standin) == ["holder"]  # the stopped request never reached the node
    left = json.loads((await asyncio.to_thread(cli, "admin", "ps", "--json")).stdout)
    assert left == []


async def test_usage_counts_each_users_generations_per_day_and_model(
    daemon: DaemonProc, tokens: dict[str, str], tmp_path: Path
) -> None:
    def cli(who: str, *args: str) -> Any:
        env = cli_env(tmp_path, WEBUI_URL=daemon.base_url, WEBUI_TOKEN=tokens[who])
        return webui(*args, env=env)

    def requests_of(rows: list[dict[str, Any]], name: str) -> int:
        return sum(r["requests"] for r in rows if r["user_name"] == name)

    before = json.loads((await asyncio.to_thread(cli, "admin", "usage", "--json")).stdout)
    await ask(daemon, tokens["alice"], "counted")
    async with httpx.AsyncClient(base_url=daemon.base_url, timeout=30) as client:
        r = await client.post(
            "/api/chat/completions",
            json={**body("counted too"), "stream": False},
            headers={"Authorization": f"Bearer {tokens['alice']}"},
        )
        assert r.status_code == 200, r.text
    after = json.loads((await asyncio.to_thread(cli, "admin", "usage", "--json")).stdout)
    assert requests_of(after, "alice") == requests_of(before, "alice") + 2
    assert requests_of(after, "bob") == requests_of(before, "bob")  # bob did nothing
    [alice_row] = [r for r in after if r["user_name"] == "alice"]
    assert alice_row["model"] == MODEL and alice_row["tokens_out"] > 0
    # A user sees only their own; an admin may ask for one user.
    own = json.loads((await asyncio.to_thread(cli, "bob", "usage", "--json")).stdout)
    assert {r["user_name"] for r in own} <= {"bob"}
    one = await asyncio.to_thread(cli, "admin", "usage", "--user", "alice@fair.test", "--json")
    assert {r["user_name"] for r in json.loads(one.stdout)} == {"alice"}
    table = await asyncio.to_thread(cli, "admin", "usage", "--since", "2w")
    assert "alice" in table.stdout and MODEL in table.stdout
    bad = await asyncio.to_thread(cli, "admin", "usage", "--since", "soon")
    assert bad.returncode == 1 and "--since takes" in one_error_line(bad)
