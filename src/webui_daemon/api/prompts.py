"""/api/v1/prompts: the prompt library (0.12.4's routes by id, 0.6's by command), sharing,
versions."""

from typing import Annotated

from fastapi import APIRouter, Query

from webui_daemon.api.deps import ServicesDep, VerifiedUser
from webui_daemon.schemas.prompts import (
    PromptAccessGrantsForm,
    PromptAccessListResponse,
    PromptAccessResponse,
    PromptDiff,
    PromptForm,
    PromptHistoryResponse,
    PromptMetadataForm,
    PromptModel,
    PromptVersionUpdateForm,
)

router = APIRouter(prefix="/api/v1/prompts", tags=["prompts"])

Text = Annotated[str | None, Query(max_length=500)]


@router.get("/")
@router.get("", include_in_schema=False)
async def list_prompts(user: VerifiedUser, services: ServicesDep) -> list[PromptAccessResponse]:
    return await services.prompts.all(user)


@router.get("/tags")
async def prompt_tags(user: VerifiedUser, services: ServicesDep) -> list[str]:
    return await services.prompts.tags(user)


@router.get("/list")
async def prompt_page(
    user: VerifiedUser,
    services: ServicesDep,
    query: Text = None,
    view_option: Text = None,
    tag: Text = None,
    order_by: Text = None,
    direction: Text = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> PromptAccessListResponse:
    return await services.prompts.page(
        user,
        query=query,
        view_option=view_option,
        tag=tag,
        order_by=order_by,
        direction=direction,
        page=page,
    )


@router.post("/create")
async def create_prompt(form: PromptForm, user: VerifiedUser, services: ServicesDep) -> PromptModel:
    return await services.prompts.create(user, form)


@router.get("/id/{prompt_id}")
async def get_prompt(
    prompt_id: str, user: VerifiedUser, services: ServicesDep
) -> PromptAccessResponse:
    return await services.prompts.get(user, prompt_id)


@router.post("/id/{prompt_id}/update")
async def update_prompt(
    prompt_id: str, form: PromptForm, user: VerifiedUser, services: ServicesDep
) -> PromptModel:
    return await services.prompts.update(user, prompt_id, form)


@router.post("/id/{prompt_id}/update/meta")
async def update_prompt_meta(
    prompt_id: str, form: PromptMetadataForm, user: VerifiedUser, services: ServicesDep
) -> PromptModel:
    return await services.prompts.update_meta(user, prompt_id, form)


@router.post("/id/{prompt_id}/update/version")
async def set_prompt_version(
    prompt_id: str, form: PromptVersionUpdateForm, user: VerifiedUser, services: ServicesDep
) -> PromptModel:
    return await services.prompts.set_version(user, prompt_id, form.version_id)


@router.post("/id/{prompt_id}/access/update")
async def update_prompt_access(
    prompt_id: str, form: PromptAccessGrantsForm, user: VerifiedUser, services: ServicesDep
) -> PromptModel:
    return await services.prompts.update_access(user, prompt_id, form.access_grants)


@router.post("/id/{prompt_id}/toggle")
async def toggle_prompt(prompt_id: str, user: VerifiedUser, services: ServicesDep) -> PromptModel:
    return await services.prompts.toggle(user, prompt_id)


@router.delete("/id/{prompt_id}/delete")
async def delete_prompt(prompt_id: str, user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.prompts.delete(user, prompt_id)


@router.get("/id/{prompt_id}/history")
async def prompt_history(
    prompt_id: str,
    user: VerifiedUser,
    services: ServicesDep,
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[PromptHistoryResponse]:
    return await services.prompts.history(user, prompt_id, page)


@router.get("/id/{prompt_id}/history/diff")
async def prompt_diff(
    prompt_id: str,
    from_id: Annotated[str, Query(max_length=64)],
    to_id: Annotated[str, Query(max_length=64)],
    user: VerifiedUser,
    services: ServicesDep,
) -> PromptDiff:
    return await services.prompts.diff(user, prompt_id, from_id, to_id)


@router.get("/id/{prompt_id}/history/{history_id}")
async def prompt_history_entry(
    prompt_id: str, history_id: str, user: VerifiedUser, services: ServicesDep
) -> PromptHistoryResponse:
    return await services.prompts.history_entry(user, prompt_id, history_id)


@router.delete("/id/{prompt_id}/history/{history_id}")
async def delete_prompt_history_entry(
    prompt_id: str, history_id: str, user: VerifiedUser, services: ServicesDep
) -> bool:
    return await services.prompts.delete_history(user, prompt_id, history_id)


# ---- Open WebUI 0.6: the same prompts named by their command --------------------------------


@router.get("/command/{command}")
async def get_prompt_by_command(
    command: str, user: VerifiedUser, services: ServicesDep
) -> PromptAccessResponse:
    return await services.prompts.by_command(user, command)


@router.post("/command/{command}/update")
async def update_prompt_by_command(
    command: str, form: PromptForm, user: VerifiedUser, services: ServicesDep
) -> PromptModel:
    return await services.prompts.update(user, await services.prompts.command_id(command), form)


@router.delete("/command/{command}/delete")
async def delete_prompt_by_command(command: str, user: VerifiedUser, services: ServicesDep) -> bool:
    return await services.prompts.delete(user, await services.prompts.command_id(command))
