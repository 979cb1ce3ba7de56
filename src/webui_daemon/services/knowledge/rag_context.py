"""RAG for chat completions: a request's `files` (and a preset's knowledge) to `sources` and to
messages carrying the context (spec 5.2, 7.4-7.6).

    new_messages, sources = await services.rag_context.build_context(user, files, messages)

Items: {"type": "file", "id"}, {"type": "collection", "id"}, {"type": "text", "content",
"name"}, any of them with "context": "full" for whole documents instead of the top k chunks,
{"type": "note", "id"} (a note's whole Markdown, as Open WebUI 0.12 attaches a note), and
Open WebUI 0.6's legacy forms ({"id": <collection name>, "legacy": true}, {"collection_names":
[...]}). Other types (url, chat, folder, web_search) are skipped. An item the caller may
not read, or that does not exist, is skipped as if absent. The query is the last user message.
"""

import asyncio
import logging
from typing import Any, Protocol

from pydantic import ValidationError

from webui_daemon.rag.template import (
    DEFAULT_RAG_TEMPLATE,
    inject,
    last_user_text,
    render_template,
    source_context,
)
from webui_daemon.schemas.completions import RetrievalItem
from webui_daemon.schemas.notes import note_markdown
from webui_daemon.services import errors
from webui_daemon.services.knowledge.rag_config import RagConfig, RagConfigService
from webui_daemon.services.knowledge.retrieval import RetrievalService, hit_metadata
from webui_daemon.storage.files import FileRepo, FileRow
from webui_daemon.storage.knowledge import KnowledgeRepo
from webui_daemon.storage.notes import NoteRow
from webui_daemon.storage.rows import UserRow

log = logging.getLogger(__name__)

Item = dict[str, Any]


def expand_preset_knowledge(
    meta: dict[str, Any] | None, files: list[Item] | None = None
) -> list[Item]:
    """`files` plus the retrieval items of a preset's `meta.knowledge` (Open WebUI 0.6 injects
    them for API callers; so do we), without repeating an item the request already has."""
    out = [dict(item) for item in files or []]
    seen = {(item.get("type"), item.get("id")) for item in out}
    knowledge = (meta or {}).get("knowledge")
    for entry in knowledge if isinstance(knowledge, list) else []:
        if not isinstance(entry, dict):
            continue
        if entry.get("collection_name"):
            item: Item = {"id": entry["collection_name"], "name": entry.get("name"), "legacy": True}
        elif isinstance(entry.get("collection_names"), list) and entry["collection_names"]:
            item = {
                "type": "collection",
                "name": entry.get("name"),
                "collection_names": list(entry["collection_names"]),
                "legacy": True,
            }
        else:
            item = dict(entry)
            if "type" not in item and item.get("id"):
                item["type"] = "collection"
        key = (item.get("type"), item.get("id"))
        if not all(isinstance(part, str | None) for part in key):
            continue  # not an item (and not something a set can hold)
        if item.get("id") and key in seen:
            continue
        seen.add(key)
        out.append(item)
    return out


def retrieval_items(
    meta: dict[str, Any] | None, files: list[RetrievalItem] | None
) -> list[RetrievalItem]:
    """The request's items plus its preset's (`expand_preset_knowledge`), typed; a preset entry
    that is not a valid item is skipped."""
    requested = list(files or [])
    dumped = [item.model_dump(exclude_unset=True) for item in requested]
    out = requested
    for entry in expand_preset_knowledge(meta, dumped)[len(dumped) :]:
        try:
            out.append(RetrievalItem.model_validate(entry))
        except ValidationError:
            log.debug("preset knowledge entry skipped: %r", entry)
    return out


class NoteReader(Protocol):
    async def readable(self, user: UserRow, note_id: str) -> NoteRow | None:
        """The note if `user` may read it, else None."""
        ...


class RagContextService:
    def __init__(
        self,
        retrieval: RetrievalService,
        files: FileRepo,
        knowledge: KnowledgeRepo,
        config: RagConfigService,
        notes: NoteReader | None = None,
    ) -> None:
        self._retrieval = retrieval
        self._files = files
        self._knowledge = knowledge
        self._config = config
        self._notes = notes

    async def build_context(
        self, user: UserRow, files: list[RetrievalItem], messages: list[Item]
    ) -> tuple[list[Item], list[Item]]:
        """(messages with the RAG template injected, `sources` for the leading SSE event and
        the saved message). With nothing found, the messages come back unchanged."""
        if not files:
            return messages, []
        config = self._config.current
        query = last_user_text(messages)
        found = await asyncio.gather(*(self._source(user, item, query, config) for item in files))
        sources = [
            s
            for s in found
            if s is not None
            and s["document"]
            and (s["source"].get("name") or s["source"].get("id"))
        ]
        if not sources:
            return messages, []
        rendered = render_template(
            config.template or DEFAULT_RAG_TEMPLATE,
            source_context(sources),
            query,
            user_name=user.name,
        )
        return inject(messages, rendered, system_context=config.system_context), sources

    # ---- one item ------------------------------------------------------------------------

    async def _source(
        self, user: UserRow, item: RetrievalItem, query: str, config: RagConfig
    ) -> Item | None:
        try:
            return await self._resolve(user, item, query, config)
        except errors.WebUIError as exc:
            log.debug("retrieval item %s skipped: %s", item.id, exc.detail)
            return None

    async def _resolve(
        self, user: UserRow, item: RetrievalItem, query: str, config: RagConfig
    ) -> Item | None:
        kind = item.type
        full = item.context == "full" or config.full_context or config.bypass_embedding
        source = item.model_dump(exclude_unset=True)
        if kind == "text":
            content = item.content if isinstance(item.content, str) else ""
            if not content.strip():
                return None
            name = item.name or "text"
            return {
                "source": source,
                "document": [content],
                "metadata": [{"name": name, "source": name}],
            }
        if kind == "note":
            return await self._note(user, item, source)
        if kind == "collection" and item.collection_names:
            names = list(item.collection_names)
        elif kind in ("file", "collection") or (item.legacy and item.id):
            names = [self._collection_name(item)]
        else:
            return None
        rows: dict[str, FileRow] = {}
        for name in names:
            for row in await self._retrieval.collection_files(user, name):
                rows[row.id] = row
        await self._name_source(source, kind, rows)
        if full:
            return await self._full(source, list(rows))
        params = self._retrieval.params()
        pairs = await self._retrieval.search(list(rows.values()), query, params)
        key = self._retrieval.embedding_key
        return {
            "source": source,
            "document": [hit.text for hit, _ in pairs],
            "metadata": [hit_metadata(hit, row, key) for hit, row in pairs],
            "distances": [hit.score for hit, _ in pairs],
        }

    async def _note(self, user: UserRow, item: RetrievalItem, source: Item) -> Item | None:
        """A note the caller may read: its whole Markdown, named by its title (0.12)."""
        if self._notes is None or not item.id:
            return None
        row = await self._notes.readable(user, item.id)
        markdown = note_markdown(row.data) if row is not None else ""
        if row is None or not markdown.strip():
            return None
        source.setdefault("name", row.title)
        return {
            "source": source,
            "document": [markdown],
            "metadata": [{"file_id": row.id, "name": row.title}],
        }

    @staticmethod
    def _collection_name(item: RetrievalItem) -> str:
        item_id = item.id or ""
        if item.type == "file" and not item_id.startswith("file-"):
            return f"file-{item_id}"
        return item_id

    async def _name_source(self, source: Item, kind: Any, rows: dict[str, FileRow]) -> None:
        """Give an unnamed item the name a reader would recognise (its file or knowledge base)."""
        if source.get("name"):
            return
        if kind == "file" and len(rows) == 1:
            source["name"] = next(iter(rows.values())).filename
        elif kind == "collection" and source.get("id"):
            knowledge = await self._knowledge.get(str(source["id"]))
            if knowledge is not None:
                source["name"] = knowledge.name

    async def _full(self, source: Item, file_ids: list[str]) -> Item:
        """Whole documents: each file's extracted text, one document per file."""
        rows = await self._files.get_many(file_ids, with_content=True)
        documents, metadatas = [], []
        for file_id in file_ids:
            row = rows.get(file_id)
            if row is None or row.status != "completed" or not (row.content or "").strip():
                continue
            documents.append(row.content or "")
            metadatas.append({"file_id": row.id, "name": row.filename, "source": row.filename})
        return {"source": source, "document": documents, "metadata": metadatas}
