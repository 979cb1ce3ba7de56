"""/ollama's model administration, embeddings and OpenAI-compatible routes through a real daemon
in front of two stand-in Ollama nodes, driven by the official `ollama` and `openai` clients."""

import httpx
import ollama
import openai
import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import client_fixture, daemon_fixture
from tests.standin_admin import vector
from tests.standins import StandIn, StandIns, closed_port_url, provider_env, standins
from tests.support import add_user, assert_no_traceback, bearer, signup

__all__ = ["standins"]  # fixture used below

MODEL = "standin:latest"
REPLY = "Hello from the stand-in."


@pytest.fixture(scope="module")
def nodes(standins: StandIns) -> list[StandIn]:
    return [standins.ollama(), standins.ollama()]


def _admin_env(nodes: list[StandIn]) -> dict[str, str]:
    # MODELS_CACHE_TTL is long on purpose: only the daemon's own invalidation can show a pulled
    # or deleted model in time.
    # Node 2: nothing listens there.
    urls = [*nodes, closed_port_url()]
    return {"DEFAULT_USER_ROLE": "user", "MODELS_CACHE_TTL": "300", **provider_env(ollama=urls)}


daemon = daemon_fixture(env=_admin_env, tmp="ollama-admin")


client = client_fixture(timeout=20)


@pytest.fixture(scope="module")
def admin(client: httpx.Client) -> dict[str, str]:
    return bearer(signup(client, "Admin", "admin@example.com")["token"])


@pytest.fixture(scope="module")
def user(client: httpx.Client, admin: dict[str, str]) -> dict[str, str]:
    token = add_user(client, admin["Authorization"][7:], "Una", "una@example.com", "user")
    return bearer(token["token"])


@pytest.fixture(autouse=True)
def fresh(standins: StandIns, client: httpx.Client, admin: dict[str, str]) -> None:
    standins.reset()
    client.get("/api/models?refresh=true", headers=admin)  # forget what earlier tests changed


def ollama_client(daemon: DaemonProc, headers: dict[str, str]) -> ollama.Client:
    return ollama.Client(host=f"{daemon.base_url}/ollama", headers=headers)


def listed(client: httpx.Client, headers: dict[str, str]) -> list[str]:
    r = client.get("/ollama/api/tags", headers=headers)
    assert r.status_code == 200, r.text
    return [m["model"] for m in r.json()["models"]]


# ---- /api/ps and /api/unload ------------------------------------------------------------------


def test_ps_merges_the_loaded_models_of_every_node(
    daemon: DaemonProc,
    client: httpx.Client,
    admin: dict[str, str],
    user: dict[str, str],
    nodes: list[StandIn],
) -> None:
    oc = ollama_client(daemon, admin)
    assert oc.ps().models == []
    oc.chat(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    served = [i for i, node in enumerate(nodes) if node.chats()]
    assert len(served) == 1
    running = client.get("/ollama/api/ps", headers=admin).json()["models"]
    assert [(m["model"], m["urls"]) for m in running] == [(MODEL, served)]
    assert oc.ps().models[0].model == MODEL
    # Both nodes hold it: one entry, both indices.
    for node in nodes:
        node.loaded.add(MODEL)
    running = client.get("/ollama/api/ps", headers=admin).json()["models"]
    assert [(m["model"], m["urls"]) for m in running] == [(MODEL, [0, 1])]
    # Admin only, as in Open WebUI.
    assert client.get("/ollama/api/ps", headers=user).status_code == 401


def test_unload_asks_every_node_serving_the_model(
    client: httpx.Client, admin: dict[str, str], nodes: list[StandIn]
) -> None:
    for node in nodes:
        node.loaded.add(MODEL)
    r = client.post("/ollama/api/unload", headers=admin, json={"model": "standin"})
    assert (r.status_code, r.json()) == (200, {"status": True})
    for node in nodes:
        sent = node.requests[-1]
        assert (sent.path, sent.body["model"], sent.body["keep_alive"]) == (
            "/api/generate",
            MODEL,
            0,
        )
    assert client.get("/ollama/api/ps", headers=admin).json() == {"models": []}
    r = client.post("/ollama/api/unload", headers=admin, json={"model": "nothing-here"})
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})
    r = client.post("/ollama/api/unload", headers=admin, json={})
    assert r.status_code == 400 and "Missing" in r.json()["detail"]


# ---- pull, create, copy, delete ---------------------------------------------------------------


def test_pull_streams_progress_and_the_model_is_listed_at_once(
    daemon: DaemonProc, client: httpx.Client, admin: dict[str, str], nodes: list[StandIn]
) -> None:
    assert "pulled:latest" not in listed(client, admin)
    progress = list(ollama_client(daemon, admin).pull("pulled:latest", stream=True))
    assert progress[0].status == "pulling manifest"
    assert progress[-1].status == "success"
    assert any(p.completed == 100 for p in progress)
    sent = nodes[0].requests[-1]  # node 0 unless the route names another
    assert (sent.path, sent.body["model"], sent.body["insecure"]) == (
        "/api/pull",
        "pulled:latest",
        True,
    )
    assert "pulled:latest" in listed(client, admin)
    # /api/pull/{url_idx} pulls onto that node; not streamed: one JSON object.
    r = client.post(
        "/ollama/api/pull/1", headers=admin, json={"name": "other:latest", "stream": False}
    )
    assert (r.status_code, r.json()) == (200, {"status": "success"})
    assert nodes[1].requests[-1].body["model"] == "other:latest"
    assert "other:latest" in nodes[1].models and "other:latest" not in nodes[0].models
    r = client.post("/ollama/api/pull/7", headers=admin, json={"model": "x"})
    assert r.status_code == 404  # no such node
    r = client.post("/ollama/api/pull/2", headers=admin, json={"model": "x"})
    assert r.status_code == 500 and "Ollama node 2" in r.json()["detail"]


def test_create_copy_and_delete(
    daemon: DaemonProc, client: httpx.Client, admin: dict[str, str], nodes: list[StandIn]
) -> None:
    oc = ollama_client(daemon, admin)
    statuses = [p.status for p in oc.create(model="made:latest", from_=MODEL, stream=True)]
    assert statuses[-1] == "success"
    assert nodes[0].requests[-1].body["from"] == MODEL
    assert oc.copy(MODEL, "copied:latest").status == "success"
    copied = [n for n in nodes if "copied:latest" in n.models]
    assert len(copied) == 1  # on the first node serving the source
    assert {"made:latest", "copied:latest"} <= set(listed(client, admin))
    assert oc.delete("copied:latest").status == "success"
    assert "copied:latest" not in listed(client, admin)
    with pytest.raises(ollama.ResponseError) as error:
        oc.delete("copied:latest")
    assert error.value.status_code == 400  # no node lists it any more
    # The node's own refusal keeps its status, worded as Open WebUI words it.
    r = client.request(
        "DELETE", "/ollama/api/delete/1", headers=admin, json={"model": "made:latest"}
    )
    assert (r.status_code, r.json()) == (404, {"detail": "Ollama: model 'made:latest' not found"})
    r = client.post("/ollama/api/copy", headers=admin, json={"source": MODEL})
    assert r.status_code == 400


def test_model_administration_is_for_admins(
    daemon: DaemonProc, client: httpx.Client, user: dict[str, str], nodes: list[StandIn]
) -> None:
    oc = ollama_client(daemon, user)
    for call in (
        lambda: oc.pull("pulled:latest"),
        lambda: oc.delete(MODEL),
        lambda: oc.copy(MODEL, "mine:latest"),
    ):
        with pytest.raises(ollama.ResponseError) as error:
            call()
        assert error.value.status_code == 401
    changes = ("/api/pull", "/api/delete", "/api/copy")
    assert not [r.path for n in nodes for r in n.requests if r.path in changes]


# ---- embeddings and the OpenAI-compatible API -------------------------------------------------


def test_embed_and_the_older_embeddings_route(
    daemon: DaemonProc, admin: dict[str, str], user: dict[str, str], nodes: list[StandIn]
) -> None:
    oc = ollama_client(daemon, admin)
    answer = oc.embed(model=MODEL, input=["first text", "second text"])
    assert [list(v) for v in answer.embeddings] == [vector("first text"), vector("second text")]
    assert list(oc.embeddings(model=MODEL, prompt="first text").embedding) == vector("first text")
    # A user needs a model record granting the model, as for chats.
    with pytest.raises(ollama.ResponseError) as error:
        ollama_client(daemon, user).embed(model=MODEL, input="x")
    assert error.value.status_code == 400


def test_ollama_openai_compatible_routes(
    daemon: DaemonProc, client: httpx.Client, admin: dict[str, str], user: dict[str, str]
) -> None:
    key = client.post("/api/v1/auths/api_key", headers=admin).json()["api_key"]
    oa = openai.OpenAI(base_url=f"{daemon.base_url}/ollama/v1", api_key=key, max_retries=0)
    assert [m.id for m in oa.models.list()] == [MODEL]
    chunks = oa.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    vectors = oa.embeddings.create(model=MODEL, input="some text", encoding_format="float")
    assert vectors.data[0].embedding == vector("some text")
    # A user with no model records sees no models and may use none.
    assert client.get("/ollama/v1/models", headers=user).json()["data"] == []
    r = client.post(
        "/ollama/v1/chat/completions",
        headers=user,
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
    )
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})


# ---- routes naming a node ---------------------------------------------------------------------


def test_routes_naming_a_node_use_that_node_only(
    client: httpx.Client, admin: dict[str, str], user: dict[str, str], nodes: list[StandIn]
) -> None:
    chat = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": False}
    for idx in (1, 0, 1):
        r = client.post(f"/ollama/api/chat/{idx}", headers=admin, json=chat)
        assert r.status_code == 200 and r.json()["message"]["content"] == REPLY
        assert nodes[idx].requests[-1].path == "/api/chat"
    assert [len(node.chats()) for node in nodes] == [1, 2]
    r = client.post("/ollama/api/embed/1", headers=admin, json={"model": MODEL, "input": "x"})
    assert r.json()["embeddings"] == [vector("x")]
    assert nodes[1].requests[-1].path == "/api/embed"
    # A model only node 0 has, asked of node 1: node 1's own answer, nothing else tried.
    nodes[0].add_model("solo:latest")
    client.get("/api/models?refresh=true", headers=admin)
    r = client.post(
        "/ollama/api/generate/1", headers=admin, json={"model": "solo:latest", "prompt": "x"}
    )
    assert r.status_code == 404 and "not found" in r.json()["detail"]
    assert not [r for r in nodes[0].requests if r.path == "/api/generate"]
    r = client.post("/ollama/api/chat/5", headers=admin, json=chat)
    assert r.status_code == 404  # no such node
    # The model's access rule still applies.
    r = client.post("/ollama/api/chat/0", headers=user, json=chat)
    assert (r.status_code, r.json()) == (400, {"detail": "Model not found"})
    assert client.get("/ollama/api/version/1", headers=user).json() == {"version": "0.6.5"}
    assert client.get("/ollama/api/version/3", headers=user).status_code == 404


def test_daemon_log_has_no_traceback(daemon: DaemonProc) -> None:
    """Last: none of the failures above (a dead node, refusals, bad bodies) raised inside."""
    assert_no_traceback(daemon)
