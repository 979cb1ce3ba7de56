"""Images in chat messages, one rule for the daemon and the clients (standard library only).

What an image is is decided by its bytes, never its name: PNG, JPEG, GIF and WebP, the formats
vision models take. A user message keeps its images as Open WebUI keeps them, in `files` items
of type "image" whose `url` is a data URL or `/api/v1/files/{id}/content`; sent to a model,
the message becomes content parts: its text, then one `image_url` part per image (as the 0.12
web UI builds them).
"""

import re
import struct
from dataclasses import dataclass
from typing import Any

# The formats vision models take, by the bytes they start with.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# Names that promise an image: such a file that is not one is refused, not read as a document.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
FILE_CONTENT_URL = re.compile(r"^/api/v1/files/([^/?#]+)/content(?:[?#]|$)")


@dataclass(frozen=True, slots=True)
class ImageInfo:
    mime: str
    width: int | None = None
    height: int | None = None

    def label(self, name: str) -> str:
        return label(name, self.width, self.height)


def label(name: str, width: Any, height: Any) -> str:
    """`photo.png 1024×768`, as a placeholder line shows an image (the name alone when its
    size is unknown)."""
    return f"{name} {width}×{height}" if width and height else name


def sniff(head: bytes) -> ImageInfo | None:
    """The image format (and size, when the header says it) of bytes that start a file; None
    for anything that is not a PNG, JPEG, GIF or WebP. 64 KiB of the start is plenty."""
    mime = next((m for magic, m in _MAGIC if head.startswith(magic)), None)
    if mime is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        mime = "image/webp"
    if mime is None:
        return None
    try:
        width, height = _size(mime, head)
    except (struct.error, IndexError, ValueError):
        width = height = None
    return ImageInfo(mime, width, height)


def _size(mime: str, head: bytes) -> tuple[int | None, int | None]:
    if mime == "image/png":
        width, height = struct.unpack(">II", head[16:24])
        return width, height
    if mime == "image/gif":
        width, height = struct.unpack("<HH", head[6:10])
        return width, height
    if mime == "image/webp":
        return _webp_size(head)
    return _jpeg_size(head)


def _webp_size(head: bytes) -> tuple[int | None, int | None]:
    chunk = head[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None, None


def _jpeg_size(head: bytes) -> tuple[int | None, int | None]:
    """The frame header (SOFn) gives the size; walk the segments up to it."""
    at = 2
    while at + 9 < len(head):
        if head[at] != 0xFF:
            return None, None
        marker = head[at + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        length = struct.unpack(">H", head[at + 2 : at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", head[at + 5 : at + 9])
            return width, height
        at += 2 + length
    return None, None


def image_item(file_id: str, name: str, info: ImageInfo) -> dict[str, Any]:
    """How a user message names a stored image (Open WebUI's `files` item; its size too)."""
    return {
        "type": "image",
        "id": file_id,
        "url": f"/api/v1/files/{file_id}/content",
        "name": name,
        "content_type": info.mime,
        "width": info.width,
        "height": info.height,
    }


def image_files(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A stored message's images: its `files` items of type "image" (or an image content type)."""
    files = message.get("files")
    return [
        f
        for f in (files if isinstance(files, list) else [])
        if isinstance(f, dict)
        and isinstance(f.get("url"), str)
        and (f.get("type") == "image" or str(f.get("content_type", "")).startswith("image/"))
    ]


def model_content(message: dict[str, Any]) -> Any:
    """What a stored user message says to a model: its text, or with images the text part
    followed by one `image_url` part per image."""
    content = message.get("content", "")
    images = image_files(message) if message.get("role") == "user" else []
    if not images:
        return content
    return [
        {"type": "text", "text": content if isinstance(content, str) else ""},
        *({"type": "image_url", "image_url": {"url": f["url"]}} for f in images),
    ]
