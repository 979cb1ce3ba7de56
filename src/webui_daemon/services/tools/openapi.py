"""OpenAPI tool servers: their operations as function specs, and a call as an HTTP request.

Each operation with an `operationId` is one function (as Open WebUI 0.12 does): its path and
query parameters and the properties of its JSON body become the function's parameters. A call
puts each argument where the operation declares it (path, query, body).
"""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

METHODS = ("get", "post", "put", "patch", "delete")
_MAX_REF_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Operation:
    """How to call one function of an OpenAPI server."""

    method: str
    path: str
    path_params: frozenset[str] = frozenset()
    query_params: frozenset[str] = frozenset()
    body: bool = False
    body_properties: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OpenApiServer:
    """A fetched `openapi.json`: its title, description, specs and operations."""

    title: str
    description: str
    specs: list[dict[str, Any]] = field(default_factory=list)
    operations: dict[str, Operation] = field(default_factory=dict)


def _resolve(schema: Any, components: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """`$ref`s replaced by what they point to (bounded: a cycle stops at an empty object)."""
    if not isinstance(schema, dict) or depth > _MAX_REF_DEPTH:
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/"):
        node: Any = {"components": components}
        for part in ref[2:].split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        return _resolve(node, components, depth + 1)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {k: _resolve(v, components, depth + 1) for k, v in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = _resolve(value, components, depth + 1)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [_resolve(v, components, depth + 1) for v in value]
        else:
            out[key] = value
    return out


def _parameters(path_item: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    """Path-level parameters, overridden by the operation's own (by name and place)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for source in (path_item.get("parameters"), operation.get("parameters")):
        for param in source if isinstance(source, list) else []:
            if isinstance(param, dict) and isinstance(param.get("name"), str):
                merged[(param["name"], str(param.get("in", "")))] = param
    return list(merged.values())


def parse(document: Any) -> OpenApiServer:
    """The functions of an OpenAPI document. ValueError when it is not one."""
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        raise ValueError("not an OpenAPI document (no `paths`)")
    components = document.get("components")
    components = components if isinstance(components, dict) else {}
    info: dict[str, Any] = document["info"] if isinstance(document.get("info"), dict) else {}
    specs: list[dict[str, Any]] = []
    operations: dict[str, Operation] = {}
    for path, path_item in document["paths"].items():
        if not isinstance(path_item, dict):
            continue
        for method in METHODS:
            operation = path_item.get(method)
            if not isinstance(operation, dict) or not operation.get("operationId"):
                continue
            name = str(operation["operationId"])
            properties: dict[str, Any] = {}
            required: list[str] = []
            path_params, query_params = set(), set()
            for param in _parameters(path_item, operation):
                schema = _resolve(param.get("schema"), components)
                description = str(schema.get("description") or param.get("description") or "")
                prop: dict[str, Any] = {"type": schema.get("type") or "string"}
                if description:
                    prop["description"] = description
                if isinstance(schema.get("enum"), list):
                    prop["enum"] = schema["enum"]
                if schema.get("type") == "array" and "items" in schema:
                    prop["items"] = schema["items"]
                properties[param["name"]] = prop
                if param.get("required"):
                    required.append(param["name"])
                if param.get("in") == "path":
                    path_params.add(param["name"])
                elif param.get("in") == "query":
                    query_params.add(param["name"])
            body_props: set[str] = set()
            content = (operation.get("requestBody") or {}).get("content") or {}
            body_schema = _resolve(
                (content.get("application/json") or {}).get("schema"), components
            )
            if isinstance(body_schema.get("properties"), dict):
                properties.update(body_schema["properties"])
                body_props = set(body_schema["properties"])
                for key in body_schema.get("required") or []:
                    if key not in required:
                        required.append(str(key))
            description = operation.get("description") or operation.get("summary") or ""
            specs.append(
                {
                    "name": name,
                    "description": str(description or "No description available."),
                    "parameters": {
                        "type": "object",
                        "properties": properties,
                        "required": required,
                    },
                }
            )
            operations[name] = Operation(
                method=method,
                path=str(path),
                path_params=frozenset(path_params),
                query_params=frozenset(query_params),
                body=bool(body_schema),
                body_properties=frozenset(body_props),
            )
    return OpenApiServer(
        title=str(info.get("title") or "Tool Server"),
        description=str(info.get("description") or ""),
        specs=specs,
        operations=operations,
    )


def request_parts(
    operation: Operation, arguments: dict[str, Any]
) -> tuple[str, dict[str, str], dict[str, Any] | None]:
    """(path with its parameters filled in, query, JSON body or None) for one call."""
    path = operation.path
    for name in operation.path_params:
        if name in arguments:
            path = path.replace("{" + name + "}", quote(str(arguments[name]), safe=""))
    query = {
        name: str(arguments[name])
        for name in operation.query_params
        if arguments.get(name) not in (None, "")
    }
    body: dict[str, Any] | None = None
    if operation.body:
        declared = operation.path_params | operation.query_params
        body = {
            k: v
            for k, v in arguments.items()
            if k in operation.body_properties
            or (k not in declared and not operation.body_properties)
        }
    return path, query, body


def spec_url(url: str, path: str) -> str:
    """Where a server's OpenAPI document is: `path` when it is a URL, else below `url`."""
    if "://" in path:
        return path
    return url.rstrip("/") + "/" + path.lstrip("/")
