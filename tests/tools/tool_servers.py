"""Real tool servers for the tests, each run as its own process on loopback (or stdio).

    python tests/tools/tool_servers.py openapi --port 8123     # a FastAPI OpenAPI tool server
    python tests/tools/tool_servers.py mcp-http --port 8124    # an MCP server (streamable HTTP)
    python tests/tools/tool_servers.py mcp-stdio               # an MCP server on stdin/stdout

The OpenAPI server ("Weather tools") offers get_forecast (GET, query), echo (POST, JSON body),
whoami (the Authorization header it got), slow (sleeps `seconds`), garbage (invalid JSON
labelled as JSON), huge (a 2 MB answer), and /calls (not an operation: what it was asked).
The MCP servers ("Weather MCP") offer get_forecast, add and fail (the tool reports an error).
This file imports nothing from the tests package: the daemon starts it by path (stdio).
"""

import argparse
import asyncio
import sys
from typing import Any

FORECAST = "Sunny in {city}, 21 degrees"


def openapi_app() -> Any:
    from fastapi import FastAPI, Request
    from fastapi.responses import Response
    from pydantic import BaseModel

    app = FastAPI(title="Weather tools", description="Forecasts and test helpers.")
    calls: list[dict[str, Any]] = []

    class EchoForm(BaseModel):
        text: str
        times: int = 1

    @app.get("/forecast", operation_id="get_forecast", summary="The forecast for a city.")
    async def forecast(city: str) -> dict[str, str]:
        calls.append({"op": "get_forecast", "city": city})
        return {"city": city, "forecast": FORECAST.format(city=city)}

    @app.post("/echo", operation_id="echo", summary="The text, repeated.")
    async def echo(form: EchoForm) -> dict[str, str]:
        calls.append({"op": "echo", "text": form.text, "times": form.times})
        return {"echo": form.text * form.times}

    @app.get("/whoami", operation_id="whoami", summary="The Authorization header received.")
    async def whoami(request: Request) -> dict[str, str]:
        calls.append({"op": "whoami"})
        return {"authorization": request.headers.get("authorization", "")}

    @app.get("/slow", operation_id="slow", summary="Answers after a while.")
    async def slow(seconds: float) -> dict[str, str]:
        calls.append({"op": "slow", "seconds": seconds})
        await asyncio.sleep(seconds)
        return {"slept": str(seconds)}

    @app.get("/garbage", operation_id="garbage", summary="Says it is JSON; it is not.")
    async def garbage() -> Response:
        calls.append({"op": "garbage"})
        return Response(b'{"unclosed": [1, 2', media_type="application/json")

    @app.get("/huge", operation_id="huge", summary="A very large answer.")
    async def huge() -> Response:
        calls.append({"op": "huge"})
        return Response(b'{"data": "' + b"x" * 2_000_000 + b'"}', media_type="application/json")

    @app.get("/calls", include_in_schema=False)
    async def seen() -> list[dict[str, Any]]:
        return calls

    return app


def mcp_server() -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("Weather MCP")

    @server.tool()
    def get_forecast(city: str) -> str:
        """The forecast for a city."""
        return FORECAST.format(city=city)

    @server.tool()
    def add(a: int, b: int) -> int:
        """The sum of two numbers."""
        return a + b

    @server.tool()
    def fail() -> str:
        """Always fails."""
        raise RuntimeError("the fail tool failed, as it always does")

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["openapi", "mcp-http", "mcp-stdio"])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.kind == "mcp-stdio":
        mcp_server().run()
        return
    import uvicorn

    app = openapi_app() if args.kind == "openapi" else mcp_server().streamable_http_app()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    sys.exit(main())
