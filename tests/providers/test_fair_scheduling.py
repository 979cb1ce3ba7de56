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
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli_support import cli_env, one_error_line, webui
from tests.daemon_proc import DaemonProc, start_daemon
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import add_user, assert_no_traceback, signup, tcp
from tests.tui_support import make_app
from tests.tui_support import until as pilot_until
from webui_tui.app.widgets.message_view import MessageView

MODEL = "standin:latest"
STANDIN = [sys.executable, "-m", "tests.standins", "ollama"]
TOKENS, TOKEN_DELAY = 6, 0.1  # each answer holds the node ~0.6 s


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], tokens=TOKENS, token_delay=TOKEN_DELAY)
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: provider_env(
        ollama=[standin],
        ENABLE_TITLE_GENERATION="false",
        BYPASS_MODEL_ACCESS_CONTROL="true",
        OLLAMA_API_CONFIGS=json.dumps({"0": {"capacity": 1}}),
        WEBUI_USER_MAX_QUEUED="3",
    ),
    tmp="fair",
)


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


async def test_requests_waiting_for_a_node_that_dies_move_to_another_node(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # The first node in its own process, so that killing it takes its connections down too.
    first = subprocess.Popen(
        [*STANDIN, "--model", MODEL, "--tokens", "30", "--token-delay", "0.1"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert first.stdout is not None
    first_url = first.stdout.readline().strip()
    second = start_ollama(models=[MODEL], tokens=30, token_delay=0.1)  # 3 s answers
    env = provider_env(
        ollama=[first_url, second],
        ENABLE_TITLE_GENERATION="false",
        BYPASS_MODEL_ACCESS_CONTROL="true",
        OLLAMA_API_CONFIGS=json.dumps({"0": {"capacity": 1}, "1": {"capacity": 1}}),
    )
    proc = start_daemon(tmp_path_factory.mktemp("fair-failover"), env=env)
    try:
        with tcp(proc) as c:
            token = signup(c, "Admin", "admin@failover.test")["token"]
        r1: list[str] = []
        on_first = asyncio.create_task(ask_lenient(proc, token, "r1", r1))
        await until(lambda: any("tok" in x for x in r1), "r1 answered by the first node")
        on_second = asyncio.create_task(ask(proc, token, "r2"))
        await until(lambda: len(second.chats()) == 1, "r2 on the second node")
        lines: list[list[str]] = [[], []]
        waiting = [asyncio.create_task(ask(proc, token, f"w{i}", lines[i])) for i in range(2)]
        await until(lambda: all(places(x) for x in lines), "both to wait")
        assert {places(x)[-1]["node"] for x in lines} == {first_url.removeprefix("http://")}
        first.kill()  # the node the two wait for goes away, with r1 on it
        answers = await asyncio.gather(*waiting)
        await asyncio.gather(on_first, on_second)
        for got in answers:  # both were answered in full, by the second node
            assert got[-1] == "data: [DONE]"
            text = "".join(
                json.loads(x[6:])["choices"][0]["delta"].get("content") or ""
                for x in got
                if x.startswith("data: {") and '"choices"' in x
            )
            assert text.count("tok") == 30
        assert sorted(c.messages[-1]["content"] for c in second.chats()) == ["r2", "w0", "w1"]
    finally:
        proc.stop()
        first.kill()
        first.wait(5)
        second.stop()


async def ask_lenient(daemon: DaemonProc, token: str, label: str, lines: list[str]) -> list[str]:
    """A request whose node may die under it: whatever it got, errors included."""
    try:
        return await ask(daemon, token, label, lines)
    except (httpx.HTTPError, AssertionError):
        return lines


async def test_the_tui_shows_its_place_in_line_where_the_answer_will_be(
    daemon: DaemonProc, standin: StandIn, tokens: dict[str, str], tmp_path: Path
) -> None:
    standin.set(tokens=20)  # 2 s: the TUI's question waits behind alice's
    holder = asyncio.create_task(ask(daemon, tokens["alice"], "holder"))
    await until(lambda: len(standin.chats()) == 1, "the holder to reach the node")
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot_until(pilot, lambda: getattr(app.screen, "model", None), what="a model")
        await pilot.press(*"hi", "enter")

        def waiting() -> str:
            views = list(app.screen.query(MessageView))
            return views[-1].waiting if views and views[-1].info.role == "assistant" else ""

        shown = await pilot_until(pilot, waiting, what="the place in line")
        # (with "(≈ N s)" once the node has finished an answer to judge its pace by)
        assert shown.startswith(f"waiting: 1st in line for {MODEL} on 127.0.0.1:{standin.port}")
        await pilot_until(
            pilot,
            lambda: (
                not app.screen.streaming and "tok" in app.screen.query(MessageView)[-1].info.content
            ),
            timeout=20,
            what="the answer",
        )
        assert waiting() == ""
    await holder


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
async def test_webui_chat_on_a_terminal_shows_its_place_then_the_answer(
    daemon: DaemonProc, standin: StandIn, tokens: dict[str, str], tmp_path: Path
) -> None:
    standin.set(tokens=30)  # 3 s: the terminal's question waits behind bob's
    holder = asyncio.create_task(ask(daemon, tokens["bob"], "holder"))
    await until(lambda: len(standin.chats()) == 1, "the holder to reach the node")
    env = cli_env(tmp_path, WEBUI_URL=daemon.base_url, WEBUI_TOKEN=tokens["alice"])
    script = tmp_path / "run.sh"
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    script.write_text(
        exports + f"{shlex.quote(sys.executable)} -m webui_tui.cli.main chat --temporary hi\n"
        "echo EXIT=$?\nsleep 60\n"
    )
    tmux = ["tmux", "-L", f"webui-test-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "120", "-y", "20", f"sh {script}"],
        check=True,
        env=env | {"TERM": "xterm-256color"},
    )
    try:

        def screen() -> str:
            return subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True, check=True
            ).stdout

        line = f"waiting: 1st in line for {MODEL} on 127.0.0.1:{standin.port}"
        await until(lambda: line in screen(), "the place in line on the terminal", timeout=20)
        await until(lambda: "EXIT=" in screen(), "the answer", timeout=30)
        final = screen()
        assert "EXIT=0" in final, final
        assert "tok29" in final and "waiting:" not in final  # the line gave way to the answer
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, check=False)
    await holder


async def test_a_stopping_daemon_tells_waiting_requests_at_once(
    tmp_path_factory: pytest.TempPathFactory, standin: StandIn
) -> None:
    standin.set(tokens=100)  # 10 s: far longer than the shutdown may take
    env = provider_env(
        ollama=[standin],
        ENABLE_TITLE_GENERATION="false",
        BYPASS_MODEL_ACCESS_CONTROL="true",
        OLLAMA_API_CONFIGS=json.dumps({"0": {"capacity": 1}}),
    )
    proc = start_daemon(tmp_path_factory.mktemp("fair-stop"), env=env)
    try:
        with tcp(proc) as c:
            token = signup(c, "Admin", "admin@stop.test")["token"]
        holder = asyncio.create_task(ask_lenient(proc, token, "holder", []))
        await until(lambda: len(standin.chats()) == 1, "the holder to reach the node")
        lines: list[str] = []
        waiting = asyncio.create_task(ask_lenient(proc, token, "waiting", lines))
        await until(lambda: places(lines), "the second request to wait")
        stopping = asyncio.create_task(asyncio.to_thread(proc.stop))  # SIGTERM, then the wait
        # Told at once, not after the graceful shutdown's 10 s (the holder keeps it that long).
        await asyncio.wait_for(waiting, timeout=5)
        await stopping
        errors = [json.loads(x[6:]) for x in lines if x.startswith('data: {"error"')]
        assert errors and errors[0]["error"]["message"].startswith("The webui daemon is stopping")
        assert lines[-1] == "data: [DONE]"
        await holder
        assert served(standin) == ["holder"]  # the waiting one never reached the node
        assert_no_traceback(proc)
    finally:
        proc.stop()
