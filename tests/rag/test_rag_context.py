"""RagContextService.build_context on the real app (real LanceDB, real embedder): sources in the
shape of spec 5.2, `<source id="N">` numbered per distinct document, the template placed as spec
7.6 says, access checks, preset knowledge."""

import copy
import io
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tests.corpus.make import SHARED_MODEL
from webui_daemon.app import create_app
from webui_daemon.container import Services
from webui_daemon.schemas.completions import RetrievalItem
from webui_daemon.schemas.knowledge import KnowledgeForm
from webui_daemon.schemas.retrieval import RetrievalConfig
from webui_daemon.services.knowledge.rag_context import expand_preset_knowledge, retrieval_items
from webui_daemon.settings import Settings
from webui_daemon.storage.rows import UserRow

pytestmark = pytest.mark.asyncio(loop_scope="module")

WHALES = "\n\n".join(
    [
        "Blue whales are the largest animals ever known. " * 12,
        "A blue whale's heart weighs about as much as a small car. " * 12,
        "Blue whales eat krill, several tonnes a day in summer. " * 12,
    ]
)
DESERT = "The Atacama desert in Chile is one of the driest places on Earth."


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, Any]]:
    model = os.environ.get("WEBUI_EMBEDDING_MODEL_PATH") or str(SHARED_MODEL)
    settings = Settings(
        DATA_DIR=tmp_path_factory.mktemp("ctx"),
        WEBUI_SECRET_KEY="test-secret-key-for-webui-tests-0123456789",
        WEBUI_EMBEDDING_MODEL_PATH=Path(model),
        OLLAMA_BASE_URL="http://127.0.0.1:9",
        OPENAI_API_BASE_URL="http://127.0.0.1:9/v1",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        owner = await services.auth.add_user(
            "Owner", "owner@example.com", "pw-123456", "admin", None
        )
        other = await services.auth.add_user(
            "Other", "other@example.com", "pw-123456", "user", None
        )
        rag = services.rag

        async def upload(name: str, text: str) -> str:
            record = await rag.files.upload(
                owner,
                io.BytesIO(text.encode()),
                filename=name,
                content_type="text/plain",
                metadata=None,
                background=False,
            )
            assert record.data["status"] == "completed", record.data
            return record.id

        whales, desert = await upload("whales.txt", WHALES), await upload("desert.txt", DESERT)
        kb = await rag.knowledge.create(owner, KnowledgeForm(name="Nature"))
        for file_id in (whales, desert):
            await rag.knowledge.add_file(owner, kb.id, file_id)
        yield {
            "services": services,
            "owner": owner,
            "other": other,
            "kb": kb.id,
            "whales": whales,
            "desert": desert,
        }


def chat(question: str) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi"},
        {"role": "user", "content": question},
    ]


def items(*raw: dict[str, Any]) -> list[RetrievalItem]:
    """`files` entries as the completion route parses them."""
    return [RetrievalItem.model_validate(item) for item in raw]


async def build(world: dict[str, Any], user: UserRow, files: list[Any], question: str) -> Any:
    typed = [f if isinstance(f, RetrievalItem) else RetrievalItem.model_validate(f) for f in files]
    return await world["services"].rag.context.build_context(user, typed, chat(question))


async def test_collection_sources_numbering_and_placement(world: dict[str, Any]) -> None:
    messages = chat("How big is a blue whale's heart?")
    before = copy.deepcopy(messages)
    new, sources = await world["services"].rag.context.build_context(
        world["owner"], items({"type": "collection", "id": world["kb"]}), messages
    )
    assert messages == before  # the caller's messages are not modified
    assert len(sources) == 1
    source = sources[0]
    assert set(source) == {"source", "document", "metadata", "distances"}
    assert source["source"] == {"type": "collection", "id": world["kb"], "name": "Nature"}
    assert len(source["document"]) == len(source["metadata"]) == len(source["distances"]) == 3
    assert source["distances"] == sorted(source["distances"], reverse=True)
    meta = source["metadata"][0]
    assert {"file_id", "name", "source", "start_index", "hash", "embedding_config", "score"} <= set(
        meta
    )
    assert meta["name"] == "whales.txt" and "heart" in source["document"][0]

    # Template before the last user message's text; everything else unchanged.
    assert new[:3] == messages[:3]
    text = new[-1]["content"]
    assert text.startswith("### Task:") and text.endswith(
        "</context>\n\nHow big is a blue whale's heart?"
    )
    # One number per distinct document, in order of first appearance.
    tags = re.findall(r'<source id="(\d+)" name="([^"]+)">', text)
    assert len(tags) == 3
    numbers: dict[str, str] = {}
    for number, name in tags:
        assert numbers.setdefault(name, number) == number
    assert list(dict.fromkeys(n for n, _ in tags)) == [str(i) for i in range(1, len(numbers) + 1)]
    assert numbers["whales.txt"] == "1"


async def test_file_text_and_full_context_items(world: dict[str, Any]) -> None:
    files = [
        {"type": "file", "id": world["whales"]},
        {"type": "text", "content": "Capybaras are the largest rodents.", "name": "pasted"},
        {"type": "file", "id": world["desert"], "context": "full"},
        {"type": "url", "url": "https://example.com"},  # not supported here: skipped
    ]
    new, sources = await build(world, world["owner"], files, "Which animal is the largest?")
    assert [s["source"].get("name") for s in sources] == ["whales.txt", "pasted", "desert.txt"]
    assert sources[0]["source"] == {"type": "file", "id": world["whales"], "name": "whales.txt"}
    assert sources[1]["document"] == ["Capybaras are the largest rodents."]
    assert sources[2]["document"] == [DESERT] and "distances" not in sources[2]
    text = new[-1]["content"]
    assert '<source id="2" name="pasted">Capybaras are the largest rodents.</source>' in text
    assert f'<source id="3" name="desert.txt">{DESERT}</source>' in text


async def test_system_context_variant(world: dict[str, Any]) -> None:
    admin = world["services"].rag.admin
    await admin.update_config(RetrievalConfig(RAG_SYSTEM_CONTEXT=True))
    try:
        new, sources = await build(
            world, world["owner"], [{"type": "file", "id": world["desert"]}], "Where is it dry?"
        )
    finally:
        await admin.update_config(RetrievalConfig(RAG_SYSTEM_CONTEXT=False))
    assert sources
    assert new[0]["content"].startswith("Be brief.\n### Task:")
    assert new[-1]["content"] == "Where is it dry?"


async def test_items_the_user_may_not_read_are_skipped(world: dict[str, Any]) -> None:
    files = items(
        {"type": "collection", "id": world["kb"]},
        {"type": "file", "id": world["whales"]},
        {"type": "file", "id": world["desert"], "context": "full"},
        {"id": world["kb"], "legacy": True},
        {"type": "collection", "collection_names": [world["kb"]]},
        {"type": "file", "id": "no-such-file"},
    )
    messages = chat("blue whale")
    new, sources = await world["services"].rag.context.build_context(
        world["other"], files, messages
    )
    assert sources == [] and new == messages
    assert await build(world, world["owner"], [], "x") == (chat("x"), [])


async def test_preset_knowledge_and_legacy_items(world: dict[str, Any]) -> None:
    meta = {
        "knowledge": [
            {"collection_name": world["kb"], "name": "Nature (legacy)"},
            {"id": world["desert"], "type": "file", "name": "desert.txt"},
        ]
    }
    files = expand_preset_knowledge(meta)
    new, sources = await build(world, world["owner"], files, "What do blue whales eat?")
    assert [s["source"]["name"] for s in sources] == ["Nature (legacy)", "desert.txt"]
    assert any("krill" in d for d in sources[0]["document"])
    assert "krill" in new[-1]["content"]


async def test_preset_knowledge_merges_with_the_request_items() -> None:
    meta = {
        "knowledge": [
            {"id": "kb-1", "name": "Shared"},  # no type: a knowledge base
            {"id": "kb-1", "type": "collection"},  # already there: not repeated
            {"collection_names": ["a", "b"], "name": "Old"},
            {"id": ["not", "an", "id"]},  # not an item: skipped
            {"id": "kb-2", "type": "collection", "context": 5},  # not a valid one: skipped
            "nonsense",
        ]
    }
    files = retrieval_items(meta, items({"type": "file", "id": "f-1"}))
    assert [f.model_dump(exclude_unset=True) for f in files] == [
        {"type": "file", "id": "f-1"},
        {"id": "kb-1", "name": "Shared", "type": "collection"},
        {"type": "collection", "name": "Old", "collection_names": ["a", "b"], "legacy": True},
    ]
    assert retrieval_items({"knowledge": "x"}, None) == []
    assert retrieval_items(None, items({"type": "text", "content": "x"})) == items(
        {"type": "text", "content": "x"}
    )
