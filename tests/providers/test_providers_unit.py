"""Provider plumbing without a daemon: conversion, settings, routing state, params, prompts."""

import asyncio
import json
from typing import Any

import pytest

from webui_daemon.providers.base import Connection
from webui_daemon.providers.catalog import merge
from webui_daemon.providers.config import (
    ProviderConfig,
    clean_configs,
    connections,
    ollama_urls,
    openai_urls_keys,
)
from webui_daemon.providers.convert import (
    ChunkConverter,
    body_to_ollama,
    completion_from_ollama,
    usage_from_ollama,
)
from webui_daemon.providers.router import NodePool
from webui_daemon.services import access
from webui_daemon.services.completions import model_params, system_prompt
from webui_daemon.settings import Settings
from webui_daemon.storage.rows import UserRow

USER = UserRow(
    id="u1",
    email="ada@example.com",
    name="Ada",
    role="user",
    profile_image_url="",
    last_active_at=0,
    created_at=0,
    updated_at=0,
    timezone="Europe/Paris",
)


# ---- settings -> connections ----------------------------------------------------------------


def test_default_settings_make_no_internet_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    from webui_daemon.container import provider_defaults

    for name in ("OPENAI_API_KEY", "OPENAI_API_KEYS", "OPENAI_API_BASE_URL", "OLLAMA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("OPENAI_API_BASE_URLS", raising=False)
    monkeypatch.delenv("OLLAMA_BASE_URLS", raising=False)
    defaults = provider_defaults(Settings())
    assert defaults["openai"].urls == []  # no api.openai.com without a key
    assert defaults["ollama"].urls == ["http://localhost:11434"]


def test_openai_url_only_with_a_key() -> None:
    assert openai_urls_keys("", "", "", "sk-1") == (["https://api.openai.com/v1"], ["sk-1"])
    assert openai_urls_keys("", "", "", "") == ([], [])
    urls, keys = openai_urls_keys("http://a/v1/;http://b/v1", "", "k1", "")
    assert urls == ["http://a/v1", "http://b/v1"] and keys == ["k1", ""]


def test_ollama_urls() -> None:
    assert ollama_urls("http://a:1/; http://b:2", "http://c") == ["http://a:1", "http://b:2"]
    assert ollama_urls("", "http://c/") == ["http://c"]
    assert ollama_urls("", "", "http://d:3/api") == ["http://d:3"]


def test_connections_apply_per_url_configs() -> None:
    config = ProviderConfig(
        kind="ollama",
        enabled=True,
        urls=["http://a", "http://b", "http://c"],
        configs=clean_configs(
            {"0": {"prefix_id": "p", "tags": ["x"]}, "http://b": {"enable": False}},
            ["http://a", "http://b", "http://c"],
        ),
    )
    conns = connections(config)
    assert [c.idx for c in conns] == [0, 2]
    assert conns[0].prefix_id == "p" and conns[0].tags == ({"name": "x"},)
    assert connections(ProviderConfig(kind="ollama", enabled=False, urls=["http://a"])) == []


def test_merge_collects_urls_and_prefixes() -> None:
    a = Connection("ollama", 0, "http://a")
    b = Connection("ollama", 1, "http://b")
    p = Connection("ollama", 2, "http://p", prefix_id="p")
    o = Connection("openai", 0, "http://o/v1", connection_type="external")
    tag = {"name": "m:1", "model": "m:1"}
    snap = merge(
        [(a, [tag]), (b, [tag]), (p, [{"name": "p.m:1", "model": "p.m:1"}])],
        [(o, [{"id": "m:1", "owned_by": "x"}, {"id": "g"}])],
    )
    assert snap.models["m:1"].kind == "ollama"  # Ollama wins a duplicate id
    assert [r.conn.idx for r in snap.models["m:1"].routes] == [0, 1]
    assert snap.models["p.m:1"].routes[0].upstream == "m:1"
    assert snap.models["g"].wire["owned_by"] == "openai" and snap.models["g"].wire["urlIdx"] == 0
    assert [m["urls"] for m in snap.ollama] == [[0, 1], [2]]
    assert snap.find("m") is None and snap.find("p.m:1") is not None


# ---- conversion -----------------------------------------------------------------------------


def test_body_to_ollama_moves_sampling_into_options() -> None:
    body = {
        "model": "x",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
                ],
            }
        ],
        "temperature": 0.5,
        "max_tokens": 9,
        "keep_alive": "5m",
        "response_format": {"type": "json_object"},
        "stream_options": {"include_usage": True},
    }
    out = body_to_ollama(body, "x:1", stream=True)
    assert out["model"] == "x:1" and out["stream"] is True
    assert out["messages"] == [{"role": "user", "content": "look", "images": ["QUJD"]}]
    assert out["options"] == {"temperature": 0.5, "num_predict": 9}
    assert out["keep_alive"] == "5m" and out["format"] == "json"


def test_chunk_converter_follows_the_openai_stream_shape() -> None:
    conv = ChunkConverter("m")
    lines = [
        {"message": {"content": "", "thinking": "hmm"}, "done": False},
        {"message": {"content": "Hi"}, "done": False},
        {"message": {"content": ""}, "done": True, "eval_count": 2, "prompt_eval_count": 3},
    ]
    chunks = [c for line in lines for c in conv.convert(line)]
    assert len({c["id"] for c in chunks}) == 1
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant", "content": "", "reasoning_content": "hmm"}
    assert deltas[1] == {"content": "Hi"}
    assert deltas[2] == {} and chunks[2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[2]["usage"]["total_tokens"] == 5
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)


def test_tool_calls_and_non_streamed_answer() -> None:
    conv = ChunkConverter("m")
    call = {"function": {"name": "f", "arguments": {"a": 1}}}
    chunks = conv.convert({"message": {"content": "", "tool_calls": [call]}, "done": False})
    chunks += conv.convert({"message": {"content": ""}, "done": True})
    tool = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert tool["function"] == {"name": "f", "arguments": json.dumps({"a": 1})}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    reply = completion_from_ollama(
        {"model": "m", "message": {"content": "ok", "thinking": "t"}, "done_reason": "length"}, "m"
    )
    assert reply["object"] == "chat.completion"
    assert reply["choices"][0]["message"] == {
        "role": "assistant",
        "content": "ok",
        "reasoning_content": "t",
    }
    assert reply["choices"][0]["finish_reason"] == "length"
    usage = usage_from_ollama({"eval_count": 4, "eval_duration": 2_000_000_000})
    assert usage["response_token/s"] == 2.0 and usage["output_tokens"] == 4


# ---- routing state --------------------------------------------------------------------------


async def test_pool_prefers_healthy_idle_then_least_recent() -> None:
    pool = NodePool(retry_after=0.001, max_retry_after=0.002)
    nodes = ["a", "b", "c"]
    held = pool.acquire("a")
    assert pool.order(nodes, str)[-1] == "a"  # busy: last among the healthy
    pool.release(held)
    pool.release(pool.acquire("b"))
    assert pool.order(nodes, str)[:2] == ["c", "a"]  # never used, then least recently used
    probes: list[str] = []

    async def probe() -> bool:
        probes.append("c")
        return len(probes) >= 2  # down at the first probe, back at the second

    pool.register("c", probe)
    pool.failed("c", "boom")
    assert pool.is_down("c") and pool.order(nodes, str)[-1] == "c"
    for _ in range(200):
        await asyncio.sleep(0.002)
        if not pool.is_down("c"):
            break
    assert probes == ["c", "c"] and not pool.is_down("c")
    await pool.aclose()


# ---- params, prompts, access ----------------------------------------------------------------


def test_params_fill_only_unset_fields() -> None:
    params = model_params.merge(
        {"temperature": 0.2, "num_ctx": 4096, "system": "s", "stop": "a, b"},
        {"temperature": None, "top_p": 0.5},
    )
    body: dict[str, Any] = {"temperature": 0.9}
    model_params.fill_body(body, params, openai_only=True)
    assert body == {"temperature": 0.9, "top_p": 0.5, "stop": ["a", "b"]}
    native: dict[str, Any] = {"options": {"num_ctx": 1}}
    model_params.fill_ollama(native, {"num_ctx": 2, "max_tokens": 3, "keep_alive": "1m"})
    assert native == {"options": {"num_ctx": 1, "num_predict": 3}, "keep_alive": "1m"}


def test_system_prompt_variables_and_placement() -> None:
    text = system_prompt.render(
        "Hi {{USER_NAME}} <{{USER_EMAIL}}> {{CURRENT_DATE}} {{CURRENT_WEEKDAY}} {{CITY}}",
        USER,
        variables={"CITY": "Paris"},
    )
    name, email, date, weekday, city = text[3:].split(" ")
    assert (name, email, city) == ("Ada", "<ada@example.com>", "Paris")
    assert len(date) == 10 and weekday.isalpha()
    placed = system_prompt.place_system([{"role": "system", "content": "B"}], "A")
    assert placed == [{"role": "system", "content": "A\nB"}]
    assert system_prompt.place_system([{"role": "user", "content": "q"}], "A")[0] == {
        "role": "system",
        "content": "A",
    }


def test_access_forms_round_trip() -> None:
    grants = access.grants_from_access_control({"read": {"group_ids": ["g"], "user_ids": ["u2"]}})
    assert access.access_control_from_grants(grants) == {
        "read": {"group_ids": ["g"], "user_ids": ["u2"]},
        "write": {"group_ids": [], "user_ids": []},
    }
    assert access.access_control_from_grants(access.grants_from_access_control(None)) is None
    assert access.grants_from_access_control({}) == []
    assert access.has_grant(USER, grants, "read", {"g"})
    assert not access.has_grant(USER, grants, "write", {"g"})
    assert access.has_grant(USER, [access.PUBLIC_READ], "read", set())
