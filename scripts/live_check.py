"""Run the workspace commands (prompts, notes, memories, images, tools) against a real Open WebUI
and print one line per command (not run in CI: the install is 7 GB).

    python scripts/live_check.py --open-webui /work/owui-venv/bin/open-webui [--tui]

It starts stand-in providers and a test tool server (this process, loopback), then `open-webui
serve` offline with a throwaway data folder (scripts/record_contract.py), signs up an admin and
adds a user, and runs the real `webui` command line as a subprocess for each check, with
WEBUI_URL + WEBUI_TOKEN. What reached the model (the filled prompt, the note, the memories, the
image) is read from the stand-in. `--tui` also drives the TUI (Pilot) on the same server: the
memories screen (F6), the `/` prompt picker and an image attached by its pasted path.
Everything it started is stopped at the end.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from record_contract import open_webui  # noqa: E402
from tests.contract.scenario import (  # noqa: E402
    ADMIN,
    EMBEDDING_MODEL,
    OLLAMA_MODEL,
    OPENAI_MODEL,
    PHOTO,
    USER,
)
from tests.standins import StandIn, start_ollama, start_openai  # noqa: E402
from tests.tools.tool_procs import start_tool_server  # noqa: E402


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def line(self) -> str:
        text = (self.err.strip() or self.out.strip()).splitlines()
        return text[0][:150] if text else ""


@dataclass
class Result:
    label: str
    ok: bool
    said: str


class Live:
    def __init__(self, url: str, ollama: StandIn, openai: StandIn, home: Path) -> None:
        self.url = url
        self.ollama = ollama
        self.openai = openai
        self.home = home
        self.tokens: dict[str, str] = {}
        self.results: list[Result] = []
        self.mark = (0, 0)

    def run(self, *args: str, who: str = "admin", stdin: str = "") -> Ran:
        env = {
            **os.environ,
            "WEBUI_URL": self.url,
            "WEBUI_TOKEN": self.tokens[who],
            "XDG_CONFIG_HOME": str(self.home),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "PYTHONPATH": str(ROOT / "src"),
            "EDITOR": "true",
            "NO_COLOR": "1",
        }
        env.pop("WEBUI_SOCKET", None)
        done = subprocess.run(
            [sys.executable, "-m", "webui_tui.cli.main", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )
        return Ran(done.returncode, done.stdout, done.stderr)

    def check(
        self,
        label: str,
        *args: str,
        who: str = "admin",
        stdin: str = "",
        expect: Callable[[Ran], bool] | None = None,
    ) -> Ran:
        self.mark = (len(self.ollama.requests), len(self.openai.requests))
        ran = self.run(*args, who=who, stdin=stdin)
        ok = expect(ran) if expect else ran.code == 0
        ok = ok and "Traceback" not in ran.err
        self.results.append(Result(label, ok, f"exit {ran.code}: {ran.line()}"))
        mark = "ok  " if ok else "FAIL"
        print(f"{mark} {label}  [exit {ran.code}] {ran.line()}", flush=True)
        if not ok and ran.err.strip():
            print("     " + ran.err.strip().replace("\n", "\n     ")[:2000], flush=True)
        return ran

    def model_saw(self, label: str, predicate: Callable[[dict[str, Any]], bool]) -> None:
        """Whether a model request of the last check (the answer, not a title or tags task,
        which come after it) satisfies `predicate`."""
        later = self.ollama.requests[self.mark[0] :] + self.openai.requests[self.mark[1] :]
        asked = [
            r.body or {}
            for r in later
            if r.path.endswith(("/api/chat", "/chat/completions")) and isinstance(r.body, dict)
        ]
        ok = any(predicate(body) for body in asked)
        said = f"{len(asked)} request(s); first: {_text(asked[0])[:250] if asked else '-'}"
        if not ok:
            seen = [(r.method, r.path, sorted(r.body or {})) for r in later]
            said += f"; the stand-ins saw {seen}"[:600]
        self.results.append(Result(label, ok, said))
        print(f"{'ok  ' if ok else 'FAIL'} {label}  {said}", flush=True)


def _text(body: dict[str, Any]) -> str:
    return json.dumps(body.get("messages", []), ensure_ascii=False)


def _has_image(body: dict[str, Any]) -> bool:
    """Ollama's wire: a message with `images` (base64); OpenAI's: an image_url part."""
    messages = body.get("messages") or []
    with_images = any(isinstance(m, dict) and m.get("images") for m in messages)
    return with_images or "data:image/png;base64" in _text(body)


def sign_up(url: str) -> dict[str, str]:
    with httpx.Client(base_url=url, timeout=60) as http:
        admin = http.post("/api/v1/auths/signup", json=ADMIN).json()
        headers = {"Authorization": f"Bearer {admin['token']}"}
        http.post("/api/v1/auths/add", json={**USER, "role": "user"}, headers=headers)
        user = http.post(
            "/api/v1/auths/signin", json={"email": USER["email"], "password": USER["password"]}
        ).json()
    return {"admin": admin["token"], "user": user["token"]}


def prompts(live: Live, tmp: Path) -> None:
    template = tmp / "summarize.md"
    template.write_text('Summarise {{text}} in {{words | number:default="20"}} words.', "utf-8")
    live.check(
        "prompts create",
        *("prompts", "create", "summarize", "-n", "Summarise", "-f", str(template), "-t", "w"),
    )
    live.check(
        "prompts create (taken)",
        *("prompts", "create", "summarize", "-f", str(template)),
        expect=lambda r: r.code != 0 and len(r.err.strip().splitlines()) == 1,
    )
    live.check("prompts list", "prompts", "list", expect=lambda r: "/summarize" in r.out)
    live.check("prompts list --json", "prompts", "list", "--json")
    live.check("prompts show", "prompts", "show", "summarize", expect=lambda r: "{{text}}" in r.out)
    plain = 'Summarise {{text}} in {{words | number:default="20"}} plain words.'
    template.write_text(plain, encoding="utf-8")
    live.check("prompts edit -f", "prompts", "edit", "summarize", "-f", str(template))
    live.check(
        "prompts show (user, not shared)",
        *("prompts", "show", "summarize"),
        who="user",
        expect=lambda r: r.code != 0 and len(r.err.strip().splitlines()) == 1,
    )
    live.check("prompts access --user", "prompts", "access", "summarize", "--user", USER["email"])
    live.check("prompts show (user, shared)", "prompts", "show", "summarize", who="user")
    mine = tmp / "mine.md"
    mine.write_text("Bob's version.", encoding="utf-8")
    live.check(
        "prompts edit (user, read only)",
        *("prompts", "edit", "summarize", "-f", str(mine)),
        who="user",
        expect=lambda r: r.code != 0 and len(r.err.strip().splitlines()) == 1,
    )
    exported = tmp / "prompts.json"
    live.check("prompts export -o", "prompts", "export", "-o", str(exported))
    live.check(
        "chat -p summarize --var",
        *("chat", "-p", "summarize", "--var", "text=the sky", "--var", "words=9"),
    )
    live.model_saw("  … the model got the filled prompt", lambda b: "sky in 9 plain" in _text(b))
    live.check(
        "chat -p (default of a variable)",
        *("chat", "--temporary", "-p", "summarize", "--var", "text=the sea"),
    )
    live.model_saw("  … the default 20 filled in", lambda b: "the sea in 20 plain" in _text(b))
    live.check("prompts rm --yes", "prompts", "rm", "summarize", "--yes")
    live.check("prompts import", "prompts", "import", str(exported))
    live.check("prompts import --replace", "prompts", "import", str(exported), "--replace")
    live.check("prompts rm (again)", "prompts", "rm", "/summarize", "--yes")


def notes(live: Live) -> None:
    live.check("notes new (piped)", "notes", "new", "Ideas", stdin="# Ideas\n- the sea is teal\n")
    live.check("notes list", "notes", "list", expect=lambda r: "Ideas" in r.out)
    live.check("notes show", "notes", "show", "Ideas", expect=lambda r: "teal" in r.out)
    green = "# Ideas\n- the sea is green\n"
    live.check("notes edit (piped)", "notes", "edit", "Ideas", stdin=green)
    live.check("notes edit --title", "notes", "edit", "Ideas", "--title", "Sea ideas", stdin="")
    live.check(
        "notes show (user, not shared)",
        *("notes", "show", "Sea ideas"),
        who="user",
        expect=lambda r: r.code != 0 and len(r.err.strip().splitlines()) == 1,
    )
    live.check("notes access --user", "notes", "access", "Sea ideas", "--user", USER["email"])
    live.check(
        "notes show (user, shared)",
        *("notes", "show", "Sea ideas"),
        who="user",
        expect=lambda r: "green" in r.out,
    )
    live.check(
        "notes access --json",
        *("notes", "access", "Sea ideas", "--json"),
        expect=lambda r: json.loads(r.out)["access"][0]["access"] == "read",
    )
    live.check(
        "notes access --none",
        *("notes", "access", "Sea ideas", "--user", USER["email"], "--none"),
    )
    live.check(
        "notes show (user, unshared)",
        *("notes", "show", "Sea ideas"),
        who="user",
        expect=lambda r: r.code != 0 and len(r.err.strip().splitlines()) == 1,
    )
    live.check("chat --note", "chat", "--note", "Sea ideas", "What colour is the sea?")
    live.model_saw("  … the model got the note", lambda b: "the sea is green" in _text(b))
    live.check("notes rm --yes", "notes", "rm", "Sea ideas", "--yes")


def memories(live: Live) -> None:
    live.check("memories list (none)", "memories", "list")
    live.check("memories search (none)", "memories", "search", "food")
    live.check("memories add --user", "memories", "add", "--user", "I am vegetarian.")
    live.check("memories add --path", "memories", "add", "--path", "work", "Thesis about light.")
    listed = live.check("memories list --json", "memories", "list", "--json")
    first = json.loads(listed.out or "[]")[0]["id"] if listed.code == 0 else "0000"
    live.check("memories search", "memories", "search", "what", "do", "I", "eat")
    live.check("memories edit", "memories", "edit", first[:8], "I am vegan.")
    live.check("chat --memory", "chat", "--memory", "What should I cook tonight?")
    live.model_saw("  … the model got the memory", lambda b: "vegan" in _text(b))
    live.check("chat --no-memory", "chat", "--no-memory", "What should I cook tonight?")
    live.model_saw("  … and not with --no-memory", lambda b: "vegan" not in _text(b))
    live.check("chat (memory setting unset)", "chat", "What should I cook?")
    live.check("memories rm", "memories", "rm", first[:8])
    live.check("memories list (user: own only)", "memories", "list", "--json", who="user")
    live.check("memories clear --yes", "memories", "clear", "--yes")


def images(live: Live) -> None:
    live.check("chat -f photo.png", "chat", "-f", str(PHOTO), "What is in this picture?")
    live.model_saw("  … the model got the image", _has_image)
    live.check("chat -c (after an image)", "chat", "-c", "And the colour?")
    live.check(
        "chat --temporary -f photo.png",
        *("chat", "--temporary", "-f", str(PHOTO), "What is it?"),
    )
    live.model_saw("  … the image again", _has_image)


def tools(live: Live, server_url: str, mcp_url: str) -> None:
    live.check("tools list (none)", "tools", "list")
    live.check(
        "tools add URL --id --name",
        *("tools", "add", server_url, "--id", "weather", "--name", "Weather", "--everyone"),
    )
    live.check(
        "tools add (unreachable)",
        *("tools", "add", "http://127.0.0.1:9"),
        expect=lambda r: r.code != 0 and len(r.err.strip().splitlines()) == 1,
    )
    live.check("tools list", "tools", "list", expect=lambda r: "weather" in r.out)
    live.check(
        "tools test (OpenAPI: 0.12 lists MCP servers' functions only)",
        *("tools", "test", "server:weather"),
        expect=lambda r: r.code != 0 and "MCP tool servers only" in r.err,
    )
    live.ollama.set(use_tools=True)
    live.check("chat --tool", "chat", "--tool", "server:weather", "Weather in Oslo?")
    live.model_saw("  … the model was offered the tool", lambda b: "get_forecast" in json.dumps(b))
    live.ollama.set(use_tools=False)
    live.check("tools add --mcp", "tools", "add", mcp_url, "--mcp", "--id", "files")
    live.check("tools test (MCP)", "tools", "test", "server:mcp:files")
    live.check("tools rm (MCP)", "tools", "rm", "server:mcp:files")
    live.check("tools list (user)", "tools", "list", who="user")
    live.check("tools rm", "tools", "rm", "server:weather")
    live.check(
        "tools rm (user)",
        *("tools", "rm", "server:weather"),
        who="user",
        expect=lambda r: r.code != 0 and len(r.err.strip().splitlines()) == 1,
    )


async def tui(live: Live, tmp: Path) -> None:
    """The memories screen (F6), the `/` prompt picker and an image by pasted path, on the
    live server (Pilot)."""
    from tests.tui_support import until
    from textual import events
    from textual.widgets import DataTable

    from webui_tui.app.app import WebUIApp
    from webui_tui.app.config import TuiConfig
    from webui_tui.app.screens.memories import MemoriesScreen
    from webui_tui.client.discovery import Target
    from webui_tui.client.tui_extra import TuiClient

    live.run("memories", "add", "--user", "I like tea.")
    template = tmp / "greet.md"
    template.write_text("Say hello to {{name}}.", encoding="utf-8")
    live.run("prompts", "create", "greet", "-f", str(template))

    def app() -> WebUIApp:
        client = TuiClient(Target(source="WEBUI_URL", url=live.url), token=live.tokens["admin"])
        return WebUIApp(client, config=TuiConfig(path=tmp / "tui.toml"), start_mode="chat")

    def record(label: str, ok: bool, said: str = "") -> None:
        live.results.append(Result(label, ok, said))
        print(f"{'ok  ' if ok else 'FAIL'} {label}  {said}", flush=True)

    tui_app = app()
    async with tui_app.run_test(size=(110, 32)) as pilot:
        await until(pilot, lambda: tui_app.focused is not None, 30, "the chat screen")
        await pilot.press("f6")
        try:
            await until(pilot, lambda: isinstance(tui_app.screen, MemoriesScreen), 10)
            table = tui_app.screen.query_one("#memories", DataTable)
            await until(pilot, lambda: table.row_count == 1, 15, "the memory listed")
            record("TUI F6 memories screen", True, str(table.get_row_at(0)))
        except AssertionError as exc:
            record("TUI F6 memories screen", False, str(exc))
        await pilot.press("f2")
        try:
            from webui_tui.app.screens.chat import ChatScreen
            from webui_tui.app.widgets.composer import Composer
            from webui_tui.app.widgets.prompt_picker import PromptPicker

            chat = await until(
                pilot, lambda: isinstance(tui_app.screen, ChatScreen) and tui_app.screen, 10
            )
            await until(pilot, lambda: chat.model, 20, "the model list")
            chat.query_one(Composer).focus()
            await pilot.press("/", *"gre")
            picker = chat.query_one(PromptPicker)
            await until(pilot, lambda: picker.is_open and picker.matches, 15, "the picker")
            record("TUI / prompt picker", True, f"lists {[p.command for p in picker.matches]}")
            await pilot.press("escape")
            composer = chat.query_one(Composer)
            composer.text = ""
            await pilot.pause(0.2)
            live.mark = (len(live.ollama.requests), len(live.openai.requests))
            composer.post_message(events.Paste(f"'{PHOTO}'"))
            await until(pilot, lambda: chat.attached and chat.attached[0].ready, 20, "attached")
            composer.focus()
            await pilot.press(*"what is this?", "enter")
            await until(pilot, lambda: chat.chat is not None and not chat.streaming, 30, "answer")
            await pilot.pause(1.0)
            live.model_saw("TUI image by pasted path, sent", _has_image)
        except Exception as exc:  # a live check reports, it does not stop
            record("TUI / prompt picker", False, f"{type(exc).__name__}: {exc}")
    live.run("prompts", "rm", "greet", "--yes")
    live.run("memories", "clear", "--yes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open-webui", required=True, help="the open-webui executable")
    parser.add_argument("--tui", action="store_true", help="drive the TUI too")
    args = parser.parse_args()
    ollama = start_ollama(models=[OLLAMA_MODEL, EMBEDDING_MODEL], tokens=8)
    openai = start_openai(models=[OPENAI_MODEL], tokens=8)
    tool_server = start_tool_server("openapi")
    mcp_server = start_tool_server("mcp-http")
    try:
        with tempfile.TemporaryDirectory(prefix="webui-live-") as tmp_name:
            tmp = Path(tmp_name)
            with open_webui(args.open_webui, ollama.url, openai.url) as url:
                live = Live(url, ollama, openai, tmp)
                live.tokens = sign_up(url)
                live.check("status", "status")
                for part in (
                    lambda: prompts(live, tmp),
                    lambda: notes(live),
                    lambda: memories(live),
                    lambda: images(live),
                    lambda: tools(live, tool_server.url, mcp_server.url),
                ):
                    part()
                if args.tui:
                    asyncio.run(tui(live, tmp))
            failed = [r for r in live.results if not r.ok]
            print(f"\n{len(live.results) - len(failed)} of {len(live.results)} checks ok")
            for r in failed:
                print(f"FAILED {r.label}: {r.said}")
    finally:
        tool_server.stop()
        mcp_server.stop()
        ollama.stop()
        openai.stop()


if __name__ == "__main__":
    main()
