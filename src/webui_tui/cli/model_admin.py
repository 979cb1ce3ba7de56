"""`webui models pull|rm|ps`: Ollama models on the daemon's nodes (admins)."""

import sys
import time
from typing import Annotated, Any

import typer

from webui_tui.cli.output import JsonFlag, note, print_json, print_table, say
from webui_tui.cli.runtime import call, confirm_or_yes
from webui_tui.client.api import WebUIClient
from webui_tui.client.errors import NotFound, RequestFailed

NameArg = Annotated[
    str, typer.Argument(help="Ollama model name, e.g. llama3.2:3b.", show_default=False)
]
NodeOpt = Annotated[
    int | None,
    typer.Option("--node", help="The Ollama connection's index (see `webui connections list`)."),
]


class _Progress:
    """One line on a terminal's stderr, redrawn in place; each new status once in a pipe."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last = ""
        self._drawn = 0.0

    def show(self, progress: dict[str, Any]) -> None:
        status = str(progress.get("status") or "")
        total, done = progress.get("total"), progress.get("completed")
        if self._tty:
            if isinstance(total, int) and total > 0 and isinstance(done, int):
                status = f"{status} {done * 100 // total}% of {total / 1e6:.0f} MB"
            now = time.monotonic()
            if status != self._last and (now - self._drawn > 0.1 or "%" not in status):
                sys.stderr.write(f"\r\033[K{status}")
                sys.stderr.flush()
                self._last, self._drawn = status, now
        elif status and status != self._last:
            say(status)
            self._last = status

    def end(self) -> None:
        if self._tty and self._last:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


async def _check_node(client: WebUIClient, node: int | None) -> None:
    """A clear error for a node index that is not there (Open WebUI answers a bare 500)."""
    if node is None:
        return
    count = len((await client.ollama_config()).OLLAMA_BASE_URLS)
    if not 0 <= node < count:
        detail = f"no Ollama connection has index {node} ({count} configured)"
        detail += ": see `webui connections list`"
        raise NotFound(404, detail, "GET", "/ollama/config")


def pull(
    ctx: typer.Context, name: NameArg, node: NodeOpt = None, json_out: JsonFlag = False
) -> None:
    """Pull a model onto an Ollama node (admins; node 0 unless --node), showing progress."""
    shown = _Progress() if not json_out else None

    async def work(client: WebUIClient) -> str:
        await _check_node(client, node)
        last = ""
        async for progress in client.pull_model(name, node=node):
            last = str(progress.get("status") or last)
            if shown is not None:
                shown.show(progress)
        return last

    try:
        status = call(ctx, work)
    finally:
        if shown is not None:
            shown.end()
    if json_out:
        print_json({"model": name, "node": node or 0, "status": status})
    elif sys.stderr.isatty():
        note(f"pulled {name}" if status == "success" else f"{name}: {status}")


def remove(
    ctx: typer.Context,
    name: NameArg,
    node: NodeOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Delete a model from an Ollama node (admins; the first node that has it unless --node)."""
    where = "" if node is None else f" on node {node}"
    confirm_or_yes(yes, f"Delete {name}{where}? Pulling it again downloads it again.")

    async def work(client: WebUIClient) -> bool:
        await _check_node(client, node)
        try:
            return await client.remove_model(name, node=node)
        except RequestFailed as exc:
            if exc.status != 400 or node is not None:
                raise
            hint = f"no Ollama node has {name} (a preset? `webui models preset rm {name}`)"
            raise RequestFailed(exc.status, hint, exc.method, exc.path) from None

    deleted = call(ctx, work)
    if json_out:
        print_json({"model": name, "node": node, "deleted": deleted})
        return
    say(f"Deleted {name}{where}.")


def loaded(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """The models the Ollama nodes hold in memory now (admins)."""
    models = call(ctx, lambda client: client.loaded_models())
    if json_out:
        print_json(models)
        return
    rows = [
        [
            str(m.get("model") or m.get("name") or ""),
            ",".join(str(u) for u in m.get("urls") or []),
            f"{(m.get('size_vram') or 0) / 1e6:.0f} MB",
            str(m.get("expires_at") or "-"),
        ]
        for m in models
    ]
    print_table(["MODEL", "NODES", "VRAM", "UNTIL"], rows)
