"""Start and stop a real daemon process (uvicorn on a temporary socket and a loopback port)."""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DaemonProc:
    socket_path: Path
    data_dir: Path
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def unix_client(self, **kwargs: object) -> httpx.Client:
        transport = httpx.HTTPTransport(uds=str(self.socket_path))
        return httpx.Client(transport=transport, base_url="http://webui", **kwargs)  # type: ignore[arg-type]

    def tcp_client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, **kwargs)  # type: ignore[arg-type]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return int(self.proc.returncode)


def daemon_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBUI_", "DATA_DIR"))}
    # Keep the embedding model setting from CI; everything else starts from defaults.
    if "WEBUI_EMBEDDING_MODEL_PATH" in os.environ:
        env["WEBUI_EMBEDDING_MODEL_PATH"] = os.environ["WEBUI_EMBEDDING_MODEL_PATH"]
    env["WEBUI_SECRET_KEY"] = "test-secret-key-for-webui-tests-0123456789"
    env.update(extra or {})
    return env


def start_daemon(
    tmp: Path,
    *,
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    port: int | None = None,
    socket_path: Path | None = None,
    data_dir: Path | None = None,
    timeout: float = 20,
    user: str | None = None,
) -> DaemonProc:
    """Run `python -m webui_daemon` and wait (bounded) until /health answers on the socket."""
    socket_path = socket_path or tmp / "webui.sock"
    data_dir = data_dir or tmp / "data"
    port = port or free_port()
    log_path = tmp / f"daemon-{port}.log"
    full_env = daemon_env(env)
    cmd = [
        sys.executable,
        "-m",
        "webui_daemon",
        "--socket",
        str(socket_path),
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *(args or []),
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    daemon = DaemonProc(socket_path, data_dir, port, proc, log_path, full_env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited with {proc.returncode}:\n{daemon.log()}")
        try:
            with daemon.unix_client(timeout=1) as c:
                if c.get("/health").status_code == 200:
                    return daemon
        except (httpx.TransportError, OSError):
            pass
        time.sleep(0.05)
    daemon.stop(signal.SIGKILL)
    raise RuntimeError(f"daemon did not answer within {timeout}s:\n{daemon.log()}")
