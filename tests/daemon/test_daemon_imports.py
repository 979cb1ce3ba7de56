"""A started daemon (modules imported, every service built in the lifespan) holds none of the
heavy libraries it uses only on demand: HTTP clients (httpx: tool servers, the httpx provider
transport), the MCP SDK, LanceDB, Arrow, fastembed, onnxruntime (the knowledge worker); nor
`cryptography`, which PyJWT would import (tokens are HS256, signed with the standard library)."""

import subprocess
import sys
from pathlib import Path

from tests.daemon_proc import daemon_env

HEAVY = (
    "httpx",
    "mcp",
    "lancedb",
    "pyarrow",
    "fastembed",
    "onnxruntime",
    "numpy",
    "jwt",
    "cryptography",
)

PROBE = f"""
import asyncio, sys
import webui_daemon.server
from webui_daemon.app import create_app
from webui_daemon.settings import Settings

async def main():
    app = create_app(Settings())
    async with app.router.lifespan_context(app):
        assert app.state.services.db is not None

asyncio.run(main())
print("LOADED", sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r})))
"""


def test_a_started_daemon_imports_nothing_heavy(tmp_path: Path) -> None:
    env = daemon_env({"DATA_DIR": str(tmp_path), "ENABLE_OLLAMA_API": "false"})
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[-1] == "LOADED []", probe.stdout
