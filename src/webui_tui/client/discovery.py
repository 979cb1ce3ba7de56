"""Where the daemon is: `WEBUI_URL`, else `WEBUI_SOCKET`, else the per-user or shared socket."""

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

# Where a `webui serve --shared` daemon listens (the daemon's settings use the same path).
SHARED_SOCKET = Path("/run/webui/webui.sock")

Source = Literal["WEBUI_URL", "WEBUI_SOCKET", "default", "shared", "argument"]


@dataclass(frozen=True, slots=True)
class Target:
    """One server to talk to: a Unix socket (no token needed) or a URL (token needed)."""

    source: Source
    socket: Path | None = None
    url: str | None = None

    @property
    def is_socket(self) -> bool:
        return self.socket is not None

    @property
    def address(self) -> str:
        """The socket path or the URL, for people."""
        return str(self.socket) if self.socket is not None else str(self.url)

    @property
    def may_autostart(self) -> bool:
        # Only our own per-user socket: a URL, an explicit socket or the shared daemon belong
        # to someone who chose where and how they run.
        return self.source == "default"


def default_socket_path() -> Path:
    """The per-user socket; must match `webui_daemon.settings.default_socket_path`."""
    import platformdirs

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root, cron, some SSH sessions);
        # its fallback is the one the daemon uses too.
        warnings.simplefilter("ignore")
        return Path(platformdirs.user_runtime_dir("webui")) / "webui.sock"


def normalize_url(url: str) -> str:
    """`host:8080/` → `http://host:8080`: one spelling per server, used as the credential key."""
    text = url.strip()
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def url_target(url: str, source: Source = "argument") -> Target:
    return Target(source=source, url=normalize_url(url))


def discover(env: Mapping[str, str] | None = None, shared: Path = SHARED_SOCKET) -> Target:
    """The server this user means; raises ValueError for a malformed `WEBUI_URL`."""
    env = os.environ if env is None else env
    if env.get("WEBUI_URL", "").strip():
        return url_target(env["WEBUI_URL"], "WEBUI_URL")
    if env.get("WEBUI_SOCKET", "").strip():
        return Target(source="WEBUI_SOCKET", socket=Path(env["WEBUI_SOCKET"]).expanduser())
    own = default_socket_path()
    if not own.exists() and shared.exists():
        return Target(source="shared", socket=shared)
    return Target(source="default", socket=own)
