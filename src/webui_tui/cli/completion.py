"""`webui completion bash|zsh|fish`, and what Tab offers from the daemon: model ids, chat ids
(titles beside them in zsh and fish) and knowledge base names.

The shell runs `webui` on every Tab. Candidates come from a daemon that is already running
(completion never starts one), within COMPLETE_TIMEOUT_S; any failure means no candidates, never
a message in the command line. zsh and fish use Typer's scripts; bash gets its own, which hands
over the command line up to the cursor as typed: bash's own words are cut at every ':', and
model ids (`llama3:8b`) hold one.
"""

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from webui_tui.client.api import WebUIClient

COMPLETE_VAR = "_WEBUI_COMPLETE"
COMPLETE_TIMEOUT_S = 1.0
MAX_CANDIDATES = 200  # a Tab that offers more helps nobody

Candidate = tuple[str, str]  # value, and what it is (shown by zsh and fish)


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


# --- candidates from the daemon ---


def _from_daemon(
    incomplete: str, work: "Callable[[WebUIClient], Awaitable[list[Candidate]]]"
) -> list[Candidate]:
    from webui_tui.client.connect import open_client
    from webui_tui.client.discovery import discover

    try:
        target = discover()
    except ValueError:
        return []

    async def main() -> list[Candidate]:
        from webui_tui.client.blocking import BlockingSocketTransport

        # On the socket, the standard library's HTTP: httpx's transport imports ~40 ms of code.
        quick = (
            BlockingSocketTransport(target.socket, COMPLETE_TIMEOUT_S) if target.socket else None
        )
        client = open_client(target, autostart=False, timeout=COMPLETE_TIMEOUT_S, transport=quick)
        async with client:
            return await work(client)

    try:
        found = asyncio.run(main())
    except Exception:  # not running, refused, too slow: a Tab shows nothing, and says nothing
        return []
    return [c for c in found if c[0].startswith(incomplete)][:MAX_CANDIDATES]


def model_ids(incomplete: str) -> list[Candidate]:
    """`-m/--model`: the models you may use."""

    async def work(client: "WebUIClient") -> list[Candidate]:
        return [(model.id, model.display_name) for model in await client.list_models()]

    return _from_daemon(incomplete, work)


def chat_ids(incomplete: str) -> list[Candidate]:
    """A chat: `last`, then the ids of your chats, most recently updated first."""

    async def work(client: "WebUIClient") -> list[Candidate]:
        chats = sorted(await client.list_chats(), key=lambda c: c.updated_at, reverse=True)
        found = [(chat.id, chat.title) for chat in chats]
        if chats:
            found.insert(0, ("last", f"the latest: {chats[0].title}"))
        return found

    return _from_daemon(incomplete, work)


def kb_names(incomplete: str) -> list[Candidate]:
    """A knowledge base, by name."""

    async def work(client: "WebUIClient") -> list[Candidate]:
        bases = await client.list_knowledge()
        return [(kb.name, kb.description or f"{kb.file_count} file(s)") for kb in bases]

    return _from_daemon(incomplete, work)


# --- the shells ---

BASH_SCRIPT = """\
# webui completion for bash: `source <(webui completion bash)`, or save it as
# ~/.local/share/bash-completion/completions/webui
%(complete_func)s() {
    local IFS=$'\\n'
    COMPREPLY=( $(env %(autocomplete_var)s=complete_bash \\
        _WEBUI_COMPLETE_LINE="${COMP_LINE:0:COMP_POINT}" \\
        _WEBUI_COMPLETE_BREAKS="$COMP_WORDBREAKS" "$1" 2>/dev/null) )
    return 0
}
complete -o default -F %(complete_func)s %(prog_name)s
"""

# Typer's protocol; sourced, it registers the function; autoloaded from the file `_webui` on
# $fpath, it completes from the first Tab on (Typer's own script only registers itself there,
# and completes from the second).
ZSH_SCRIPT = """\
#compdef %(prog_name)s
# webui completion for zsh: `webui completion zsh > ~/.zfunc/_webui` (with
# `fpath+=(~/.zfunc)` before `compinit` in ~/.zshrc), or `source <(webui completion zsh)`
%(complete_func)s() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" %(autocomplete_var)s=complete_zsh \\
    %(prog_name)s 2>/dev/null)
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  %(complete_func)s "$@"
else
  compdef %(complete_func)s %(prog_name)s
fi
"""

_BASH_SAFE = re.compile(r"[^\w./:@%+=,~-]")
_FILES = ("file", "dir")  # click's "let the shell complete paths" items


def _plain_help(text: str | None) -> str:
    # Typer's own formatting renders help with rich, ~0.1 s of imports on every Tab.
    return " ".join((text or "").split())


def install() -> None:
    """Register the completion classes: Typer's protocol, without rich, and bash's own script."""
    from typer._click.shell_completion import (
        CompletionItem,
        ShellComplete,
        add_completion_class,
        split_arg_string,
    )
    from typer._completion_classes import BashComplete, FishComplete, ZshComplete

    class Bash(BashComplete):
        source_template = BASH_SCRIPT

        def source(self) -> str:
            # Typer's runs bash to check its version first; 4.4 came out in 2016.
            return ShellComplete.source(self)

        def get_completion_args(self) -> tuple[list[str], str]:
            line = os.environ.get("_WEBUI_COMPLETE_LINE")
            if line is None:
                return super().get_completion_args()
            words = split_arg_string(line)
            incomplete = words.pop() if words and line and not line[-1].isspace() else ""
            return words[1:], incomplete

        def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
            items = super().get_completions(args, incomplete)
            if any(item.type in _FILES for item in items):
                return []  # nothing from us: `complete -o default` completes file names
            # Bash replaces only what follows the last ':' of the word: offer just that part.
            breaks = os.environ.get("_WEBUI_COMPLETE_BREAKS", "")
            word = incomplete.partition("=")[2] if incomplete.startswith("-") else incomplete
            if ":" in breaks and ":" in word:
                cut = word[: word.rfind(":") + 1]
                for item in items:
                    if item.value.startswith(cut):
                        item.value = item.value[len(cut) :]
            return items

        def format_completion(self, item: CompletionItem) -> str:
            return _BASH_SAFE.sub(lambda m: "\\" + m.group(), str(item.value))

    class Zsh(ZshComplete):
        source_template = ZSH_SCRIPT

        def source_vars(self) -> dict[str, Any]:
            # Named as its file on $fpath: autoloaded, the script's first run replaces the
            # stub with the function itself, so every Tab after the first calls it directly.
            return super().source_vars() | {
                "complete_func": self.func_name.removesuffix("_completion")
            }

        def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
            items = super().get_completions(args, incomplete)
            return [] if any(item.type in _FILES for item in items) else items  # -> _files

        def format_completion(self, item: CompletionItem) -> str:
            value, text = _zsh_escape(str(item.value)), _zsh_escape(_plain_help(item.help))
            return f'"{value}":"{text}"' if text else f'"{value}"'

    class Fish(FishComplete):
        def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
            items = super().get_completions(args, incomplete)
            return [] if any(item.type in _FILES for item in items) else items

        def format_completion(self, item: CompletionItem) -> str:
            text = _plain_help(item.help)
            return f"{item.value}\t{text}" if text else str(item.value)

    for cls, name in ((Bash, "bash"), (Zsh, "zsh"), (Fish, "fish")):
        add_completion_class(cls, name)


def _zsh_escape(text: str) -> str:
    # As Typer's, but for "'": the value sits in `_arguments '*: :(("value":"help"))'`.
    return (
        text.replace('"', '""')
        .replace("'", "'\\''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )


def completion(
    ctx: typer.Context,
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", show_default=False)],
) -> None:
    """Print the shell's completion script (Tab completes commands, options, models, chats).

    From a running daemon it completes model ids, chat ids and knowledge base names.
    bash: `source <(webui completion bash)` in ~/.bashrc; zsh: `webui completion zsh >
    ~/.zfunc/_webui` with `fpath+=(~/.zfunc)` before `compinit`; fish: `webui completion fish >
    ~/.config/fish/completions/webui.fish`.
    """
    from typer._click.shell_completion import get_completion_class

    install()
    comp_cls = get_completion_class(shell.value)
    assert comp_cls is not None
    root = ctx.find_root()
    prog = root.info_name or "webui"
    typer.echo(comp_cls(root.command, {}, prog, COMPLETE_VAR).source().strip("\n"))
