"""`/api/embeddings` for Ollama and OpenAI models, and the `/openai/{path}` passthrough, through
real daemons with the official `openai` client."""

import base64
import struct
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.daemon_proc import DaemonProc, start_daemon
from tests.standin_admin import vector
from tests.standins import StandIn, ollama_standin, openai_standin, provider_env
from tests.support import add_user, assert_no_traceback, bearer, signup, tcp

__all__ = ["ollama_standin", "openai_standin"]  # fixtures used below

OLLAMA_MODEL, OPENAI_MODEL = "standin:latest", "standin-gpt"


def _start(
    tmp: pytest.TempPathFactory, name: str, env: dict[str, str]
) -> Iterator[tuple[DaemonProc, httpx.Client, dict[str, str], dict[str, str]]]:
    """A daemon, a client, and the headers of its admin and of a plain user."""
    proc = start_daemon(tmp.mktemp(name), env={"DEFAULT_USER_ROLE": "user", **env})
    with tcp(proc, timeout=20) as client:
        admin_token = signup(client, "Admin", "admin@example.com")["token"]
        user = add_user(client, admin_token, "Una", "una@example.com", "user")
        yield proc, client, bearer(admin_token), bearer(user["token"])
    proc.stop()


@pytest.fixture(scope="module")
def plain(
    tmp_path_factory: pytest.TempPathFactory, ollama_standin: StandIn, openai_standin: StandIn
) -> Iterator[tuple[DaemonProc, httpx.Client, dict[str, str], dict[str, str]]]:
    env = provider_env(ollama=[ollama_standin], openai=[openai_standin])
    yield from _start(tmp_path_factory, "embeddings", env)


@pytest.fixture(scope="module")
def passthrough(
    tmp_path_factory: pytest.TempPathFactory, ollama_standin: StandIn, openai_standin: StandIn
) -> Iterator[tuple[DaemonProc, httpx.Client, dict[str, str], dict[str, str]]]:
    env = provider_env(ollama=[ollama_standin], openai=[openai_standin])
    yield from _start(
        tmp_path_factory, "passthrough", {**env, "ENABLE_OPENAI_API_PASSTHROUGH": "true"}
    )


@pytest.fixture(autouse=True)
def fresh(ollama_standin: StandIn, openai_standin: StandIn) -> None:
    ollama_standin.reset()
    openai_standin.reset()


def api_key(client: httpx.Client, headers: dict[str, str]) -> str:
    r = client.post("/api/v1/auths/api_key", headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["api_key"])


def grant(client: httpx.Client, admin: dict[str, str], model: str) -> None:
    """A public model record: every user may use `model` from now on."""
    record = {"id": model, "name": model, "meta": {}, "params": {}, "access_control": None}
    r = client.post("/api/v1/models/create", headers=admin, json=record)
    assert r.status_code == 200, r.text


# ---- /api/embeddings --------------------------------------------------------------------------


@pytest.mark.parametrize("model", [OLLAMA_MODEL, OPENAI_MODEL])
def test_openai_client_embeds_with_either_provider(
    plain: tuple[DaemonProc, httpx.Client, dict[str, str], dict[str, str]], model: str
) -> None:
    daemon, client, admin, _ = plain
    oa = openai.OpenAI(base_url=f"{daemon.base_url}/api", api_key=api_key(client, admin))
    # The client asks for base64 unless told otherwise, and decodes it: float32 precision.
    answer = oa.embeddings.create(model=model, input=["first text", "second text"])
    assert [d.index for d in answer.data] == [0, 1]
    for got, text in zip(answer.data, ["first text", "second text"], strict=True):
        assert got.embedding == pytest.approx(vector(text), rel=1e-6)
    assert answer.model == model and answer.usage.prompt_tokens == 4
    floats = oa.embeddings.create(model=model, input="first text", encoding_format="float")
    assert floats.data[0].embedding == vector("first text")
    # On the wire, base64 when asked: little-endian float32.
    body = {"model": model, "input": "first text", "encoding_format": "base64"}
    r = client.post("/api/embeddings", headers=admin, json=body)
    encoded = r.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    decoded = struct.unpack("<8f", base64.b64decode(encoded))
    assert list(decoded) == pytest.approx(vector("first text"), rel=1e-6)


def test_embeddings_check_the_model_and_the_input(
    plain: tuple[DaemonProc, httpx.Client, dict[str, str], dict[str, str]],
    ollama_standin: StandIn,
) -> None:
    _, client, admin, user = plain
    body = {"model": OLLAMA_MODEL, "input": "text"}
    r = client.post("/api/v1/embeddings", headers=user, json=body)
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})
    r = client.post("/api/embeddings", headers=admin, json={**body, "model": "no-such"})
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})
    r = client.post("/api/embeddings", headers=admin, json={**body, "input": []})
    assert r.status_code == 400 and "input" in r.json()["detail"]
    assert not [r for r in ollama_standin.requests if r.path == "/api/embed"]
    # Granted, the user may embed with it.
    grant(client, admin, OLLAMA_MODEL)
    r = client.post("/api/embeddings", headers=user, json=body)
    assert r.status_code == 200 and r.json()["data"][0]["embedding"] == vector("text")


# ---- /openai/{path} ---------------------------------------------------------------------------


def test_passthrough_is_off_by_default(
    plain: tuple[DaemonProc, httpx.Client, dict[str, str], dict[str, str]],
    openai_standin: StandIn,
) -> None:
    _, client, admin, _ = plain
    r = client.post("/openai/embeddings", headers=admin, json={"model": OPENAI_MODEL, "input": "x"})
    assert r.status_code == 403 and "ENABLE_OPENAI_API_PASSTHROUGH" in r.json()["detail"]
    assert not [r for r in openai_standin.requests if r.path.endswith("/embeddings")]


def test_passthrough_routes_by_model_and_keeps_the_rest_for_admins(
    passthrough: tuple[DaemonProc, httpx.Client, dict[str, str], dict[str, str]],
    openai_standin: StandIn,
) -> None:
    daemon, client, admin, user = passthrough
    oa = openai.OpenAI(base_url=f"{daemon.base_url}/openai", api_key=api_key(client, admin))
    answer = oa.embeddings.create(model=OPENAI_MODEL, input="through", encoding_format="float")
    assert answer.data[0].embedding == vector("through")
    sent = openai_standin.requests[-1]
    assert (sent.path, sent.body["model"]) == ("/v1/embeddings", OPENAI_MODEL)
    # The upstream's own error passes through with its status.
    r = client.get("/openai/no/such/route", headers=admin)
    assert r.status_code == 404 and "no route" in r.json()["error"]["message"]
    r = client.get("/openai/models/%2E%2E/%2E%2E/admin", headers=admin)
    assert (r.status_code, r.json()) == (400, {"detail": "Not an OpenAI route."})
    # A user: only models they may use; nothing that names no model (shared by every user).
    body = {"model": OPENAI_MODEL, "input": "x"}
    r = client.post("/openai/embeddings", headers=user, json=body)
    assert (r.status_code, r.json()) == (404, {"detail": "Model not found"})
    r = client.get("/openai/files", headers=user)
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    # Naming a model does not open what the key holds for everyone (files, batches, ...).
    r = client.request("GET", "/openai/files", headers=user, json=body)
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    r = client.post("/openai/batches", headers=user, json=body)
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert not [r for r in openai_standin.requests if r.path.endswith(("/files", "/batches"))]
    grant(client, admin, OPENAI_MODEL)
    r = client.post("/openai/embeddings", headers=user, json=body)
    assert r.status_code == 200 and r.json()["data"][0]["embedding"] == vector("x")


def test_daemon_logs_have_no_traceback(
    plain: tuple[DaemonProc, httpx.Client, dict[str, str], dict[str, str]],
    passthrough: tuple[DaemonProc, httpx.Client, dict[str, str], dict[str, str]],
) -> None:
    assert_no_traceback(plain[0])
    assert_no_traceback(passthrough[0])
