"""Images a chat message names by file (`/api/v1/files/{id}/content`, or the file's id, as
Open WebUI's web UI sends them) made into the data URLs models take, with the caller's read
access checked; data: and http(s) URLs go on as they are."""

import re
from collections.abc import Awaitable, Callable
from typing import Any

from webui_daemon.schemas.images import FILE_CONTENT_URL
from webui_daemon.services import errors
from webui_daemon.storage.rows import UserRow

Resolve = Callable[[UserRow, str], Awaitable[str]]
PASSED_ON = ("data:", "http://", "https://")
_FILE_ID = re.compile(r"^[0-9a-fA-F-]{36}$")


def file_id_of(url: str) -> str | None:
    """The file an image URL names, or None when it is not a file reference."""
    match = FILE_CONTENT_URL.match(url)
    if match:
        return match.group(1)
    return url if _FILE_ID.match(url) else None


async def inline_images(user: UserRow, messages: list[Any], resolve: Resolve) -> list[Any]:
    """`messages` with each file-named image replaced by its data URL (the list is new only
    when something changed). An image the caller may not read is "not found" (404)."""
    changed = False
    out = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            out.append(message)
            continue
        parts = []
        for part in content:
            url = _url(part)
            file_id = None if url is None or url.startswith(PASSED_ON) else file_id_of(url)
            if file_id is None:
                parts.append(part)
                continue
            try:
                data_url = await resolve(user, file_id)
            except errors.NotFound:
                raise errors.NotFound(f"The image {url} was not found.") from None
            parts.append({**part, "image_url": {**_image(part), "url": data_url}})
            changed = True
        out.append({**message, "content": parts})
    return out if changed else messages


def _image(part: Any) -> dict[str, Any]:
    image = part.get("image_url") if isinstance(part, dict) else None
    return image if isinstance(image, dict) else {}


def _url(part: Any) -> str | None:
    if not isinstance(part, dict) or part.get("type") != "image_url":
        return None
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    return url if isinstance(url, str) else None
