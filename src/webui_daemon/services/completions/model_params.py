"""Open WebUI params (spec 5.1): merge the layers and copy them into a request body.

Merge order: preset params < request `params` (later wins). The keys Open WebUI consumes
itself (`system`, `stream_response`, ...) never reach the provider; the others fill only the
body fields the request left unset.
"""

import contextlib
import json
from typing import Any

from webui_daemon.services import errors

# Read by the daemon, never sent upstream.
CONSUMED = frozenset(
    {
        "system",
        "stream_response",
        "function_calling",
        "stream_delta_chunk_size",
        "reasoning_tags",
        "custom_params",
        "tool_approval_mode",  # ask before each tool call (services.tools.approvals)
    }
)
# Params an OpenAI-compatible upstream understands (others are Ollama options).
OPENAI_KEYS = frozenset(
    {
        "temperature",
        "top_p",
        "min_p",
        "max_tokens",
        "max_completion_tokens",
        "frequency_penalty",
        "presence_penalty",
        "reasoning_effort",
        "seed",
        "stop",
        "logit_bias",
        "response_format",
        "n",
        "logprobs",
        "top_logprobs",
    }
)
# Ollama keys that live at the top level of an /api/chat body, not in `options`.
OLLAMA_TOP_LEVEL = frozenset({"format", "keep_alive", "think"})


def merge(*layers: dict[str, Any] | None) -> dict[str, Any]:
    """Later layers win; None values do not override."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if value is not None:
                merged[key] = value
    return merged


def _custom(params: dict[str, Any]) -> dict[str, Any]:
    """`custom_params`: extra body fields; string values holding JSON are decoded."""
    custom = params.get("custom_params")
    if not isinstance(custom, dict):
        return {}
    out = {}
    for key, value in custom.items():
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        out[key] = value
    return out


def _stop(value: Any) -> Any:
    # The web UI stores stop sequences as one comma-separated string.
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    return value


def fill_body(body: dict[str, Any], params: dict[str, Any], *, openai_only: bool) -> None:
    """Copy params into an OpenAI-form body where it has no value yet."""
    for key, value in {**params, **_custom(params)}.items():
        if key in CONSUMED or value is None or (openai_only and key not in OPENAI_KEYS):
            continue
        if body.get(key) is None:
            body[key] = _stop(value) if key == "stop" else value


def fill_ollama(body: dict[str, Any], params: dict[str, Any]) -> None:
    """Copy params into a native Ollama body: `options`, or the top level for format & co."""
    given = body.get("options")
    if given is not None and not isinstance(given, dict):
        raise errors.WebUIError("`options` must be an object.")
    options = dict(given or {})
    for key, value in {**params, **_custom(params)}.items():
        if key in CONSUMED or value is None:
            continue
        if key in OLLAMA_TOP_LEVEL:
            body.setdefault(key, value)
        elif key in ("max_tokens", "max_completion_tokens"):
            options.setdefault("num_predict", value)
        else:
            options.setdefault(key, _stop(value) if key == "stop" else value)
    if options:
        body["options"] = options
