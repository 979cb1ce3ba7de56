"""The TUI's own settings file: theme and keybinding overrides (`tui.toml` in the config dir).

    theme = "textual-light"
    [keys]
    "app.quit" = "ctrl+q,f10"   # binding id = key(s), comma-separated

Missing or unreadable files mean the defaults; the file is rewritten only when the Settings
screen saves a theme.
"""

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


def config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("webui")) / "tui.toml"


@dataclass
class TuiConfig:
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> "TuiConfig":
        path = path or config_path()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            return cls(path=path)
        theme = data.get("theme")
        keys = data.get("keys")
        return cls(
            theme=theme if isinstance(theme, str) else None,
            keys={str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {},
            path=path,
        )

    def save(self) -> Path:
        path = self.path or config_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        if self.theme:
            lines.append(f"theme = {_quote(self.theme)}")
        if self.keys:
            lines += ["", "[keys]"]
            lines += [f"{_quote(k)} = {_quote(v)}" for k, v in sorted(self.keys.items())]
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
