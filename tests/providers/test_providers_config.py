"""Provider connections as an admin manages them: read, change, verify, persist; route auth."""

from pathlib import Path

import httpx
import pytest

from tests.daemon_proc import DaemonProc, start_daemon
from tests.daemons import client_fixture, daemon_fixture, sign_up
from tests.standins import StandIn, StandIns, closed_port_url, provider_env, standins
from tests.support import assert_error, bearer, signin, tcp

__all__ = ["standins"]  # fixture used below


@pytest.fixture(scope="module")
def nodes(standins: StandIns) -> dict[str, StandIn]:
    return {
        "ollama": standins.ollama(),
        "ollama2": standins.ollama(models=["second:1b"]),
        "openai": standins.openai(api_key="sk-right", models=["gpt-a", "gpt-b"]),
    }


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("connections")


def _env(nodes: dict[str, StandIn]) -> dict[str, str]:
    env = provider_env(ollama=[nodes["ollama"]], openai=[nodes["openai"]], openai_keys=["sk-right"])
    return {"DEFAULT_USER_ROLE": "user", **env}


# In `data`, which a test starts a second daemon on.
daemon = daemon_fixture(env=_env, tmp=lambda data: data)


client = client_fixture()


@pytest.fixture(scope="module")
def tokens(client: httpx.Client) -> dict[str, str]:
    signed = sign_up(client, "una")
    return {"admin": signed["admin"]["token"], "user": signed["una"]["token"]}


def ids(client: httpx.Client, headers: dict[str, str]) -> set[str]:
    r = client.get("/api/models", headers=headers, params={"refresh": "true"})
    return {m["id"] for m in r.json()["data"]}


def test_every_new_route_needs_the_right_role(client: httpx.Client, tokens: dict[str, str]) -> None:
    user = bearer(tokens["user"])
    verified = [
        ("GET", "/api/models"),
        ("GET", "/api/v1/models"),
        ("GET", "/api/v1/models/list"),
        ("GET", "/api/v1/models/model?id=x"),
        ("POST", "/api/v1/models/create"),
        ("POST", "/api/v1/models/model/update"),
        ("POST", "/api/v1/models/model/toggle?id=x"),
        ("POST", "/api/v1/models/model/delete"),
        ("DELETE", "/api/v1/models/model/delete?id=x"),
        ("POST", "/api/chat/completions"),
        ("POST", "/api/v1/chat/completions"),
        ("GET", "/ollama/api/tags"),
        ("GET", "/ollama/api/version"),
        ("POST", "/ollama/api/chat"),
        ("POST", "/ollama/api/generate"),
        ("POST", "/ollama/api/show"),
        ("GET", "/openai/models"),
        ("POST", "/openai/chat/completions"),
    ]
    admin_only = [
        ("GET", "/api/models/base"),
        ("GET", "/api/v1/models/base"),
        ("GET", "/api/v1/models/all"),
        ("DELETE", "/api/v1/models/delete/all"),
        ("GET", "/ollama/config"),
        ("POST", "/ollama/config/update"),
        ("POST", "/ollama/verify"),
        ("GET", "/ollama/api/tags/0"),
        ("GET", "/openai/config"),
        ("POST", "/openai/config/update"),
        ("POST", "/openai/verify"),
        ("GET", "/openai/models/0"),
    ]
    for method, path in verified + admin_only:
        assert_error(client.request(method, path, json={}), 401)
    for method, path in admin_only:
        assert_error(client.request(method, path, headers=user, json={}), 401)
    # Open WebUI answers GET /ollama/ to anyone; here it needs a user like the other routes.
    assert_error(client.get("/ollama/"), 401)
    assert client.get("/ollama/", headers=user).json() == {"status": True}


def test_config_reads_the_environment(
    client: httpx.Client, tokens: dict[str, str], nodes: dict[str, StandIn]
) -> None:
    admin = bearer(tokens["admin"])
    assert client.get("/ollama/config", headers=admin).json() == {
        "ENABLE_OLLAMA_API": True,
        "OLLAMA_BASE_URLS": [nodes["ollama"].url],
        "OLLAMA_API_CONFIGS": {},
    }
    assert client.get("/openai/config", headers=admin).json() == {
        "ENABLE_OPENAI_API": True,
        "OPENAI_API_BASE_URLS": [nodes["openai"].url],
        "OPENAI_API_KEYS": ["sk-right"],
        "OPENAI_API_CONFIGS": {},
    }
    assert ids(client, admin) == {"standin:latest", "gpt-a", "gpt-b"}
    assert nodes["openai"].requests[-1].headers["authorization"] == "Bearer sk-right"


def test_verify_tests_a_connection(
    client: httpx.Client, tokens: dict[str, str], nodes: dict[str, StandIn]
) -> None:
    admin = bearer(tokens["admin"])
    r = client.post("/ollama/verify", headers=admin, json={"url": nodes["ollama2"].url})
    assert r.json() == {"version": "0.6.5"}
    detail = assert_error(
        client.post("/ollama/verify", headers=admin, json={"url": closed_port_url()}), 500
    )
    assert detail.startswith("Server Connection Error")
    r = client.post(
        "/openai/verify", headers=admin, json={"url": nodes["openai"].url, "key": "sk-right"}
    )
    assert [m["id"] for m in r.json()["data"]] == ["gpt-a", "gpt-b"]
    r = client.post(
        "/openai/verify", headers=admin, json={"url": nodes["openai"].url, "key": "sk-wrong"}
    )
    assert assert_error(r, 500) == "External Error: Unauthorized: bad API key"
    assert_error(client.post("/openai/verify", headers=admin, json={"url": "ftp://x"}), 400)


def test_admin_changes_apply_at_once_and_survive_a_restart(
    daemon: DaemonProc, data: Path, tokens: dict[str, str], nodes: dict[str, StandIn]
) -> None:
    admin = bearer(tokens["admin"])
    ollama_form = {
        "ENABLE_OLLAMA_API": True,
        "OLLAMA_BASE_URLS": [nodes["ollama"].url + "/", nodes["ollama2"].url],
        "OLLAMA_API_CONFIGS": {
            "1": {"prefix_id": "two", "tags": ["remote"]},
            "7": {"enable": True},
        },
    }
    openai_form = {
        "ENABLE_OPENAI_API": True,
        "OPENAI_API_BASE_URLS": [nodes["openai"].url],
        "OPENAI_API_KEYS": ["sk-right", "extra"],
        "OPENAI_API_CONFIGS": {"0": {"model_ids": ["gpt-b"]}},
    }
    with tcp(daemon) as client:
        r = client.post("/ollama/config/update", headers=admin, json=ollama_form)
        assert r.json()["OLLAMA_BASE_URLS"] == [nodes["ollama"].url, nodes["ollama2"].url]
        assert r.json()["OLLAMA_API_CONFIGS"] == {"1": {"prefix_id": "two", "tags": ["remote"]}}
        r = client.post("/openai/config/update", headers=admin, json=openai_form)
        assert r.json()["OPENAI_API_KEYS"] == ["sk-right"]  # one key per URL
        expected = {"standin:latest", "two.second:1b", "gpt-b"}
        assert ids(client, admin) == expected
        models = {m["id"]: m for m in client.get("/api/models", headers=admin).json()["data"]}
        assert models["two.second:1b"]["tags"] == [{"name": "remote"}]
        assert models["two.second:1b"]["ollama"]["urls"] == [1]
        body = {"model": "two.second:1b", "messages": [{"role": "user", "content": "hi"}]}
        r = client.post("/api/chat/completions", headers=admin, json=body)
        assert r.status_code == 200, r.text
        assert nodes["ollama2"].chats()[-1].body["model"] == "second:1b"  # prefix removed
        raw = client.get("/openai/models/0", headers=admin).json()["data"]
        assert [m["id"] for m in raw] == ["gpt-b"]  # configured ids, upstream not asked
    daemon.stop()
    again = start_daemon(data, env=daemon.env, port=daemon.port, socket_path=daemon.socket_path)
    try:
        with tcp(again) as client:
            admin = bearer(signin(client, "admin@example.com")["token"])
            assert client.get("/ollama/config", headers=admin).json()["OLLAMA_API_CONFIGS"] == {
                "1": {"prefix_id": "two", "tags": ["remote"]}
            }
            assert ids(client, admin) == expected
            off = {**ollama_form, "ENABLE_OLLAMA_API": False}
            client.post("/ollama/config/update", headers=admin, json=off)
            assert ids(client, admin) == {"gpt-b"}
            assert_error(client.get("/ollama/api/tags", headers=admin), 503)
            assert client.get("/ollama/api/version", headers=admin).json() == {"version": False}
    finally:
        again.stop()
