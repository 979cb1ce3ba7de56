"""One source of truth for provider settings, visible (issue 13).

The environment seeds the connections; once an admin saved some, the saved ones win (Open
WebUI 0.12's persistent config) and the daemon says so at start; ENABLE_PERSISTENT_CONFIG=false
makes the environment win. `webui status` and `webui connections list` show each connection's
origin, health and model count; a CLI whose own environment names a provider URL the daemon
does not use says so in one line with the fix.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import chat_env
from tests.cli_support import webui
from tests.daemon_proc import DaemonProc, start_daemon
from tests.standins import StandIn, closed_port_url, provider_env, start_ollama

OVERRIDDEN = "from the environment"  # the daemon's start-up line about ignored settings


@pytest.fixture(scope="module")
def first() -> Iterator[StandIn]:
    s = start_ollama(models=["first:latest", "second:latest"])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def other() -> Iterator[StandIn]:
    s = start_ollama(models=["other:latest"])
    yield s
    s.stop()


def _daemon(tmp: Path, *urls: str, **extra: str) -> DaemonProc:
    env = provider_env(ollama=list(urls), ENABLE_TITLE_GENERATION="false", **extra)
    return start_daemon(tmp, env=env, socket_path=tmp / "webui.sock", data_dir=tmp / "data")


def _json(env: dict[str, str], *args: str) -> Any:
    result = webui(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _by_url(conns: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["url"]: c for c in conns}


def test_list_and_status_show_origin_health_and_models(tmp_path: Path, first: StandIn) -> None:
    dead = closed_port_url()
    daemon = _daemon(tmp_path, first.url, dead)
    try:
        env = chat_env(daemon, tmp_path)
        listed = _by_url(_json(env, "connections", "list"))
        assert listed[first.url]["origin"] == "env"
        assert listed[first.url]["health"] == "up"
        assert listed[first.url]["models"] == 2
        assert listed[dead]["health"] == "down"
        assert listed[dead]["reason"]
        status = _json(env, "status")
        conns = _by_url(status["connections"])
        assert conns[first.url]["origin"] == "env"
        assert conns[first.url]["models"] == 2
        assert conns[dead]["health"] == "down"
        human = webui("status", env=env)
        assert human.returncode == 0, human.stderr
        assert f"{first.url}  (env; up, 2 models)" in human.stdout
        assert f"{dead}  (env; down: " in human.stdout
        table = webui("connections", "list", env=env)
        assert "env\tup, 2 models" in table.stdout
    finally:
        daemon.stop()


def test_saved_connections_win_and_the_daemon_and_cli_say_so(
    tmp_path: Path, first: StandIn, other: StandIn
) -> None:
    daemon = _daemon(tmp_path, first.url)
    env = chat_env(daemon, tmp_path)
    try:
        added = webui("connections", "add", other.url, env=env)
        assert added.returncode == 0, added.stderr
        removed = webui("connections", "rm", other.url, env=env)
        assert removed.returncode == 0, removed.stderr
    finally:
        daemon.stop()
    assert OVERRIDDEN not in daemon.log()
    # Started again with another URL in its environment: the saved list (first) wins.
    daemon = _daemon(tmp_path, other.url)
    try:
        lines = [line for line in daemon.log().splitlines() if OVERRIDDEN in line]
        assert len(lines) == 1, daemon.log()
        assert other.url in lines[0] and "OLLAMA_BASE_URL(S)" in lines[0]
        assert "ENABLE_PERSISTENT_CONFIG=false" in lines[0]
        status = _json(env, "status")
        assert [(c["url"], c["origin"]) for c in status["connections"]] == [(first.url, "stored")]
        assert status["env_overridden"] == {"OLLAMA_BASE_URL(S)": other.url}
        # A CLI whose environment names the ignored URL says so, once, with the fix.
        asking = env | {"OLLAMA_BASE_URL": other.url}
        result = webui("chat", "--temporary", "-m", "first:latest", "hi", env=asking)
        assert result.returncode == 0, result.stderr
        warned = result.stderr.strip().splitlines()
        assert len(warned) == 1, result.stderr
        assert warned[0].startswith(f"webui: OLLAMA_BASE_URL names {other.url}")
        assert f"`webui connections add {other.url}`" in warned[0]
        listed = webui("connections", "list", env=asking)
        assert f"OLLAMA_BASE_URL names {other.url}" in listed.stderr
        # Nothing is said when the environment names a URL the daemon uses.
        same = webui("status", env=env | {"OLLAMA_BASE_URL": first.url + "/"})
        assert same.stderr == "", same.stderr
    finally:
        daemon.stop()
    # ENABLE_PERSISTENT_CONFIG=false: the environment wins, nothing stored is read.
    daemon = _daemon(tmp_path, other.url, ENABLE_PERSISTENT_CONFIG="false")
    try:
        assert OVERRIDDEN not in daemon.log()
        listed = _json(env, "connections", "list")
        assert [(c["url"], c["origin"]) for c in listed] == [(other.url, "env")]
    finally:
        daemon.stop()


def test_a_daemon_started_with_another_environment_is_named(
    tmp_path: Path, first: StandIn, other: StandIn
) -> None:
    daemon = _daemon(tmp_path, first.url)
    try:
        env = chat_env(daemon, tmp_path) | {"OLLAMA_BASE_URLS": f"{first.url};{other.url}"}
        result = webui("status", env=env)
        assert result.returncode == 0, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert f"OLLAMA_BASE_URLS names {other.url}, which the running daemon" in lines[0]
        assert "`webui daemon restart`" in lines[0]
        assert first.url + "," not in lines[0]
    finally:
        daemon.stop()
