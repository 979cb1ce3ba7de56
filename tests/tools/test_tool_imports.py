"""The MCP SDK stays out of a daemon that has not used an MCP server, even with some set up."""

import json
import subprocess
import sys
from pathlib import Path

from tests.daemon_proc import daemon_env

PROBE = """
import sys
from fastapi.testclient import TestClient
from webui_daemon.app import create_app
from webui_daemon.settings import Settings

with TestClient(create_app(Settings())) as client:
    assert client.get("/health").status_code == 200
    listed = client.app.state.services.tools.connections()
# (httpx2 is the SDK's HTTP client, but starlette's TestClient loads it too.)
print("LOADED", [m for m in sys.modules if m.split(".")[0] in ("mcp", "mcp_types")], len(listed))
"""


def test_daemon_start_does_not_import_the_mcp_sdk(tmp_path: Path) -> None:
    servers = [
        {"url": "http://127.0.0.1:9/mcp", "type": "mcp", "config": {"enable": True}},
        {"type": "mcp", "command": ["true"], "config": {"enable": True}, "info": {"id": "x"}},
    ]
    env = daemon_env({"DATA_DIR": str(tmp_path), "TOOL_SERVER_CONNECTIONS": json.dumps(servers)})
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[-1] == "LOADED [] 2", probe.stdout
