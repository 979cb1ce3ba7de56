"""`webui connections list|add|rm|test` against a real daemon and stand-in providers."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_chat_support import MODEL, api, chat_env, standin_env
from tests.cli_support import PASSWORD, one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, closed_port_url, start_ollama, start_openai


@pytest.fixture(scope="module")
def ollama() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], version="0.7.1")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def openai() -> Iterator[StandIn]:
    s = start_openai(models=["gpt-standin"], api_key="sk-right-key-123")
    yield s
    s.stop()


daemon = daemon_fixture(env=lambda ollama: standin_env(ollama), tmp="connections")


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def _listed(env: dict[str, str]) -> list[dict[str, Any]]:
    result = webui("connections", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


def _models(env: dict[str, str]) -> set[str]:
    result = webui("models", "list", "--json", "--refresh", env=env)
    assert result.returncode == 0, result.stderr
    return {m["id"] for m in json.loads(result.stdout)}


def test_list_shows_the_environment_connection(env: dict[str, str], ollama: StandIn) -> None:
    listed = _listed(env)
    assert {"type": "ollama", "url": ollama.url, "enabled": True} in [
        {k: c[k] for k in ("type", "url", "enabled")} for c in listed
    ]
    plain = webui("connections", "list", env=env)
    assert f"{ollama.url}\tollama\tyes" in plain.stdout


def test_add_test_and_remove_an_openai_connection(
    env: dict[str, str], ollama: StandIn, openai: StandIn
) -> None:
    added = webui("connections", "add", openai.url, "--key", "sk-right-key-123", env=env)
    assert added.returncode == 0, added.stderr
    assert f"Added openai connection {openai.url}" in added.stdout  # guessed from /v1
    assert added.stderr == ""  # it answered
    entry = next(c for c in _listed(env) if c["url"] == openai.url)
    assert entry["type"] == "openai" and entry["enabled"] is True
    assert entry["key"] == "sk-…-123"  # never the key itself
    assert "sk-right-key-123" not in webui("connections", "list", env=env).stdout
    assert "gpt-standin" in _models(env)

    tested = webui("connections", "test", openai.url, env=env)  # with the saved key
    assert tested.returncode == 0, tested.stderr
    assert "ok, 1 model(s)" in tested.stdout
    wrong = webui("connections", "test", openai.url, "--key", "sk-wrong", env=env)
    assert wrong.returncode == 2
    assert "does not answer well" in one_error_line(wrong)

    again = webui("connections", "add", openai.url + "/", env=env)
    assert again.returncode == 2
    assert "already a connection" in one_error_line(again)

    removed = webui("connections", "rm", openai.url, env=env)
    assert removed.returncode == 0, removed.stderr
    assert openai.url not in [c["url"] for c in _listed(env)]
    assert "gpt-standin" not in _models(env)
    assert MODEL in _models(env)  # the other connection is untouched
    gone = webui("connections", "rm", openai.url, env=env)
    assert gone.returncode == 2
    assert "is not a connection" in one_error_line(gone)


def test_ollama_connections_keep_their_settings_aligned(
    env: dict[str, str], ollama: StandIn
) -> None:
    dead = closed_port_url()
    second = start_ollama(models=["second:latest"])
    try:
        warned = webui("connections", "add", dead, "--type", "ollama", "--json", env=env)
        assert warned.returncode == 0, warned.stderr
        body = json.loads(warned.stdout)
        assert body["verified"] is False and "Connection Error" in body["problem"]
        added = webui("connections", "add", second.url, "--key", "ol-key-0000", env=env)
        assert added.returncode == 0, added.stderr
        assert [c["url"] for c in _listed(env) if c["type"] == "ollama"] == [
            ollama.url,
            dead,
            second.url,
        ]
        # Removing the middle URL moves the third one's key (kept by index) down with it.
        assert webui("connections", "rm", dead, env=env).returncode == 0
        ollamas = [c for c in _listed(env) if c["type"] == "ollama"]
        assert [(c["url"], c["key"]) for c in ollamas] == [
            (ollama.url, ""),
            (second.url, "ol-…0000"),
        ]
        assert "second:latest" in _models(env)
        tested = webui("connections", "test", second.url, env=env)
        assert tested.returncode == 0, tested.stderr
        assert "Ollama 0.6.5" in tested.stdout
        assert webui("connections", "rm", second.url, env=env).returncode == 0
    finally:
        second.stop()

    down = webui("connections", "test", dead, env=env)
    assert down.returncode == 2
    assert f"{dead} does not answer well" in one_error_line(down)


def test_connections_need_an_admin(daemon: DaemonProc, env: dict[str, str]) -> None:
    with api(daemon) as c:  # the socket's OS user is an admin
        r = c.post(
            "/api/v1/auths/add",
            json={"name": "Una", "email": "una@example.com", "password": PASSWORD, "role": "user"},
        )
        assert r.status_code == 200, r.text
        user = r.json()["token"]
    refused = webui("connections", "list", env=env | {"WEBUI_TOKEN": user})
    assert refused.returncode == 2
    one_error_line(refused)
