"""Daemon settings from the environment, using Open WebUI's variable names where it has them."""

import os
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("webui"))


def default_socket_path() -> Path:
    """`$XDG_RUNTIME_DIR/webui/webui.sock`, or platformdirs' fallback when that is unset."""
    import platformdirs

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root, cron, some SSH sessions);
        # its fallback is fine for us, so keep the warning away from users.
        warnings.simplefilter("ignore")
        return Path(platformdirs.user_runtime_dir("webui")) / "webui.sock"


class Settings(BaseSettings):
    """Every knob the daemon reads. Unprefixed names are Open WebUI's; ours start with WEBUI_."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    # Where the database, secret key, uploads and logs live.
    data_dir: Path = Field(default_factory=default_data_dir, alias="DATA_DIR")
    # JWT signing key; generated once into the data folder when not given.
    webui_secret_key: str = Field(default="", alias="WEBUI_SECRET_KEY")
    # False: single-user mode (spec 2.5).
    webui_auth: bool = Field(default=True, alias="WEBUI_AUTH")
    enable_signup: bool = Field(default=True, alias="ENABLE_SIGNUP")
    default_user_role: Literal["pending", "user", "admin"] = Field(
        default="pending", alias="DEFAULT_USER_ROLE"
    )
    # On by default here (Open WebUI's default is off): scripts are a main use of a terminal tool.
    enable_api_keys: bool = Field(default=True, alias="ENABLE_API_KEYS")
    jwt_expires_in: str = Field(default="4w", alias="JWT_EXPIRES_IN")
    webui_admin_email: str = Field(default="", alias="WEBUI_ADMIN_EMAIL")
    webui_admin_password: str = Field(default="", alias="WEBUI_ADMIN_PASSWORD")
    webui_name: str = Field(default="Open WebUI", alias="WEBUI_NAME")
    custom_api_key_header: str = Field(default="x-api-key", alias="CUSTOM_API_KEY_HEADER")

    # --- model providers (spec 9); an admin can change these at run time (/ollama/config,
    # /openai/config), and the saved values then win over the environment ---
    # False: the environment always wins; admin changes last until the daemon stops (0.12).
    enable_persistent_config: bool = Field(default=True, alias="ENABLE_PERSISTENT_CONFIG")
    enable_ollama_api: bool = Field(default=True, alias="ENABLE_OLLAMA_API")
    # One Ollama URL; empty means http://localhost:11434 (loopback: never the internet).
    ollama_base_url: str = Field(default="", alias="OLLAMA_BASE_URL")
    # Legacy form ending in /api, read only when OLLAMA_BASE_URL is empty.
    ollama_api_base_url: str = Field(default="", alias="OLLAMA_API_BASE_URL")
    # Several Ollama URLs, semicolon-separated; when set it replaces OLLAMA_BASE_URL.
    ollama_base_urls: str = Field(default="", alias="OLLAMA_BASE_URLS")
    # JSON per URL, keyed by index ("0") or by URL: enable, key, prefix_id, model_ids, tags.
    ollama_api_configs: dict[str, Any] = Field(default_factory=dict, alias="OLLAMA_API_CONFIGS")
    enable_openai_api: bool = Field(default=True, alias="ENABLE_OPENAI_API")
    # Empty (our default): https://api.openai.com/v1 only when an OpenAI key is set, so a
    # default install makes no request to the internet. Open WebUI always adds that URL.
    openai_api_base_url: str = Field(default="", alias="OPENAI_API_BASE_URL")
    # Several OpenAI-compatible URLs, semicolon-separated; replaces OPENAI_API_BASE_URL.
    openai_api_base_urls: str = Field(default="", alias="OPENAI_API_BASE_URLS")
    openai_api_key: str = Field(default="", alias="OPENAI_API_KEY")
    # Keys matched to OPENAI_API_BASE_URLS by position, semicolon-separated.
    openai_api_keys: str = Field(default="", alias="OPENAI_API_KEYS")
    # JSON per URL index: enable, prefix_id, model_ids, tags, connection_type.
    openai_api_configs: dict[str, Any] = Field(default_factory=dict, alias="OPENAI_API_CONFIGS")
    # Seconds a provider's model list is reused before it is asked again.
    models_cache_ttl: float = Field(default=1.0, alias="MODELS_CACHE_TTL")
    # True: every user sees and may use every model, without a model record granting it.
    bypass_model_access_control: bool = Field(default=False, alias="BYPASS_MODEL_ACCESS_CONTROL")
    # `/openai/{path}`: other OpenAI routes passed through (off by default, as in Open WebUI 0.12).
    enable_openai_api_passthrough: bool = Field(
        default=False, alias="ENABLE_OPENAI_API_PASSTHROUGH"
    )

    # --- webui's own settings ---
    # Unix socket path; empty means the per-user default (or /run/webui/webui.sock with --shared).
    socket_path: Path | None = Field(default=None, alias="WEBUI_SOCKET")
    # Serve several local users from one socket (mode 0660, owned by `shared_group`).
    shared: bool = Field(default=False, alias="WEBUI_SHARED")
    shared_group: str | None = Field(default=None, alias="WEBUI_SHARED_GROUP")
    # Role given to other OS users on first contact over a shared socket.
    local_user_role: Literal["pending", "user", "admin"] = Field(
        default="user", alias="WEBUI_LOCAL_USER_ROLE"
    )
    # trusted: local accounts (known by uid on the socket) may use every model that no record
    # restricts, and create their own knowledge bases, prompts and notes; restricted: Open
    # WebUI's rules (model records with access grants, the default permissions).
    local_users: Literal["trusted", "restricted"] = Field(
        default="trusted", alias="WEBUI_LOCAL_USERS"
    )
    # Fair scheduling of generations on provider nodes. A node runs its connection's
    # `capacity` option of generations at once, or these defaults (0: no limit); more wait in
    # per-user lines served in turn.
    ollama_capacity: int = Field(default=4, ge=0, alias="WEBUI_OLLAMA_CAPACITY")
    openai_capacity: int = Field(default=0, ge=0, alias="WEBUI_OPENAI_CAPACITY")
    # Slots one user may hold at once (0: no limit), requests one user may have waiting
    # (beyond: 429 with Retry-After), and whether interactive requests go before API-key
    # traffic.
    user_max_running: int = Field(default=0, ge=0, alias="WEBUI_USER_MAX_RUNNING")
    user_max_queued: int = Field(default=64, ge=0, alias="WEBUI_USER_MAX_QUEUED")
    interactive_first: bool = Field(default=True, alias="WEBUI_INTERACTIVE_FIRST")
    # TCP listener, off unless a port is given.
    host: str = Field(default="127.0.0.1", alias="WEBUI_HOST")
    port: int | None = Field(default=None, alias="WEBUI_PORT")
    # Largest request body accepted on JSON routes.
    max_body_bytes: int = Field(default=2 * 1024 * 1024, alias="WEBUI_MAX_BODY_BYTES")
    # Signin attempts allowed per email in the window (Open WebUI: 15 per 3 minutes).
    signin_rate_limit: int = Field(default=15, alias="WEBUI_SIGNIN_RATE_LIMIT")
    signin_rate_window_s: float = Field(default=180.0, alias="WEBUI_SIGNIN_RATE_WINDOW")
    log_level: str = Field(default="info", alias="WEBUI_LOG_LEVEL")
    # Longest wait for one provider's model list: a dead node never holds up /api/models longer.
    models_timeout_s: float = Field(default=1.5, alias="WEBUI_MODELS_TIMEOUT")
    # Connect timeout for chat requests to a provider (a down node is then tried elsewhere).
    provider_connect_timeout_s: float = Field(default=3.0, alias="WEBUI_PROVIDER_CONNECT_TIMEOUT")
    # Streamed answers are read from the provider at most once per this many ms after the
    # first token (the first pause is a fifth of it), and the text that arrived meanwhile
    # goes out as one chunk: at a fast model's pace this saves most of the daemon's CPU per
    # answer for a delay a reader does not see. 0 relays every provider chunk as it comes.
    stream_batch_ms: float = Field(default=60.0, ge=0, le=1000, alias="WEBUI_STREAM_BATCH_MS")
    # Transport for plain-HTTP providers: "lean" (providers/transport.py; the batch windows
    # above need it) or "httpx" (httpx's own, as https:// providers always get: the off switch).
    provider_transport: Literal["lean", "httpx"] = Field(
        default="lean", alias="WEBUI_PROVIDER_TRANSPORT"
    )
    # First pause before a failing provider node is probed again; doubles up to 60 s.
    node_retry_after_s: float = Field(default=2.0, alias="WEBUI_NODE_RETRY_AFTER")

    # --- files and knowledge (spec 7); an admin can change most of these at run time
    # (/api/v1/retrieval/config/update, /embedding/update) and the saved values then win ---
    # Largest upload in MB (Open WebUI: unlimited when unset; we cap uploads at
    # WEBUI_MAX_UPLOAD_MB then).
    file_max_size: int | None = Field(default=None, alias="FILE_MAX_SIZE")
    file_max_count: int | None = Field(default=None, alias="FILE_MAX_COUNT")
    max_upload_mb: int = Field(default=1024, alias="WEBUI_MAX_UPLOAD_MB")
    # Most text one file may yield, in UTF-8 bytes: extraction stops as soon as a file's text
    # passes it (a 150 KB DOCX can unpack to 50 MB of text) and the file fails, naming this.
    # Also bounds the markup read (a DOCX's XML, HTML) to 20 times this.
    file_max_text_bytes: int = Field(
        default=10 * 1024 * 1024, gt=0, alias="WEBUI_FILE_MAX_TEXT_BYTES"
    )
    # --- notes (Open WebUI 0.12's /api/v1/notes) ---
    enable_notes: bool = Field(default=True, alias="ENABLE_NOTES")
    # Largest note, in UTF-8 bytes of its title and its `data` as compact JSON (the Markdown,
    # and the html/json copies the web editor keeps): a bigger create or update is refused
    # with 413 naming this limit, and nothing is stored. Request bodies are also bounded by
    # WEBUI_MAX_BODY_BYTES (2 MiB); raise both for bigger notes.
    note_max_bytes: int = Field(default=1024 * 1024, gt=0, alias="WEBUI_NOTE_MAX_BYTES")
    chunk_size: int = Field(default=1000, gt=0, alias="CHUNK_SIZE")
    chunk_overlap: int = Field(default=100, ge=0, alias="CHUNK_OVERLAP")
    enable_markdown_header_text_splitter: bool = Field(
        default=True, alias="ENABLE_MARKDOWN_HEADER_TEXT_SPLITTER"
    )
    # "" = local fastembed (Open WebUI's local SentenceTransformers), "ollama" or "openai".
    rag_embedding_engine: Literal["", "ollama", "openai"] = Field(
        default="", alias="RAG_EMBEDDING_ENGINE"
    )
    rag_embedding_model: str = Field(
        default="sentence-transformers/all-MiniLM-L6-v2", alias="RAG_EMBEDDING_MODEL"
    )
    # Chunks per embedding call (Open WebUI's default is 1; batches are much faster here).
    rag_embedding_batch_size: int = Field(default=16, gt=0, alias="RAG_EMBEDDING_BATCH_SIZE")
    rag_embedding_query_prefix: str = Field(default="", alias="RAG_EMBEDDING_QUERY_PREFIX")
    rag_embedding_content_prefix: str = Field(default="", alias="RAG_EMBEDDING_CONTENT_PREFIX")
    # Embedding endpoints; they default to the chat providers' variables, as in Open WebUI.
    rag_ollama_base_url: str = Field(
        default="http://localhost:11434",
        validation_alias=AliasChoices("RAG_OLLAMA_BASE_URL", "OLLAMA_BASE_URL"),
    )
    rag_ollama_api_key: str = Field(default="", alias="RAG_OLLAMA_API_KEY")
    rag_openai_api_base_url: str = Field(
        default="https://api.openai.com/v1",
        validation_alias=AliasChoices("RAG_OPENAI_API_BASE_URL", "OPENAI_API_BASE_URL"),
    )
    rag_openai_api_key: str = Field(
        default="", validation_alias=AliasChoices("RAG_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    rag_top_k: int = Field(default=3, gt=0, alias="RAG_TOP_K")
    rag_top_k_reranker: int = Field(default=3, gt=0, alias="RAG_TOP_K_RERANKER")
    rag_relevance_threshold: float = Field(default=0.0, alias="RAG_RELEVANCE_THRESHOLD")
    enable_rag_hybrid_search: bool = Field(default=False, alias="ENABLE_RAG_HYBRID_SEARCH")
    rag_hybrid_bm25_weight: float = Field(
        default=0.5, ge=0.0, le=1.0, alias="RAG_HYBRID_BM25_WEIGHT"
    )
    rag_full_context: bool = Field(default=False, alias="RAG_FULL_CONTEXT")
    bypass_embedding_and_retrieval: bool = Field(
        default=False, alias="BYPASS_EMBEDDING_AND_RETRIEVAL"
    )
    rag_template: str = Field(default="", alias="RAG_TEMPLATE")  # "" = Open WebUI's default
    rag_system_context: bool = Field(default=False, alias="RAG_SYSTEM_CONTEXT")
    # A local fastembed model folder (no download); unset, fastembed fetches the model by name.
    embedding_model_path: Path | None = Field(default=None, alias="WEBUI_EMBEDDING_MODEL_PATH")
    # onnxruntime threads for local embedding; 0 = one per core.
    embedding_threads: int = Field(default=0, ge=0, alias="WEBUI_EMBEDDING_THREADS")
    # Files processed at once (parsing overlaps embedding), and threads that parse.
    ingest_workers: int = Field(default=4, gt=0, alias="WEBUI_INGEST_WORKERS")
    parse_threads: int = Field(default=2, gt=0, alias="WEBUI_PARSE_THREADS")
    # Chunks in a model's table before an ANN index is built (below it search is exact).
    ann_min_rows: int = Field(default=50_000, gt=0, alias="WEBUI_ANN_MIN_ROWS")
    # Seconds without knowledge work after which the knowledge worker process (the local model,
    # LanceDB) stops and frees its memory (the next use starts it again); 0 keeps it running.
    embedding_idle_unload_s: float = Field(default=300, ge=0, alias="WEBUI_EMBEDDING_IDLE_UNLOAD")
    # Load lancedb and the embedding model in the background right after start-up, so the
    # first search does not pay for it (off: a daemon never asked about documents stays small).
    rag_warmup: bool = Field(default=False, alias="WEBUI_RAG_WARMUP")

    # --- memories (Open WebUI 0.12's names) ---
    # Off: /api/v1/memories answers 404 and chats get no memories.
    enable_memories: bool = Field(default=True, alias="ENABLE_MEMORIES")
    # Add a user's memories to the system prompt of their chats (when their setting is on).
    enable_memory_system_context: bool = Field(default=True, alias="ENABLE_MEMORY_SYSTEM_CONTEXT")
    # Characters of the "User Memory" part and of the other parts of that block.
    memories_user_char_limit: int = Field(default=2000, alias="MEMORIES_USER_CHAR_LIMIT")
    memories_context_char_limit: int = Field(default=2000, alias="MEMORIES_CONTEXT_CHAR_LIMIT")
    # The longest memory accepted, in characters (longer: 413).
    memory_max_chars: int = Field(default=10_000, gt=0, alias="WEBUI_MEMORY_MAX_CHARS")

    # --- tools (Open WebUI 0.12's names where it has them) ---
    # Tool servers until an admin saves some (JSON list of 0.12's connections; see
    # docs/user-guide.md "Tools").
    tool_server_connections: list[dict[str, Any]] = Field(
        default_factory=list, alias="TOOL_SERVER_CONNECTIONS"
    )
    # Seconds one tool call may take (Open WebUI: AIOHTTP_CLIENT_TIMEOUT, 300 s); a slower
    # tool gives the model an error result and the answer goes on.
    tool_server_timeout_s: float = Field(
        default=30.0, gt=0, alias="AIOHTTP_CLIENT_TIMEOUT_TOOL_SERVER"
    )
    # The largest tool answer read, in bytes; a bigger one gives the model an error result.
    tool_result_max_bytes: int = Field(
        default=256 * 1024, gt=0, alias="WEBUI_TOOL_RESULT_MAX_BYTES"
    )
    # Rounds of tool calls in one answer (Open WebUI's default: 256); then the model is asked
    # once more without tools.
    max_tool_rounds: int = Field(default=10, ge=1, alias="CHAT_RESPONSE_MAX_TOOL_CALL_ITERATIONS")
    # Seconds a tool call waits for its user's yes (`webui chat --confirm`, 0.12's
    # `tool_approval_mode: "ask"`); no answer in time is a no.
    tool_approval_timeout_s: float = Field(default=300.0, gt=0, alias="WEBUI_TOOL_APPROVAL_TIMEOUT")

    # --- chat turns ---
    # Name a chat after its first exchange, asking TASK_MODEL (empty: the chat's own model).
    enable_title_generation: bool = Field(default=True, alias="ENABLE_TITLE_GENERATION")
    task_model: str = Field(default="", alias="TASK_MODEL")

    @field_validator("file_max_size", "file_max_count", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def db_path(self) -> Path:
        return self.data_dir / "webui.db"

    def resolved_socket_path(self) -> Path:
        if self.socket_path is not None:
            return self.socket_path
        if self.shared:
            return Path("/run/webui/webui.sock")
        return default_socket_path()

    def daemon_uid(self) -> int:
        return os.getuid()
