"""The chat screen's prompt picker, driven with Pilot against a real daemon: `/` lists the
prompts made through the API, typing filters them, enter or tab puts the expanded template in
the composer, input variables are asked in a form, escape and cancel leave the text alone."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Input, TextArea

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import PASSWORD
from tests.tui_support import MODEL, Recording, make_app, until
from webui_tui.app.screens.chat import ChatScreen
from webui_tui.app.screens.prompt_inputs import PromptInputsScreen
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.message_view import MessageView
from webui_tui.app.widgets.prompt_picker import PromptPicker

PROMPTS = [
    ("summarize", "Summarize", "Summarize this for {{USER_NAME}}:"),
    ("tldr", "Summary in brief", "TL;DR, as of {{CURRENT_DATE}}:"),
    ("greet", "Greeting", "Hello, I am {{USER_NAME}} and today is {{CURRENT_DATE}}."),
    (
        "essay",
        "Essay",
        'Write about {{topic}} in a {{tone | select:options=["short","long"]:required}} way.',
    ),
    ("points", "Key points", "Give {{count | number:default=3}} points on:\n{{CLIPBOARD}}"),
]
LIST_PATH = "/api/v1/prompts/"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL], reply="Noted.")
    yield s
    s.stop()


def _seed(proc: DaemonProc) -> None:
    """The socket's own account (the admin) owns PROMPTS; they are private to it. Every user
    may use the stand-in's model."""
    with proc.unix_client(timeout=10) as c:
        for command, name, content in PROMPTS:
            form = {"command": command, "name": name, "content": content}
            r = c.post("/api/v1/prompts/create", json=form)
            assert r.status_code == 200, r.text


daemon = daemon_fixture(
    env=lambda standin: provider_env(
        ollama=[standin], ENABLE_TITLE_GENERATION="false", BYPASS_MODEL_ACCESS_CONTROL="true"
    ),
    tmp="tui-prompts",
    setup=_seed,
)


@pytest.fixture(scope="module")
def me(daemon: DaemonProc) -> dict[str, Any]:
    with daemon.unix_client(timeout=10) as c:
        return dict(c.get("/api/v1/auths/").json())


@pytest.fixture(scope="module")
def bob(daemon: DaemonProc) -> str:
    """A plain user with no prompts of his own and none shared with him: his token."""
    with daemon.unix_client(timeout=10) as c:
        form = {"name": "Bob", "email": "bob@example.com", "password": PASSWORD, "role": "user"}
        r = c.post("/api/v1/auths/add", json=form)
        assert r.status_code == 200, r.text
        return str(r.json()["token"])


def screen(app: Any) -> ChatScreen:
    assert isinstance(app.screen, ChatScreen)
    return app.screen


def picker(app: Any) -> PromptPicker:
    return screen(app).query_one(PromptPicker)


def composer(app: Any) -> Composer:
    return app.screen.query_one(Composer)  # type: ignore[no-any-return]


def listed(app: Any) -> list[str]:
    return [p.command for p in picker(app).matches] if picker(app).is_open else []


def note(app: Any) -> str:
    return str(picker(app).query_one("#picker-note").render())


async def started(pilot: Any) -> None:
    app = pilot.app
    await until(pilot, lambda: screen(app).model, what="the model list")
    composer(app).focus()


def today() -> str:
    return dt.datetime.now().astimezone().strftime("%Y-%m-%d")


async def test_slash_lists_the_prompts_and_typing_filters(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert not picker(app).is_open and screen(app)._prompts is None  # read when first asked
        await pilot.press("/")
        await until(pilot, lambda: listed(app), what="the picker")
        assert sorted(listed(app)) == sorted(c for c, _, _ in PROMPTS)
        assert composer(app).picking
        await pilot.press(*"sum")
        # /summarize by its command (listed first: it starts with "sum"), /tldr by its name
        await until(pilot, lambda: listed(app) == ["summarize", "tldr"])
        await pilot.press("m", "x")
        await until(pilot, lambda: not listed(app))
        assert picker(app).is_open and note(app) == "No prompt matches /summx"
        assert not composer(app).picking
        await pilot.press("backspace", "backspace", "backspace")
        await until(pilot, lambda: listed(app) == ["summarize", "tldr"])
        await pilot.press("space")  # a space ends the command: the picker goes
        await until(pilot, lambda: not picker(app).is_open)
        assert composer(app).text == "/su " and not composer(app).picking


async def test_enter_puts_the_expanded_prompt_in_the_composer(
    daemon: DaemonProc, tmp_path: Path, me: dict[str, Any]
) -> None:
    recording = Recording(daemon)
    app = make_app(daemon, tmp_path, transport=recording)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press(*"/gre")
        await until(pilot, lambda: listed(app) == ["greet"])
        await pilot.press("enter")
        expected = f"Hello, I am {me['name']} and today is {today()}."
        await until(pilot, lambda: composer(app).text == expected, what="the expanded prompt")
        assert "{{" not in composer(app).text
        assert not picker(app).is_open and not composer(app).picking
        assert app.focused is composer(app)
        assert composer(app).cursor_location == composer(app).document.end
        await pilot.pause(0.3)
        assert not recording.completions() and screen(app).chat is None  # nothing sent
        assert not list(app.screen.query(MessageView))
        # Then it is sent as usual, with enter.
        await pilot.press("enter")
        await until(pilot, lambda: recording.completions(), what="the message sent")
        sent = recording.completions()[0]["user_message"]["content"]
        assert sent == expected


async def test_down_and_tab_choose_and_the_list_loads_once(
    daemon: DaemonProc, tmp_path: Path, me: dict[str, Any]
) -> None:
    recording = Recording(daemon)
    app = make_app(daemon, tmp_path, transport=recording)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press(*"/sum")
        await until(pilot, lambda: listed(app) == ["summarize", "tldr"])
        await pilot.press("down", "down", "up")  # wraps round both ways: tldr
        assert picker(app).chosen is not None and picker(app).chosen.command == "tldr"
        await pilot.press("tab")
        await until(pilot, lambda: composer(app).text == f"TL;DR, as of {today()}:")
        assert app.focused is composer(app)
        await pilot.press("ctrl+a", "ctrl+k", "/")  # reopened within 30 s: the same list
        await until(pilot, lambda: len(listed(app)) == len(PROMPTS))
        loads = [p for m, p, _ in recording.sent if m == "GET" and p == LIST_PATH]
        assert len(loads) == 1


async def test_an_old_list_is_loaded_again_when_the_picker_opens(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("/")
        await until(pilot, lambda: listed(app), what="the list read")
        await pilot.press("backspace")
        with daemon.unix_client(timeout=10) as c:
            form = {"command": "fresh", "name": "Made later", "content": "New."}
            made = c.post("/api/v1/prompts/create", json=form).json()
        try:
            await pilot.press(*"/fre")
            await until(pilot, lambda: picker(app).is_open)
            await pilot.pause(0.3)
            assert listed(app) == []  # the list read a moment ago
            await pilot.press("escape", "backspace", "backspace", "backspace", "backspace")
            screen(app)._prompts_at -= 31  # the list is now over 30 s old
            await pilot.press(*"/fre")
            await until(pilot, lambda: listed(app) == ["fresh"], what="the list loaded again")
        finally:
            with daemon.unix_client(timeout=10) as c:
                c.delete(f"/api/v1/prompts/id/{made['id']}/delete")


async def test_input_variables_are_asked_in_a_form(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 30)) as pilot:
        await started(pilot)
        chat = screen(app)
        await pilot.press(*"/essay")
        await until(pilot, lambda: listed(app) == ["essay"])
        await pilot.press("enter")
        form = await until(pilot, lambda: isinstance(app.screen, PromptInputsScreen) and app.screen)
        assert [name for name, _, _ in form.fields] == ["topic", "tone"]
        await pilot.press(*"quokkas")
        await pilot.press("ctrl+s")  # tone is required: the form stays and says so
        await pilot.pause(0.1)
        assert app.screen is form
        assert "tone is required" in str(form.query_one("#form-error").render())
        assert app.focused is form.fields[1][2]
        await pilot.press("enter")  # opens the choice: (none), short, long
        await pilot.pause(0.2)
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: form.fields[1][2].value == "long")  # type: ignore[attr-defined]
        await pilot.click("#submit")
        await until(pilot, lambda: app.screen is chat)
        await until(pilot, lambda: composer(app).text == "Write about quokkas in a long way.")
        assert app.focused is composer(app)
        assert composer(app).cursor_location == composer(app).document.end
        assert chat.chat is None  # nothing sent


async def test_defaults_and_the_clipboard_are_offered(daemon: DaemonProc, tmp_path: Path) -> None:
    """No clipboard to read in a terminal: {{CLIPBOARD}} is asked, offering what the TUI copied."""
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 30)) as pilot:
        await started(pilot)
        app.copy_to_clipboard("a copied answer")  # what c on a message does
        await pilot.press(*"/points", "enter")
        form = await until(pilot, lambda: isinstance(app.screen, PromptInputsScreen) and app.screen)
        assert [name for name, _, _ in form.fields] == ["count", "CLIPBOARD"]
        count, pasted = form.fields[0][2], form.fields[1][2]
        assert isinstance(count, Input) and count.value == "3"
        assert isinstance(pasted, TextArea) and pasted.text == "a copied answer"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is not form)
        assert composer(app).text == "Give 3 points on:\na copied answer"


async def test_cancel_leaves_the_unfilled_template(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 30)) as pilot:
        await started(pilot)
        chat = screen(app)
        await pilot.press(*"/essay", "enter")
        await until(pilot, lambda: isinstance(app.screen, PromptInputsScreen))
        await pilot.press(*"ignored", "escape")
        await until(pilot, lambda: app.screen is chat)
        assert composer(app).text == PROMPTS[3][2]
        assert app.focused is composer(app)
        assert not picker(app).is_open


async def test_escape_closes_the_picker_and_keeps_the_text(
    daemon: DaemonProc, tmp_path: Path
) -> None:
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press(*"/gr")
        await until(pilot, lambda: listed(app) == ["greet"])
        await pilot.press("escape")
        await until(pilot, lambda: not picker(app).is_open)
        assert composer(app).text == "/gr" and app.focused is composer(app)
        await pilot.press("e")  # closed until the command is left
        await pilot.pause(0.1)
        assert not picker(app).is_open and not composer(app).picking
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        assert composer(app).text == ""
        await pilot.press("/")
        await until(pilot, lambda: len(listed(app)) == len(PROMPTS))


async def test_a_user_without_prompts_is_told_and_types_on(
    daemon: DaemonProc, tmp_path: Path, bob: str
) -> None:
    recording = Recording(daemon)
    app = make_app(daemon, tmp_path, transport=recording, token=bob)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("/")
        await until(pilot, lambda: screen(app)._prompts == [], what="the (empty) list read")
        assert picker(app).is_open
        assert note(app) == "No prompts yet" and not composer(app).picking
        await pilot.press(*"hi")
        assert note(app) == "No prompts yet"
        await pilot.press("enter")  # sent as typed
        await until(pilot, lambda: recording.completions(), what="the message sent")
        assert recording.completions()[0]["user_message"]["content"] == "/hi"
        await until(pilot, lambda: not picker(app).is_open)


class NoPrompts(Recording):
    """A server without the prompt library: its list answers 404."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == LIST_PATH:
            return httpx.Response(404, json={"detail": "Not Found"}, request=request)
        return await super().handle_async_request(request)


async def test_a_failed_load_is_one_line(daemon: DaemonProc, tmp_path: Path) -> None:
    app = make_app(daemon, tmp_path, transport=NoPrompts(daemon))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press(*"/x")
        await until(pilot, lambda: screen(app)._prompts_error is not None, what="the failure")
        assert picker(app).is_open
        assert note(app).startswith("Could not load the prompts: ")
        assert not app._notifications  # said there, not as a notice
        assert composer(app).text == "/x" and not composer(app).picking
