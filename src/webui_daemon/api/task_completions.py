"""/api/v1/tasks: the task settings (GET for everyone signed in, update for admins) and the
task completions — title, tags, follow-ups, search queries, emoji (services.turns.task_generation).

A completion answers the task model's chat.completion as it came; a disabled title, tags or
follow-up task answers 200 `{"detail": "... is disabled"}`, as 0.12.
"""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from webui_daemon.api.deps import AdminUser, ServicesDep, VerifiedUser
from webui_daemon.schemas.tasks import TaskConfigForm, TaskForm
from webui_daemon.services.turns.task_generation import Disabled, TaskRequest

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


def _request(form: TaskForm) -> TaskRequest:
    return TaskRequest(model=form.model, messages=form.messages, prompt=form.prompt, kind=form.type)


def _answer(result: dict[str, Any] | Disabled) -> Any:
    if isinstance(result, Disabled):
        return JSONResponse({"detail": result.detail})
    return result


@router.get("/config")
async def task_config(_: VerifiedUser, services: ServicesDep) -> dict[str, Any]:
    return await services.task_generation.settings()


@router.post("/config/update")
async def update_task_config(
    form: TaskConfigForm, _: AdminUser, services: ServicesDep
) -> dict[str, Any]:
    return await services.task_generation.update(form.model_dump())


@router.post("/title/completions", response_model=None)
async def title(form: TaskForm, user: VerifiedUser, services: ServicesDep) -> Any:
    return _answer(await services.task_generation.title(user, _request(form)))


@router.post("/tags/completions", response_model=None)
async def tags(form: TaskForm, user: VerifiedUser, services: ServicesDep) -> Any:
    return _answer(await services.task_generation.tags(user, _request(form)))


@router.post("/follow_up/completions", response_model=None)
async def follow_ups(form: TaskForm, user: VerifiedUser, services: ServicesDep) -> Any:
    return _answer(await services.task_generation.follow_ups(user, _request(form)))


@router.post("/queries/completions")
async def queries(form: TaskForm, user: VerifiedUser, services: ServicesDep) -> dict[str, Any]:
    return await services.task_generation.queries(user, _request(form))


@router.post("/emoji/completions")
async def emoji(form: TaskForm, user: VerifiedUser, services: ServicesDep) -> dict[str, Any]:
    return await services.task_generation.emoji(user, _request(form))
