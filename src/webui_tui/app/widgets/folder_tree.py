"""The sidebar's folder tree as option rows: `▸ name` closed, `▾ name` open with its chats.

Pure functions (no widgets): which folders to read the chats of, and the rows to show.
"""

from collections.abc import Mapping, Sequence

from webui_daemon.schemas.chats import ChatResponse
from webui_daemon.schemas.folders import FolderModel

FOLDER = "folder:"  # option ids of folder rows start with this; chat rows are chat ids
INDENT = "  "


def folder_option_id(folder_id: str) -> str:
    return FOLDER + folder_id


def folder_of_option(option_id: str | None) -> str | None:
    """The folder id of a folder row's option id; None for a chat row."""
    if option_id and option_id.startswith(FOLDER):
        return option_id[len(FOLDER) :]
    return None


def _children(folders: Sequence[FolderModel]) -> dict[str | None, list[FolderModel]]:
    known = {f.id for f in folders}
    children: dict[str | None, list[FolderModel]] = {}
    for folder in sorted(folders, key=lambda f: (f.name.lower(), f.id)):
        parent = folder.parent_id if folder.parent_id in known else None
        children.setdefault(parent, []).append(folder)
    return children


def open_folders(folders: Sequence[FolderModel]) -> list[str]:
    """Ids of the folders shown open: expanded, under open parents only."""
    children = _children(folders)
    shown: list[str] = []

    def walk(parent: str | None) -> None:
        for folder in children.get(parent, []):
            if folder.is_expanded:
                shown.append(folder.id)
                walk(folder.id)

    walk(None)
    return shown


def tree_rows(
    folders: Sequence[FolderModel], contents: Mapping[str, Sequence[ChatResponse]]
) -> list[tuple[str | None, str]]:
    """(option id, label) rows; a folder is open when `contents` has its chats.

    `contents[folder_id]` may hold the chats of subfolders too (the daemon's answer): only
    those whose `folder_id` is the folder are listed under it. An open empty folder shows an
    `(empty)` row with no id.
    """
    children = _children(folders)
    rows: list[tuple[str | None, str]] = []

    def walk(parent: str | None, depth: int) -> None:
        for folder in children.get(parent, []):
            chats = contents.get(folder.id)
            mark = "▸ " if chats is None else "▾ "
            rows.append((folder_option_id(folder.id), INDENT * depth + mark + folder.name))
            if chats is None:
                continue
            walk(folder.id, depth + 1)
            own = [c for c in chats if c.folder_id == folder.id]
            own.sort(key=lambda c: (-c.updated_at, c.title.lower()))
            pad = INDENT * (depth + 1)
            rows.extend((c.id, pad + (c.title or "Untitled")) for c in own)
            if not own and not children.get(folder.id):
                rows.append((None, pad + "(empty)"))

    walk(None, 0)
    return rows
