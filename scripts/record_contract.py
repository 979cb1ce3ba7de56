"""Re-record tests/contract/recordings/ from a real Open WebUI (not run in CI).

Either let the script start everything (stand-in providers in this process, `open-webui serve`
with a throwaway data folder, offline, API keys on; about a minute to start):

    python scripts/record_contract.py --open-webui /path/to/venv/bin/open-webui

or point it at a fresh instance you started yourself (nobody signed up yet; its Ollama and
OpenAI connections, and its embedding engine, on stand-ins serving the scenario's models):

    python scripts/record_contract.py --url http://127.0.0.1:8080 \
        --ollama-url http://127.0.0.1:11434 --openai-url http://127.0.0.1:8000/v1

Every answer is normalised before it is written (tests.contract.scenario.normalise): ids, times,
JWTs and API keys are replaced, so re-recording the same version changes little. Check the
version printed at the end against tests/contract/scenario.OPEN_WEBUI_VERSION.
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.contract.scenario import (  # noqa: E402
    EMBEDDING_MODEL,
    OLLAMA_MODEL,
    OPENAI_MODEL,
    RECORDINGS,
    Runner,
    normalise,
    recording_path,
)
from tests.standins import start_ollama, start_openai  # noqa: E402
from tests.tools.tool_procs import start_tool_server  # noqa: E402

START_TIMEOUT_S = 300


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"open-webui exited with {proc.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(1)
    raise SystemExit(f"{url} did not answer /health within {START_TIMEOUT_S} s")


@contextlib.contextmanager
def open_webui(
    binary: str, ollama_url: str, openai_url: str, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """`open-webui serve` on a loopback port with a throwaway data folder; its URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="owui-contract-") as data:
        env = {
            **os.environ,
            "DATA_DIR": data,
            "OFFLINE_MODE": "true",
            "HF_HUB_OFFLINE": "1",
            "WEBUI_SECRET_KEY": "throwaway-contract-recording-secret",
            "WEBUI_AUTH": "true",
            "ENABLE_API_KEYS": "true",
            "ENABLE_NOTES": "true",  # 0.12's defaults, said out loud: the scenario needs them
            "ENABLE_MEMORIES": "true",
            "ENABLE_OLLAMA_API": "true",
            "OLLAMA_BASE_URL": ollama_url,
            "ENABLE_OPENAI_API": "true",
            "OPENAI_API_BASE_URL": openai_url,
            "OPENAI_API_KEY": "sk-standin",
            "RAG_EMBEDDING_ENGINE": "ollama",
            "RAG_EMBEDDING_MODEL": EMBEDDING_MODEL,
            "RAG_OLLAMA_BASE_URL": ollama_url,
            "ENABLE_VERSION_UPDATE_CHECK": "false",
            "SCARF_NO_ANALYTICS": "true",
            "DO_NOT_TRACK": "true",
            "ANONYMIZED_TELEMETRY": "false",
            **(extra_env or {}),
        }
        log = Path(data) / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [binary, "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            print(f"starting open-webui on {url} (log: {log}) ...", file=sys.stderr)
            _wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def record(url: str, ollama_url: str, openai_url: str, tool_url: str) -> None:
    values = {"ollama_url": ollama_url, "openai_url": openai_url, "tool_url": tool_url}
    with httpx.Client(base_url=url, timeout=120) as http:
        runner = Runner(http, values)
        exchanges = []
        for exchange in runner.run_all():
            print(f"{exchange.status} {exchange.step.name}", file=sys.stderr)
            exchanges.append(exchange.to_json())
        version = http.get("/api/version").json().get("version")
    recorded = normalise(exchanges, values)
    RECORDINGS.mkdir(parents=True, exist_ok=True)
    for old in RECORDINGS.glob("*.json"):
        old.unlink()
    for item in recorded:
        item["open_webui"] = version
        text = json.dumps(item, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
        recording_path(item["name"]).write_text(text, encoding="utf-8")
    print(f"{len(recorded)} recordings of Open WebUI {version} in {RECORDINGS}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open-webui", help="the open-webui executable to start")
    parser.add_argument("--url", help="a fresh, running Open WebUI instead")
    parser.add_argument("--ollama-url", help="its Ollama connection (with --url)")
    parser.add_argument("--openai-url", help="its OpenAI connection (with --url)")
    parser.add_argument("--tool-url", help="a running OpenAPI tool server (default: started)")
    args = parser.parse_args()
    if args.url:
        if not (args.ollama_url and args.openai_url):
            parser.error("--url needs --ollama-url and --openai-url")
        tools = None if args.tool_url else start_tool_server("openapi")
        try:
            tool_url = args.tool_url or (tools.url if tools else "")
            record(args.url.rstrip("/"), args.ollama_url, args.openai_url, tool_url)
        finally:
            if tools:
                tools.stop()
        return
    if not args.open_webui:
        parser.error("give --open-webui PATH, or --url with the providers' URLs")
    ollama = start_ollama(models=[OLLAMA_MODEL, EMBEDDING_MODEL], tokens=8)
    openai = start_openai(models=[OPENAI_MODEL], tokens=8)
    tools = start_tool_server("openapi")
    try:
        with open_webui(args.open_webui, ollama.url, openai.url) as url:
            record(url, ollama.url, openai.url, tools.url)
    finally:
        tools.stop()
        ollama.stop()
        openai.stop()


if __name__ == "__main__":
    main()
