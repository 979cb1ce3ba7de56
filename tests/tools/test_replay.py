"""schemas.replay: saved answers that ran tools, replayed to the model as Open WebUI 0.12 does."""

from typing import Any

from webui_daemon.schemas.replay import model_messages


def call(call_id: str, name: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": call_id,
        "call_id": call_id,
        "name": name,
        "arguments": '{"city": "Oslo"}',
        "status": status,
    }


def result(call_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "function_call_output",
        "id": f"fco_{call_id}",
        "call_id": call_id,
        "output": [{"type": "input_text", "text": text}],
        "status": status,
    }


def said(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text}],
    }


def answer(*output: dict[str, Any], content: str = "final") -> dict[str, Any]:
    return {"role": "assistant", "content": content, "output": list(output)}


def test_calls_and_results_become_tool_calls_and_tool_messages() -> None:
    replayed = model_messages(
        answer(
            said("Let me look."),
            call("c1", "get_forecast"),
            call("c2", "echo"),
            result("c1", "sunny"),
            result("c2", "Error: down", "failed"),
            said("Sunny."),
        )
    )
    assert replayed == [
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_forecast", "arguments": '{"city": "Oslo"}'},
                },
                {
                    "id": "c2",
                    "type": "function",
                    "function": {"name": "echo", "arguments": '{"city": "Oslo"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "c2", "content": "Error: down"},
        {"role": "assistant", "content": "Sunny."},
    ]


def test_unsettled_or_unanswered_calls_are_left_out() -> None:
    replayed = model_messages(
        answer(
            call("c1", "slow", "in_progress"),
            call("c2", "echo"),
            result("c3", "orphan"),
            said("What arrived."),
        )
    )
    assert replayed == [{"role": "assistant", "content": "What arrived."}]


def test_a_rejected_call_is_replayed_with_its_refusal() -> None:
    refused = "Error: tool call rejected by user."
    replayed = model_messages(
        answer(call("c1", "echo", "rejected"), result("c1", refused, "rejected"), said("OK."))
    )
    assert [m["role"] for m in replayed] == ["assistant", "tool", "assistant"]
    assert replayed[1]["content"] == refused


def test_messages_without_output_are_as_before() -> None:
    assert model_messages({"role": "assistant", "content": "hi"}) == [
        {"role": "assistant", "content": "hi"}
    ]
    assert model_messages(answer(content="kept")) == [{"role": "assistant", "content": "kept"}]
    image = {"type": "image", "url": "data:image/png;base64,AA=="}
    assert model_messages({"role": "user", "content": "what?", "files": [image]}) == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "what?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            ],
        }
    ]
