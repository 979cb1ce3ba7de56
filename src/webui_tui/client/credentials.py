"""Tokens and API keys for URLs: the system keyring, else a 0600 file (said once, on stderr)."""

import contextlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from webui_tui.client.discovery import Target

SERVICE = "webui"
Where = Literal["keyring", "file"]


def default_credentials_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("webui")) / "credentials.json"


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


class CredentialStore:
    """Per-URL secrets. The keyring is imported only here, on first use: it is slow to import."""

    def __init__(
        self, file: Path | None = None, notice: Callable[[str], None] | None = None
    ) -> None:
        self.file = file or default_credentials_file()
        self._notice = notice or _stderr

    def get(self, url: str) -> str | None:
        ok, value = _keyring("get_password", url)
        if ok and value:
            return str(value)
        return self._read().get(url)

    def set(self, url: str, token: str) -> Where:
        """Store the token; returns where it went."""
        ok, _ = _keyring("set_password", url, token)
        if ok:
            self._forget_in_file(url)  # a stale copy from a day without keyring
            return "keyring"
        tokens = self._read()
        tokens[url] = token
        first_time = not self.file.exists()
        self._write(tokens)
        if first_time:
            self._notice(
                f"webui: no system keyring works here; keeping tokens in {self.file} (mode 0600)"
            )
        return "file"

    def delete(self, url: str) -> bool:
        """Forget the token for `url`; True when there was one."""
        _, held = _keyring("get_password", url)
        if held:
            _keyring("delete_password", url)
        return self._forget_in_file(url) or bool(held)

    def _forget_in_file(self, url: str) -> bool:
        tokens = self._read()
        if url not in tokens:
            return False
        del tokens[url]
        self._write(tokens)
        return True

    def _read(self) -> dict[str, str]:
        try:
            data: Any = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return {}
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, dict):
            return {}
        return {str(k): str(v) for k, v in tokens.items()}

    def _write(self, tokens: dict[str, str]) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        # Created 0600 from the start: the secret is never readable by others, not even briefly.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump({"version": 1, "tokens": tokens}, handle, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _keyring(operation: str, url: str, *args: str) -> tuple[bool, object]:
    """Call one keyring function; (False, None) when no backend works."""
    try:
        import keyring
    except ImportError:
        return False, None
    try:
        return True, getattr(keyring, operation)(SERVICE, url, *args)
    except keyring.errors.PasswordDeleteError:
        return True, None  # nothing stored: the keyring itself works
    except Exception:
        # NoKeyringError (the fail backend), a locked or absent Secret Service on a headless
        # box (D-Bus errors of many kinds): all mean "use the file".
        return False, None


def resolve_token(
    target: Target, store: CredentialStore | None = None, env: Mapping[str, str] | None = None
) -> str | None:
    """`WEBUI_TOKEN` first; then, for a URL, the stored one. The socket needs none."""
    env = os.environ if env is None else env
    if env.get("WEBUI_TOKEN", "").strip():
        return env["WEBUI_TOKEN"].strip()
    if target.url is None:
        return None
    return (store or CredentialStore()).get(target.url)
