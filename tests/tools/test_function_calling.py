"""Function calling relayed: the official `openai` and `ollama` clients run their own tool
loops through the daemon (both wires, streamed and not), against a tool-calling stand-in."""

import json
from typing import Any

import httpx
import ollama
import openai
import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, ollama_standin, openai_standin, provider_env
from tests.support import bearer, signup, tcp

__all__ = ["ollama_standin", "openai_standin"]  # fixtures used below

OLLAMA_MODEL, OPENAI_MODEL = "standin:latest", "standin-gpt"
QUESTION = [{"role": "user", "content": "What is the weather in Oslo?"}]
FORECAST = {
    "type": "function",
    "function": {
        "name": "get_forecast",
        "description": "The weather forecast for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def get_forecast(city: str) -> str:
    return f"Sunny in {city}, 21 degrees"


daemon = daemon_fixture(
    env=lambda ollama_standin, openai_standin: {
        "DEFAULT_USER_ROLE": "user",
        **provider_env(ollama=[ollama_standin], openai=[openai_standin]),
    },
    tmp="fncall",
)


@pytest.fixture(scope="module")
def admin(daemon: DaemonProc) -> dict[str, str]:
    with tcp(daemon) as client:
        return bearer(signup(client, "Admin", "admin@example.com")["token"])


@pytest.fixture(scope="module")
def api_key(daemon: DaemonProc, admin: dict[str, str]) -> str:
    with tcp(daemon) as client:
        r = client.post("/api/v1/auths/api_key", headers=admin)
    assert r.status_code == 200, r.text
    return str(r.json()["api_key"])


@pytest.fixture(autouse=True)
def tool_model(ollama_standin: StandIn, openai_standin: StandIn) -> None:
    for standin in (ollama_standin, openai_standin):
        standin.reset(use_tools=True, tool_arguments={"city": "Oslo"}, reply="Here you go.")


def _openai_round(
    oa: openai.OpenAI, model: str, messages: list[dict[str, Any]], stream: bool
) -> tuple[str, str | None, list[dict[str, str]], int]:
    """One request: (text, finish reason, tool calls, argument pieces streamed)."""
    if not stream:
        reply = oa.chat.completions.create(model=model, messages=messages, tools=[FORECAST])  # type: ignore[arg-type, list-item]
        choice = reply.choices[0]
        calls = [
            {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
            for c in choice.message.tool_calls or []
            if c.type == "function"
        ]
        return choice.message.content or "", choice.finish_reason, calls, len(calls)
    text, finish, pieces = "", None, 0
    slots: dict[int, dict[str, str]] = {}
    chunks = oa.chat.completions.create(
        model=model,
        messages=messages,  # type: ignore[arg-type]
        tools=[FORECAST],  # type: ignore[list-item]
        stream=True,
    )
    for chunk in chunks:
        if not chunk.choices:
            continue
        choice = chunk.choices[0]
        text += choice.delta.content or ""
        for call in choice.delta.tool_calls or []:
            slot = slots.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            slot["id"] = call.id or slot["id"]
            if call.function is not None:
                slot["name"] = call.function.name or slot["name"]
                if call.function.arguments:
                    slot["arguments"] += call.function.arguments
                    pieces += 1
        finish = choice.finish_reason or finish
    return text, finish, [slots[i] for i in sorted(slots)], pieces


def openai_tool_loop(
    oa: openai.OpenAI, model: str, stream: bool
) -> tuple[str, list[dict[str, str]], int]:
    """The official client's loop: call the model, run the tools it asks for, send the
    results back, until it answers in text. Returns (answer, calls made, argument pieces)."""
    messages: list[dict[str, Any]] = list(QUESTION)
    made: list[dict[str, str]] = []
    pieces = 0
    for _ in range(4):
        text, finish, calls, streamed = _openai_round(oa, model, messages, stream)
        pieces += streamed
        if finish != "tool_calls":
            return text, made, pieces
        made += calls
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": c["arguments"]},
                    }
                    for c in calls
                ],
            }
        )
        for call in calls:
            result = get_forecast(**json.loads(call["arguments"]))
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    raise AssertionError("the model never answered in text")


def _check_provider_saw_the_loop(standin: StandIn, *, ollama_wire: bool) -> None:
    first, second = standin.chats()[-2:]
    assert first.body["tools"][0]["function"]["name"] == "get_forecast"
    assert second.body["tools"] == first.body["tools"]
    asked, result = second.messages[-2], second.messages[-1]
    call = asked["tool_calls"][0]["function"]
    assert call["name"] == "get_forecast"
    arguments = call["arguments"] if ollama_wire else json.loads(call["arguments"])
    assert arguments == {"city": "Oslo"}
    assert result["role"] == "tool" and result["content"] == get_forecast("Oslo")
    if not ollama_wire:
        assert result["tool_call_id"] == asked["tool_calls"][0]["id"]


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
@pytest.mark.parametrize("model", [OLLAMA_MODEL, OPENAI_MODEL])
def test_openai_client_tool_loop_through_chat_completions(
    daemon: DaemonProc,
    api_key: str,
    model: str,
    stream: bool,
    ollama_standin: StandIn,
    openai_standin: StandIn,
) -> None:
    oa = openai.OpenAI(base_url=f"{daemon.base_url}/api", api_key=api_key, max_retries=0)
    text, made, pieces = openai_tool_loop(oa, model, stream)
    assert text == f"Here you go. Tool results: {get_forecast('Oslo')}"
    assert [(c["name"], json.loads(c["arguments"])) for c in made] == [
        ("get_forecast", {"city": "Oslo"})
    ]
    assert made[0]["id"]
    standin = ollama_standin if model == OLLAMA_MODEL else openai_standin
    _check_provider_saw_the_loop(standin, ollama_wire=model == OLLAMA_MODEL)
    if stream and model == OPENAI_MODEL:
        assert pieces > 1  # the arguments came in pieces, and were relayed as they came


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
@pytest.mark.parametrize("path", ["/openai", "/ollama/v1"])
def test_openai_client_tool_loop_through_the_proxies(
    daemon: DaemonProc,
    api_key: str,
    path: str,
    stream: bool,
    ollama_standin: StandIn,
    openai_standin: StandIn,
) -> None:
    model = OPENAI_MODEL if path == "/openai" else OLLAMA_MODEL
    oa = openai.OpenAI(base_url=f"{daemon.base_url}{path}", api_key=api_key, max_retries=0)
    text, made, pieces = openai_tool_loop(oa, model, stream)
    assert text == f"Here you go. Tool results: {get_forecast('Oslo')}"
    assert [c["name"] for c in made] == ["get_forecast"]
    standin = openai_standin if path == "/openai" else ollama_standin
    _check_provider_saw_the_loop(standin, ollama_wire=False)
    if stream:
        assert pieces > 1


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_ollama_client_tool_loop(
    daemon: DaemonProc, admin: dict[str, str], stream: bool, ollama_standin: StandIn
) -> None:
    client = ollama.Client(host=f"{daemon.base_url}/ollama", headers=admin)
    messages: list[Any] = list(QUESTION)
    answered = ""
    for _ in range(4):
        if stream:
            parts = list(
                client.chat(model=OLLAMA_MODEL, messages=messages, tools=[FORECAST], stream=True)
            )
            text = "".join(p.message.content or "" for p in parts)
            calls = [c for p in parts for c in p.message.tool_calls or []]
            assert parts[-1].done
        else:
            reply = client.chat(model=OLLAMA_MODEL, messages=messages, tools=[FORECAST])
            text, calls = reply.message.content or "", list(reply.message.tool_calls or [])
        if not calls:
            answered = text
            break
        messages.append({"role": "assistant", "content": "", "tool_calls": calls})
        for call in calls:
            result = get_forecast(**call.function.arguments)
            messages.append({"role": "tool", "content": result, "tool_name": call.function.name})
    assert answered == f"Here you go. Tool results: {get_forecast('Oslo')}"
    _check_provider_saw_the_loop(ollama_standin, ollama_wire=True)


def test_tool_choice_and_parallel_calls_reach_the_provider(
    daemon: DaemonProc, api_key: str, openai_standin: StandIn
) -> None:
    """Two calls in one answer come back with their own index and id; `tool_choice` and
    `parallel_tool_calls` reach an OpenAI connection as sent."""
    openai_standin.reset(
        tool_calls=[
            {"name": "get_forecast", "arguments": {"city": "Oslo"}},
            {"name": "get_forecast", "arguments": {"city": "Bergen"}},
        ]
    )
    with httpx.Client(base_url=daemon.base_url, timeout=10) as client:
        r = client.post(
            "/api/chat/completions",
            headers={"Authorization": f"Bearer {api_key}"},
            json={
                "model": OPENAI_MODEL,
                "messages": QUESTION,
                "tools": [FORECAST],
                "tool_choice": "required",
                "parallel_tool_calls": True,
            },
        )
    assert r.status_code == 200, r.text
    calls = r.json()["choices"][0]["message"]["tool_calls"]
    assert [json.loads(c["function"]["arguments"])["city"] for c in calls] == ["Oslo", "Bergen"]
    assert len({c["id"] for c in calls}) == 2
    sent = openai_standin.chats()[-1].body
    assert (sent["tool_choice"], sent["parallel_tool_calls"]) == ("required", True)
