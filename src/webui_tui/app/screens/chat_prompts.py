"""The chat screen's prompt library: `/` at the start of the composer lists the user's prompts
(Open WebUI's `/command` templates); the one chosen replaces the command with its text, the
clock and user variables filled in, and its own input variables asked in a form.

`PromptPicking` is mixed into `ChatScreen`. The list is loaded in a worker when the picker first
opens (a screen whose user never types `/` asks nothing), and again when it opens with a list
over `STALE_S` old or after a failed load.
"""

import time
from typing import ClassVar

from textual import on
from textual.screen import Screen
from textual.widgets import TextArea

from webui_daemon.schemas.auths import SessionUserResponse
from webui_daemon.schemas.prompts import Prompt
from webui_tui.app.screens.prompt_inputs import PromptInputsScreen, in_text_order
from webui_tui.app.widgets.composer import Composer, command_query
from webui_tui.app.widgets.notice import Problem
from webui_tui.app.widgets.prompt_picker import PromptPicker
from webui_tui.app.workers import work
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.templates import answer, expand_known, questions
from webui_tui.client.tui_extra import TuiClient

STALE_S = 30.0


class PromptPicking(Screen[None]):
    """Needs `client` and a `Composer` and a `PromptPicker` in the screen's widgets."""

    client: TuiClient
    # The loaded list (None until it first arrives), when, and why the last load failed.
    _prompts: list[Prompt] | None = None
    _prompts_at: float = 0.0
    _prompts_error: str | None = None
    _me: SessionUserResponse | None = None
    _picker_dismissed = False  # escape closed it: closed until the `/word` is left
    PICKER_KEYS: ClassVar[dict[str, int]] = {"up": -1, "down": 1}

    @property
    def picker(self) -> PromptPicker:
        return self.query_one(PromptPicker)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @work(exclusive=True, group="prompts")
    async def load_prompts(self) -> None:
        try:
            prompts = await self.client.list_prompts()
        except WebUIClientError as exc:
            self._prompts_error = exc.message  # a list read before is still shown
        else:
            self._prompts, self._prompts_error = prompts, None
        self._prompts_at = time.monotonic()
        self._show_picker(command_query(self.composer.text))

    def _prompts_stale(self) -> bool:
        if self._prompts is None or self._prompts_error is not None:
            return True
        return time.monotonic() - self._prompts_at > STALE_S

    def _show_picker(self, query: str | None) -> None:
        """Open, refresh or close the picker for the composer's `/query` (None: no command)."""
        picker = self.picker
        if query is None or self._picker_dismissed:
            picker.close()
        elif self._prompts is not None:
            picker.show_matches(self._prompts, query)
        elif self._prompts_error is not None:
            picker.show_note(f"Could not load the prompts: {self._prompts_error}")
        else:
            picker.show_note("Loading prompts…")
        self.composer.picking = picker.has_matches

    @on(TextArea.Changed, "#composer")
    def _composer_changed(self, _: TextArea.Changed) -> None:
        query = command_query(self.composer.text)
        if query is None:
            self._picker_dismissed = False
        opening = query is not None and not self.picker.is_open and not self._picker_dismissed
        if opening and self._prompts_stale():
            self.load_prompts()  # the list shown meanwhile is the one there is
        self._show_picker(query)

    def action_prompt_library(self) -> None:
        """The palette's "use a prompt": `/` in an empty composer opens the picker."""
        if self.composer.text.strip():
            self.notify("Empty the composer first: / picks a prompt at the start", timeout=4)
            self.composer.focus()
            return
        self.composer.put("/")

    def close_picker(self) -> bool:
        """Escape: close the picker, leaving the text; whether it was open."""
        if not self.picker.close():
            return False
        self._picker_dismissed = True
        self.composer.picking = False
        return True

    def on_composer_picker_key(self, event: Composer.PickerKey) -> None:
        event.stop()
        if event.key in self.PICKER_KEYS:
            self.picker.move(self.PICKER_KEYS[event.key])
            return
        prompt = self.picker.chosen
        self.close_picker()
        if prompt is not None:
            self.use_prompt(prompt)

    @work(exclusive=True, group="use-prompt")
    async def use_prompt(self, prompt: Prompt) -> None:
        """The prompt's text in the composer, its variables filled in (or asked for)."""
        try:
            self._me = self._me or await self.client.whoami()
        except WebUIClientError as exc:
            self.post_message(Problem(exc, f"using /{prompt.command}"))
            return
        text = expand_known(prompt.content, self._me)  # no clipboard in a terminal: asked
        self.composer.put(text)
        asked = in_text_order(text, questions(text))
        if not asked:
            return
        form = PromptInputsScreen(
            prompt.name or f"/{prompt.command}", asked, clipboard=self.app.clipboard or None
        )
        values = await self.app.push_screen_wait(form)
        if values is not None:
            text = answer(text, values)
        self.composer.put(text)
