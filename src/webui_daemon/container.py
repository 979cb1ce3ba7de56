"""Every resource of the daemon (`Services`) and `build_services(settings)`, which makes them:
the database, users and auth, chats, providers and scheduling, knowledge (RAG), the workspace
(prompts, notes, memories), tools. `app.create_app` runs it in the lifespan."""

import logging
import os
from dataclasses import dataclass, field

from webui_daemon.providers.base import Kind
from webui_daemon.providers.config import ProviderConfig, env_origin, ollama_urls, openai_urls_keys
from webui_daemon.providers.runtime import ProviderRuntime
from webui_daemon.rag.engine import RagEngine
from webui_daemon.security.ratelimit import SlidingWindowLimiter
from webui_daemon.security.tokens import new_secret_key, parse_duration
from webui_daemon.services.accounts.auth import AuthService
from webui_daemon.services.accounts.groups import GroupService
from webui_daemon.services.accounts.runtime_config import ConfigService, RuntimeConfig
from webui_daemon.services.accounts.users import UserService
from webui_daemon.services.chats.chat_lists import ChatListService
from webui_daemon.services.chats.chat_shares import ChatShareService
from webui_daemon.services.chats.chat_tags import ChatTagService
from webui_daemon.services.chats.chats import ChatService
from webui_daemon.services.chats.folders import FolderService
from webui_daemon.services.chats.message_events import MessageEventService
from webui_daemon.services.completions.answers import AnswerService
from webui_daemon.services.completions.completions import CompletionService
from webui_daemon.services.completions.embeddings import EmbeddingService
from webui_daemon.services.completions.proxies import ProxyService
from webui_daemon.services.config.admin_config import AdminConfigService
from webui_daemon.services.knowledge.files import FileService
from webui_daemon.services.knowledge.ingest import IngestService
from webui_daemon.services.knowledge.knowledge import KnowledgeService
from webui_daemon.services.knowledge.knowledge_access import AccessResolver
from webui_daemon.services.knowledge.rag_admin import RagAdminService
from webui_daemon.services.knowledge.rag_config import (
    LocalModel,
    RagConfig,
    RagConfigService,
    embedding_config,
)
from webui_daemon.services.knowledge.rag_context import RagContextService
from webui_daemon.services.knowledge.retrieval import RetrievalService
from webui_daemon.services.models.connections import ConnectionService
from webui_daemon.services.models.models import ModelService
from webui_daemon.services.models.ollama_admin import OllamaAdmin
from webui_daemon.services.models.preset_transfer import PresetTransfer
from webui_daemon.services.models.presets import PresetService
from webui_daemon.services.scheduling.generations import Generations
from webui_daemon.services.scheduling.queue import Scheduler
from webui_daemon.services.scheduling.usage import UsageRecorder
from webui_daemon.services.tools.build import open_tool_servers
from webui_daemon.services.tools.servers import ToolServerService
from webui_daemon.services.turns.task_generation import TaskGenerationService, task_defaults
from webui_daemon.services.turns.turns import TurnManager
from webui_daemon.services.workspace.memories import MemoryService, MemorySettings
from webui_daemon.services.workspace.notes import NoteService
from webui_daemon.services.workspace.prompts import PromptService
from webui_daemon.settings import Settings
from webui_daemon.storage.chats import ChatRepo
from webui_daemon.storage.config import ConfigRepo
from webui_daemon.storage.connections import ConnectionRepo
from webui_daemon.storage.db import Database
from webui_daemon.storage.files import FileRepo
from webui_daemon.storage.folders import FolderRepo
from webui_daemon.storage.groups import GroupRepo
from webui_daemon.storage.knowledge import KnowledgeRepo
from webui_daemon.storage.memories import MemoryRepo
from webui_daemon.storage.models import ModelRepo
from webui_daemon.storage.notes import NoteRepo
from webui_daemon.storage.prompts import PromptRepo
from webui_daemon.storage.shares import ShareRepo
from webui_daemon.storage.tags import TagRepo
from webui_daemon.storage.usage import UsageRepo
from webui_daemon.storage.users import AuthRepo, UserRepo

log = logging.getLogger(__name__)
MB = 1024 * 1024


@dataclass(slots=True)
class ListenInfo:
    """Where the server listens; filled in by the server before it starts serving."""

    socket: str | None = None
    tcp: str | None = None


@dataclass(slots=True)
class KnowledgeServices:
    """Files, knowledge bases, retrieval and RAG (services.rag.context.build_context for chat)."""

    engine: RagEngine
    ingest: IngestService
    files: FileService
    knowledge: KnowledgeService
    retrieval: RetrievalService
    admin: RagAdminService
    context: RagContextService
    config: RagConfigService

    async def aclose(self) -> None:
        await self.ingest.aclose()
        await self.engine.aclose()


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    users_repo: UserRepo
    auth: AuthService
    users: UserService
    groups: GroupService
    chats: ChatService
    chat_lists: ChatListService
    chat_tags: ChatTagService
    chat_shares: ChatShareService
    folders: FolderService
    providers: ProviderRuntime
    connections: ConnectionService
    models: ModelService
    presets: PresetService
    preset_transfer: PresetTransfer
    completions: CompletionService
    proxies: ProxyService
    ollama_admin: OllamaAdmin
    embeddings: EmbeddingService
    rag: KnowledgeServices
    memories: MemoryService
    answers: AnswerService
    turns: TurnManager
    generations: Generations
    usage: UsageRecorder
    message_events: MessageEventService
    admin_config: AdminConfigService
    task_generation: TaskGenerationService
    prompts: PromptService
    notes: NoteService
    tools: ToolServerService
    listen: ListenInfo = field(default_factory=ListenInfo)


def load_secret_key(settings: Settings) -> str:
    """WEBUI_SECRET_KEY, or a key generated once into the data folder (mode 0600)."""
    if settings.webui_secret_key:
        return settings.webui_secret_key
    path = settings.data_dir / ".webui_secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = new_secret_key()
    # O_EXCL: if another process wrote it first, read theirs rather than overwrite it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def provider_defaults(settings: Settings) -> dict[Kind, ProviderConfig]:
    """Connection settings from the environment (an admin's saved ones replace them)."""
    s = settings
    ollama_env = (s.ollama_base_urls, s.ollama_base_url, s.ollama_api_base_url)
    keys = (s.openai_api_keys, s.openai_api_key)
    openai_env = (s.openai_api_base_urls, s.openai_api_base_url, *keys)
    openai_urls, openai_keys = openai_urls_keys(*openai_env)
    return {
        "ollama": ProviderConfig(
            kind="ollama",
            enabled=s.enable_ollama_api,
            urls=ollama_urls(*ollama_env),
            configs=s.ollama_api_configs,
            origin=env_origin(*ollama_env),
        ),
        "openai": ProviderConfig(
            kind="openai",
            enabled=s.enable_openai_api,
            urls=openai_urls,
            keys=openai_keys,
            configs=s.openai_api_configs,
            origin=env_origin(*openai_env),
        ),
    }


def rag_defaults(settings: Settings) -> RagConfig:
    return RagConfig(
        template=settings.rag_template,
        top_k=settings.rag_top_k,
        top_k_reranker=settings.rag_top_k_reranker,
        relevance_threshold=settings.rag_relevance_threshold,
        hybrid=settings.enable_rag_hybrid_search,
        hybrid_bm25_weight=settings.rag_hybrid_bm25_weight,
        full_context=settings.rag_full_context,
        bypass_embedding=settings.bypass_embedding_and_retrieval,
        system_context=settings.rag_system_context,
        chunk_size=settings.chunk_size,
        chunk_overlap=min(settings.chunk_overlap, settings.chunk_size - 1),
        markdown_header_split=settings.enable_markdown_header_text_splitter,
        file_max_size_mb=settings.file_max_size,
        file_max_count=settings.file_max_count,
        embedding_engine=settings.rag_embedding_engine,
        embedding_model=settings.rag_embedding_model,
        embedding_batch_size=settings.rag_embedding_batch_size,
        ollama_url=settings.rag_ollama_base_url,
        ollama_key=settings.rag_ollama_api_key,
        openai_url=settings.rag_openai_api_base_url,
        openai_key=settings.rag_openai_api_key,
        query_prefix=settings.rag_embedding_query_prefix,
        content_prefix=settings.rag_embedding_content_prefix,
    )


async def build_rag(
    settings: Settings,
    db: Database,
    config_repo: ConfigRepo,
    auth: AuthService,
    notes: NoteService | None = None,
) -> KnowledgeServices:
    """Nothing here imports lancedb or a model: the engine makes those on first use."""
    rag_config = RagConfigService(config_repo, rag_defaults(settings))
    await rag_config.load()
    local = LocalModel(
        model_path=settings.embedding_model_path,
        cache_dir=settings.data_dir / "cache" / "embedding",
        threads=settings.embedding_threads or None,
    )
    engine = RagEngine(
        settings.data_dir / "vector_db",
        embedding_config(rag_config.current, local),
        parse_workers=settings.parse_threads,
        ann_min_rows=settings.ann_min_rows,
        idle_unload_s=settings.embedding_idle_unload_s,
    )
    file_repo, knowledge_repo = FileRepo(db), KnowledgeRepo(db)
    access = AccessResolver(GroupRepo(db), knowledge_repo, file_repo)
    ingest = IngestService(
        file_repo,
        engine,
        rag_config,
        workers=settings.ingest_workers,
        max_text_bytes=settings.file_max_text_bytes,
    )
    files = FileService(
        file_repo,
        access,
        ingest,
        rag_config,
        settings.data_dir / "uploads",
        max_upload_bytes=settings.max_upload_mb * MB,
        permissions=auth.permissions,
    )
    retrieval = RetrievalService(file_repo, knowledge_repo, access, engine, rag_config, ingest)
    return KnowledgeServices(
        engine=engine,
        ingest=ingest,
        files=files,
        knowledge=KnowledgeService(
            knowledge_repo, file_repo, UserRepo(db), access, files, ingest, auth.permissions
        ),
        retrieval=retrieval,
        admin=RagAdminService(rag_config, engine, ingest, local),
        context=RagContextService(retrieval, file_repo, knowledge_repo, rag_config, notes),
        config=rag_config,
    )


def memory_settings(settings: Settings) -> MemorySettings:
    return MemorySettings(
        enabled=settings.enable_memories,
        system_context=settings.enable_memory_system_context,
        user_char_limit=settings.memories_user_char_limit,
        context_char_limit=settings.memories_context_char_limit,
        max_chars=settings.memory_max_chars,
    )


async def build_services(settings: Settings, listen: ListenInfo) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    parse_duration(settings.jwt_expires_in)  # fail at start-up on a bad JWT_EXPIRES_IN
    db = Database(settings.db_path)
    await db.open()
    users_repo, auth_repo, group_repo = UserRepo(db), AuthRepo(db), GroupRepo(db)
    config_repo = ConfigRepo(db)
    config = ConfigService(
        config_repo,
        RuntimeConfig(
            enable_signup=settings.enable_signup and settings.webui_auth,
            default_user_role=settings.default_user_role,
            enable_api_keys=settings.enable_api_keys,
            jwt_expires_in=settings.jwt_expires_in,
        ),
    )
    await config.load()
    auth = AuthService(
        db,
        users_repo,
        auth_repo,
        group_repo,
        config_repo,
        config,
        secret=load_secret_key(settings),
        webui_auth=settings.webui_auth,
        daemon_uid=os.getuid(),
        local_user_role=settings.local_user_role,
        rate_limiter=SlidingWindowLimiter(
            settings.signin_rate_limit, settings.signin_rate_window_s
        ),
        trust_local_users=settings.local_users == "trusted",
    )
    await auth.ensure_admin_from_env(settings.webui_admin_email, settings.webui_admin_password)
    chat_repo, folder_repo, tag_repo = ChatRepo(db), FolderRepo(db), TagRepo(db)
    chat_service = ChatService(db, chat_repo, folder_repo, tag_repo)
    providers = ProviderRuntime.build(
        connect_timeout=settings.provider_connect_timeout_s,
        list_timeout=settings.models_timeout_s,
        cache_ttl=settings.models_cache_ttl,
        retry_after=settings.node_retry_after_s,
        batch_s=settings.stream_batch_ms / 1000,
        transport=settings.provider_transport,
    )
    connections = ConnectionService(
        ConnectionRepo(db),
        providers.catalog,
        providers.ollama,
        providers.openai,
        provider_defaults(settings),
        probe_timeout=settings.models_timeout_s,
        capacity={"ollama": settings.ollama_capacity, "openai": settings.openai_capacity},
        persistent=settings.enable_persistent_config,
    )
    await connections.load()
    models = ModelService(
        ModelRepo(db),
        group_repo,
        providers.catalog,
        permissions=auth.permissions,
        bypass_access=settings.bypass_model_access_control,
        trusted_local=auth.is_trusted_local,
    )
    await models.load()
    presets = PresetService(models, users_repo)
    usage = UsageRecorder(db, UsageRepo(db))
    scheduler = Scheduler(
        user_max_running=settings.user_max_running,
        user_max_queued=settings.user_max_queued,
        interactive_first=settings.interactive_first,
        on_finished=usage.finished,
    )
    completions = CompletionService(models, providers.providers, providers.pool, scheduler)
    notes = NoteService(
        NoteRepo(db),
        users_repo,
        group_repo,
        auth.permissions,
        enabled=settings.enable_notes,
        max_bytes=settings.note_max_bytes,
    )
    rag = await build_rag(settings, db, config_repo, auth, notes)
    memories = MemoryService(
        db, MemoryRepo(db), rag.engine, rag.config, auth.permissions, memory_settings(settings)
    )
    tools = await open_tool_servers(
        config_repo,
        group_repo,
        lambda user: auth.issue(user).token,
        connections=settings.tool_server_connections,
        timeout_s=settings.tool_server_timeout_s,
        max_bytes=settings.tool_result_max_bytes,
        approval_timeout_s=settings.tool_approval_timeout_s,
    )
    answers = AnswerService(
        completions,
        rag.context,
        memories,
        rag.files.image_data_url,
        tools,
        settings.max_tool_rounds,
    )
    turns = TurnManager(
        chat_service,
        answers,
        chat_repo,
        db,
        title_generation=settings.enable_title_generation,
        task_model=settings.task_model,
    )
    return Services(
        settings=settings,
        db=db,
        users_repo=users_repo,
        auth=auth,
        users=UserService(db, users_repo, auth_repo, group_repo, auth),
        groups=GroupService(group_repo, on_change=auth.invalidate),
        chats=chat_service,
        chat_lists=ChatListService(db, chat_repo, folder_repo, turns.active_chats),
        chat_tags=ChatTagService(db, chat_repo, tag_repo),
        chat_shares=ChatShareService(db, chat_service, chat_repo, ShareRepo(db)),
        folders=FolderService(db, folder_repo, chat_repo, tag_repo),
        providers=providers,
        connections=connections,
        models=models,
        presets=presets,
        preset_transfer=PresetTransfer(models, presets),
        completions=completions,
        proxies=ProxyService(
            models,
            completions,
            providers.providers,
            providers.http,
            connections,
            passthrough=settings.enable_openai_api_passthrough,
        ),
        ollama_admin=OllamaAdmin(providers.http, providers.ollama, providers.catalog, connections),
        embeddings=EmbeddingService(models, completions, providers.http),
        rag=rag,
        memories=memories,
        answers=answers,
        turns=turns,
        generations=Generations(scheduler, turns),
        usage=usage,
        message_events=MessageEventService(chat_service, chat_repo),
        admin_config=AdminConfigService(config_repo),
        task_generation=TaskGenerationService(
            answers,
            config_repo,
            task_defaults(settings.task_model, settings.enable_title_generation),
        ),
        prompts=PromptService(PromptRepo(db), users_repo, group_repo, auth.permissions),
        notes=notes,
        tools=tools,
        listen=listen,
    )
