"""One tool call: the arguments checked, the server asked (timeout, size limit), a short result.

Whatever goes wrong (unknown tool, arguments that are not a JSON object, a server that is down,
slow, answers garbage or too much), the model gets a short `Error: ...` text as the result and
the answer goes on; nothing here raises to the loop.
"""

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from webui_daemon.services.tools.mcp_link import McpLink
from webui_daemon.services.tools.openapi import Operation, request_parts

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

Status = Literal["completed", "failed"]


@dataclass(frozen=True, slots=True)
class CallLimits:
    timeout_s: float = 30.0  # one call, from the request to the last byte
    max_bytes: int = 256 * 1024  # the largest answer read from a tool server


@dataclass(slots=True)
class Tool:
    """One function the model may call, and where it runs."""

    name: str  # as the model sees it
    spec: dict[str, Any]  # OpenAI function spec (name, description, parameters)
    server: str  # the tool id (`server:0`, `server:mcp:files`)
    remote_name: str  # the function's name on its server
    url: str = ""  # OpenAPI: the server's base URL
    operation: Operation | None = None  # OpenAPI: how to call it
    headers: dict[str, str] = field(default_factory=dict)
    mcp: McpLink | None = None  # MCP: the link that runs it


def parse_arguments(name: str, raw: Any) -> dict[str, Any] | str:
    """The arguments as an object, or the error text for the model (Open WebUI 0.12's words)."""
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return (
            "Error: Tool call arguments could not be parsed. The model generated malformed or "
            f"incomplete JSON for `{name}`. Please try again."
        )
    if not isinstance(value, dict):
        return f"Error: Tool call arguments for `{name}` must be a JSON object. Please try again."
    return value


def result_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def is_error(text: str) -> bool:
    return text.lstrip().lower().startswith("error:")


async def call(
    tool: Tool | None, name: str, raw_arguments: Any, http: "httpx.AsyncClient", limits: CallLimits
) -> tuple[Status, str]:
    """Run one call: ("completed", result) or ("failed", "Error: ...")."""
    if tool is None:
        return "failed", f'Error: Tool "{name}" not found.'
    arguments = parse_arguments(name, raw_arguments)
    if isinstance(arguments, str):
        return "failed", arguments
    import httpx  # already loaded by the client that makes the call

    try:
        if tool.mcp is not None:
            text = await tool.mcp.call_tool(tool.remote_name, arguments, limits.timeout_s)
        else:
            text = await _openapi_call(tool, arguments, http, limits)
    except TimeoutError:
        text = f"Error: the tool server did not answer within {limits.timeout_s:g} s."
    except httpx.TransportError as exc:
        where = urlsplit(tool.url).netloc or tool.server
        text = f"Error: could not reach the tool server at {where} ({type(exc).__name__})."
    except Exception as exc:
        log.info("tool %s failed: %s", name, exc)
        text = f"Error: the tool failed ({type(exc).__name__}: {str(exc)[:200]})."
    if len(text.encode()) > limits.max_bytes:
        text = f"Error: the tool's answer is larger than {limits.max_bytes} bytes."
    return ("failed" if is_error(text) else "completed"), text


async def _openapi_call(
    tool: Tool, arguments: dict[str, Any], http: "httpx.AsyncClient", limits: CallLimits
) -> str:
    operation = tool.operation
    assert operation is not None
    allowed = set(tool.spec.get("parameters", {}).get("properties", {}))
    arguments = {k: v for k, v in arguments.items() if k in allowed}
    path, query, body = request_parts(operation, arguments)
    headers = {"Accept": "application/json", **tool.headers}
    async with asyncio.timeout(limits.timeout_s):
        async with http.stream(
            operation.method.upper(),
            tool.url.rstrip("/") + path,
            params=query,
            json=body,
            headers=headers,
            timeout=limits.timeout_s,
        ) as response:
            data = bytearray()
            async for piece in response.aiter_bytes():
                data += piece
                if len(data) > limits.max_bytes:
                    return f"Error: the tool's answer is larger than {limits.max_bytes} bytes."
    return _decode(response.status_code, response.headers.get("content-type", ""), bytes(data))


def _decode(status: int, content_type: str, data: bytes) -> str:
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return f"Error: the tool answered {len(data)} bytes that are not text ({content_type})."
    if status >= 400:
        return f"Error: HTTP error {status}: {text[:300]}"
    if "json" in content_type:
        try:
            return result_text(json.loads(text))
        except ValueError:
            return f"Error: the tool's answer is not valid JSON: {text[:100]!r}"
    return text
