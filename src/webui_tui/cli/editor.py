"""Text edited in the person's own editor ($VISUAL, else $EDITOR, else vi), as git does it."""

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from webui_tui.cli.runtime import UsageProblem


def editor_command() -> list[str]:
    chosen = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        return shlex.split(chosen)
    except ValueError:
        raise UsageProblem(
            f"cannot read the editor command {chosen!r} ($VISUAL / $EDITOR)"
        ) from None


def edit_text(initial: str, *, suffix: str = ".md") -> str:
    """What the file holds after the editor exits (started with `initial`); an editor that
    fails leaves everything as it was."""
    command = editor_command()
    with tempfile.TemporaryDirectory(prefix="webui-") as folder:
        path = Path(folder) / f"edit{suffix}"
        path.write_text(initial, encoding="utf-8")
        try:
            done = subprocess.run([*command, str(path)], check=False)
        except OSError as exc:
            raise UsageProblem(f"cannot start the editor {command[0]!r}: {exc.strerror}") from None
        if done.returncode != 0:
            raise UsageProblem(
                f"the editor {command[0]!r} exited with {done.returncode}; nothing saved"
            )
        return path.read_text(encoding="utf-8")
