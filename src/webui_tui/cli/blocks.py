"""Streamed Markdown cut into finished blocks, so each is rendered once (no rich here).

A block ends at a blank line outside a code fence, once the next line has arrived and starts
at the margin: an indented line may still belong to the block (a list item's continuation,
indented code), so the cut waits for it.
"""

import re

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3
        and stripped.startswith(fence)
        and set(stripped) == {fence[0]}
    )


class BlockSplitter:
    """Feed text as it streams; get back the blocks it finished. `rest` is the open block."""

    def __init__(self) -> None:
        self.rest = ""
        self._scanned = 0  # offset in `rest` up to which whole lines have been read
        self._fence: str | None = None  # the open fence (``` or ~~~, with its length)
        self._blank_at: int | None = None  # where the blank lines after the block begin
        self._has_text = False

    def _reset(self) -> None:
        self.rest, self._scanned, self._fence = "", 0, None
        self._blank_at, self._has_text = None, False

    def feed(self, text: str) -> list[str]:
        self.rest += text
        blocks: list[str] = []
        while True:
            end = self.rest.find("\n", self._scanned)
            if end < 0:
                return blocks
            start, line = self._scanned, self.rest[self._scanned : end]
            self._scanned = end + 1
            if self._fence is not None:
                if _closes(line, self._fence):
                    self._fence = None
                continue
            if not line.strip():
                if self._has_text and self._blank_at is None:
                    self._blank_at = start
                continue
            if self._blank_at is not None and line[0] not in " \t":
                blocks.append(self.rest[: self._blank_at])
                self.rest = self.rest[start:]
                self._scanned -= start
            self._blank_at = None
            self._has_text = True
            opened = _FENCE.match(line)
            if opened:
                self._fence = opened.group(1)

    def close(self) -> str:
        """The last block (whatever is left), and a fresh start."""
        rest = self.rest
        self._reset()
        return rest
