"""The chat screen's attachments: knowledge bases and files for the next message (ctrl+b),
sent as the completion's `files` items as `webui chat --kb/--file` sends them.

`Attaching` is mixed into `ChatScreen`. Files are uploaded when attached (the server reads
them meanwhile, as the web UI does); a message is not sent while one is still being read.
The list is cleared once a message has gone with it.
"""

import contextlib
from pathlib import Path
from typing import Any

from textual.screen import Screen

from webui_daemon.schemas.images import IMAGE_SUFFIXES, sniff
from webui_tui.app.screens.attach import AttachChoice, AttachScreen
from webui_tui.app.widgets.attachments import Attachment, Attachments
from webui_tui.app.widgets.composer import Composer
from webui_tui.app.widgets.notice import Problem
from webui_tui.app.workers import work
from webui_tui.client.errors import WebUIClientError
from webui_tui.client.tui_extra import TuiClient


class Attaching(Screen[None]):
    """Needs `client` and an `Attachments` widget in the screen."""

    client: TuiClient
    _attached: list[Attachment] | None = None

    @property
    def attached(self) -> list[Attachment]:
        if self._attached is None:
            self._attached = []
        return self._attached

    def files_items(self) -> list[dict[str, Any]] | None:
        """The `files` of the next message, images among them (None while a file is still
        being read)."""
        if any(not a.ready for a in self.attached):
            return None
        return [a.item() for a in self.attached]

    def clear_attachments(self) -> None:
        self.attached.clear()
        self._show_attachments()

    def _show_attachments(self) -> None:
        self.query_one(Attachments).show(self.attached)

    def on_attachments_remove_asked(self, event: Attachments.RemoveAsked) -> None:
        if 0 <= event.index < len(self.attached):
            gone = self.attached.pop(event.index)
            self._show_attachments()
            self.notify(f"{gone.name} will not go with the next message")
        if not self.attached:
            self.query_one("#composer").focus()

    def on_composer_image_pasted(self, event: Composer.ImagePasted) -> None:
        self._attach_image(event.path)

    @work(group="attach")
    async def _attach_image(self, path: Path) -> None:
        await self._upload(path)
        if any(a.kind == "image" and a.name == path.name for a in self.attached):
            self.notify(f"{path.name} goes with the next message")

    def action_attach(self, focus: str = "knowledge") -> None:
        self._pick_attachments(focus)

    @work(group="attach")
    async def _pick_attachments(self, focus: str) -> None:
        try:
            bases = await self.client.list_knowledge()
        except WebUIClientError as exc:
            self.post_message(Problem(exc, "listing knowledge bases"))
            return
        ticked = {a.id for a in self.attached if a.kind == "collection"}
        options = [(kb.id, kb.name) for kb in bases]
        choice: AttachChoice | None = await self.app.push_screen_wait(
            AttachScreen(options, ticked, focus=focus)
        )
        if choice is None:
            return
        names = dict(options)
        files = [a for a in self.attached if a.kind != "collection"]
        kept = [a for a in self.attached if a.kind == "collection" and a.id in choice.knowledge]
        added = [
            Attachment("collection", kb_id, names[kb_id])
            for kb_id in choice.knowledge
            if kb_id not in ticked
        ]
        self.attached[:] = kept + added + files
        self._show_attachments()
        self.query_one("#composer").focus()
        for path in choice.files:
            await self._upload(path)

    async def _upload(self, path: Path) -> None:
        """Upload one file and wait until the server has read it (or drop it, saying why).
        An image (by its bytes) is stored as it is and goes with the message itself."""
        try:
            with path.open("rb") as handle:
                image = sniff(handle.read(65536))
        except OSError as exc:
            self.post_message(Problem(exc, f"attaching {path.name}"))
            return
        if image is None and path.suffix.lower() in IMAGE_SUFFIXES:
            problem = WebUIClientError(f"{path.name} is not an image (PNG, JPEG, GIF or WebP)")
            self.post_message(Problem(problem, f"attaching {path.name}"))
            return
        kind = "image" if image is not None else "file"
        attachment = Attachment(kind, "", path.name, ready=False, image=image)
        self.attached.append(attachment)
        self._show_attachments()
        try:
            if image is not None:
                record = await self.client.upload_file(path, process=False, content_type=image.mime)
                attachment.id, attachment.ready = record.id, True
                return
            record = await self.client.upload_file(path)
            attachment.id = record.id
            status = await self.client.wait_processed(record.id)
            if status.get("status") != "completed":
                with contextlib.suppress(WebUIClientError):
                    await self.client.delete_file(record.id)
                reason = status.get("error") or "it could not be read"
                raise WebUIClientError(f"cannot attach {path.name}: {reason}")
            attachment.ready = True
        except (WebUIClientError, OSError) as exc:
            self.post_message(Problem(exc, f"attaching {path.name}"))
        finally:
            if not attachment.ready and attachment in self.attached:
                self.attached.remove(attachment)  # failed: it does not go with the message
            self._show_attachments()
