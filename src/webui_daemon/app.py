"""create_app(settings): the FastAPI app, and the lifespan that builds every resource."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from webui_daemon import __version__
from webui_daemon.api import (
    auths,
    chats,
    errors,
    folders,
    groups,
    prompts,
    system,
    task_completions,
    tasks,
    users,
    workspace,
)
from webui_daemon.api import completions as completions_api
from webui_daemon.api import files as files_api
from webui_daemon.api import knowledge as knowledge_api
from webui_daemon.api import memories as memories_api
from webui_daemon.api import models as models_api
from webui_daemon.api import notes as notes_api
from webui_daemon.api import ollama as ollama_api
from webui_daemon.api import openai as openai_api
from webui_daemon.api import retrieval as retrieval_api
from webui_daemon.api import tools as tools_api
from webui_daemon.api.limits import BodySizeLimit
from webui_daemon.api.text_guard import TextGuard
from webui_daemon.container import KnowledgeServices, ListenInfo, build_services
from webui_daemon.settings import Settings

log = logging.getLogger(__name__)
MB = 1024 * 1024

__all__ = ["ListenInfo", "StartupFailed", "create_app"]


class StartupFailed(Exception):
    """The lifespan could not build the daemon's resources (already logged in one line)."""


async def _rag_startup(rag: KnowledgeServices, warmup: bool) -> None:
    try:
        await rag.files.sweep_uploads()
        await rag.ingest.resume()
        if warmup:
            await rag.engine.warm()
    except Exception:
        log.exception("resuming file processing failed")


def create_app(settings: Settings, listen: ListenInfo | None = None) -> FastAPI:
    listen_info = listen or ListenInfo()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            services = await build_services(settings, listen_info)
        except Exception as exc:
            # One line for the person who started the daemon; the details at debug level.
            log.error("cannot start: %s", exc)
            log.debug("start-up failure", exc_info=True)
            raise StartupFailed(str(exc)) from exc
        app.state.services = services
        await services.turns.recover()  # answers a killed daemon left unfinished, before serving
        services.rag.ingest.start()
        services.rag.engine.start_idle_watch()
        services.usage.start()
        # After the socket is up: resume unfinished ingest, re-index for a new model, warm up.
        background = asyncio.create_task(_rag_startup(services.rag, settings.rag_warmup))
        log.info("webui daemon %s ready (data: %s)", __version__, settings.data_dir)
        # Everything built so far (modules, routes, schemas, services) lives as long as the
        # daemon: out of the collector's sight, so the occasional full collection does not
        # walk it again and again in the middle of someone's request.
        gc.freeze()
        gc.enable()  # off while the daemon started (`python -m webui_daemon`, `webui serve`)
        try:
            yield
        finally:
            background.cancel()
            await services.turns.shutdown()  # saves what each live answer has, first
            await services.usage.aclose()  # the counters of the answers just ended
            await services.rag.aclose()
            await services.tools.aclose()
            await services.providers.aclose()
            await services.db.close()

    app = FastAPI(
        title="webui daemon",
        version=__version__,
        description="Open WebUI's HTTP API, served for the terminal.",
        lifespan=lifespan,
    )
    errors.install(app)
    # Completions first: routes are matched in order, and this is the one where every
    # fraction of a millisecond shows (time to first token).
    app.include_router(completions_api.router)
    for module in (system, auths, users, groups, chats, folders):
        app.include_router(module.router)
    for module in (models_api, tasks, ollama_api, openai_api):
        app.include_router(module.router)
    for module in (files_api, knowledge_api, retrieval_api):
        app.include_router(module.router)
    for module in (prompts, notes_api, memories_api):  # the workspace
        app.include_router(module.router)
    for module in (task_completions, tools_api, workspace):  # 0.12's tasks, tools, the rest
        app.include_router(module.router)
    app.include_router(workspace.unserved)  # last: whole families this daemon has not

    def upload_limit() -> int:
        services = getattr(app.state, "services", None)
        limit = services.rag.files.upload_limit() if services else settings.max_upload_mb * MB
        return limit + MB  # room for the multipart envelope around the file

    # Added first, so it runs inside the size limit: it reads bodies already bounded.
    app.add_middleware(TextGuard)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        path_limits={"/api/v1/files/": upload_limit, "/api/v1/files": upload_limit},
    )
    return app
