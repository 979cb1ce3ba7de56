"""Task generation (/api/v1/tasks/...): the task settings and the helper completions Open WebUI's
clients ask for — a chat's title, tags, follow-up suggestions, search queries, an emoji.

Each task renders its prompt (task_prompts), asks the task model through the ordinary answer
path (AnswerService.prepare + complete: the model's access rules, presets and the scheduler
apply) and answers the provider's chat.completion as it came, as 0.12 does; the client reads
the JSON in its message.

The task model: the admin's TASK_MODEL (then TASK_MODEL_EXTERNAL) when set, else the
model the request names. The settings are stored under 0.12's config keys (`task.*`);
unset ones read as the environment's (TASK_MODEL, ENABLE_TITLE_GENERATION) or 0.12's defaults.
Server-side turns title chats with the environment's TASK_MODEL (services.turns).
"""

from dataclasses import dataclass
from typing import Any

from webui_daemon.schemas.completions import ChatCompletionForm
from webui_daemon.services import errors
from webui_daemon.services.completions.answers import AnswerService
from webui_daemon.services.turns import task_prompts
from webui_daemon.storage.config import ConfigRepo
from webui_daemon.storage.rows import UserRow

# 0.12's field name -> stored config key.
CONFIG_KEYS = {
    "TASK_MODEL": "task.model.default",
    "TASK_MODEL_EXTERNAL": "task.model.external",
    "TASK_MODEL_PARAMS": "task.model.params",
    "TITLE_GENERATION_PROMPT_TEMPLATE": "task.title.prompt_template",
    "IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE": "task.image.prompt_template",
    "ENABLE_AUTOCOMPLETE_GENERATION": "task.autocomplete.enable",
    "AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH": "task.autocomplete.input_max_length",
    "AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE": "task.autocomplete.prompt_template",
    "TAGS_GENERATION_PROMPT_TEMPLATE": "task.tags.prompt_template",
    "FOLLOW_UP_GENERATION_PROMPT_TEMPLATE": "task.follow_up.prompt_template",
    "ENABLE_FOLLOW_UP_GENERATION": "task.follow_up.enable",
    "ENABLE_TAGS_GENERATION": "task.tags.enable",
    "ENABLE_TITLE_GENERATION": "task.title.enable",
    "ENABLE_SEARCH_QUERY_GENERATION": "task.query.search.enable",
    "ENABLE_RETRIEVAL_QUERY_GENERATION": "task.query.retrieval.enable",
    "QUERY_GENERATION_PROMPT_TEMPLATE": "task.query.prompt_template",
    "TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE": "task.tools.prompt_template",
    "ENABLE_VOICE_MODE_PROMPT": "task.voice.prompt.enable",
    "VOICE_MODE_PROMPT_TEMPLATE": "task.voice.prompt_template",
}


def task_defaults(task_model: str, enable_title_generation: bool) -> dict[str, Any]:
    """0.12's defaults (an empty template means: the built-in one)."""
    return {
        "TASK_MODEL": task_model,
        "TASK_MODEL_EXTERNAL": "",
        "TASK_MODEL_PARAMS": {},
        "TITLE_GENERATION_PROMPT_TEMPLATE": "",
        "IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE": "",
        "ENABLE_AUTOCOMPLETE_GENERATION": False,
        "AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH": -1,
        "AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE": "",
        "TAGS_GENERATION_PROMPT_TEMPLATE": "",
        "FOLLOW_UP_GENERATION_PROMPT_TEMPLATE": "",
        "ENABLE_FOLLOW_UP_GENERATION": True,
        "ENABLE_TAGS_GENERATION": True,
        "ENABLE_TITLE_GENERATION": enable_title_generation,
        "ENABLE_SEARCH_QUERY_GENERATION": True,
        "ENABLE_RETRIEVAL_QUERY_GENERATION": True,
        "QUERY_GENERATION_PROMPT_TEMPLATE": "",
        "TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE": "",
        "ENABLE_VOICE_MODE_PROMPT": True,
        "VOICE_MODE_PROMPT_TEMPLATE": "",
    }


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """What a task route was asked: the chat's model, its messages, the emoji task's text."""

    model: str
    messages: list[dict[str, Any]]
    prompt: str = ""
    kind: str | None = None  # queries: "web_search" | "retrieval"


@dataclass(frozen=True, slots=True)
class Disabled:
    """0.12 answers a disabled title/tags/follow-up task with 200 `{"detail": ...}`."""

    detail: str


class TaskGenerationService:
    def __init__(self, answers: AnswerService, config: ConfigRepo, base: dict[str, Any]) -> None:
        self._answers = answers
        self._config = config
        self._base = base

    async def settings(self) -> dict[str, Any]:
        stored = await self._config.all()
        return {
            name: stored[key] if key in stored else self._base.get(name)
            for name, key in CONFIG_KEYS.items()
        }

    async def update(self, values: dict[str, Any]) -> dict[str, Any]:
        values = dict(values)
        if values.get("AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH") is None:
            values["AUTOCOMPLETE_GENERATION_INPUT_MAX_LENGTH"] = -1
        await self._config.set_many(
            {CONFIG_KEYS[k]: v for k, v in values.items() if k in CONFIG_KEYS}
        )
        return await self.settings()

    async def title(self, user: UserRow, req: TaskRequest) -> dict[str, Any] | Disabled:
        s = await self.settings()
        if not s["ENABLE_TITLE_GENERATION"]:
            return Disabled("Title generation is disabled")
        if not req.model:
            raise errors.WebUIError(
                "No model specified for title generation. "
                "Please ensure a model is selected for this chat."
            )
        template = str(s["TITLE_GENERATION_PROMPT_TEMPLATE"] or "")
        prompt = task_prompts.title_prompt(template, req.messages)
        return await self._ask(user, s, req.model, prompt)

    async def tags(self, user: UserRow, req: TaskRequest) -> dict[str, Any] | Disabled:
        s = await self.settings()
        if not s["ENABLE_TAGS_GENERATION"]:
            return Disabled("Tags generation is disabled")
        template = str(s["TAGS_GENERATION_PROMPT_TEMPLATE"] or "") or task_prompts.TAGS_PROMPT
        return await self._ask(user, s, req.model, task_prompts.render(template, req.messages))

    async def follow_ups(self, user: UserRow, req: TaskRequest) -> dict[str, Any] | Disabled:
        s = await self.settings()
        if not s["ENABLE_FOLLOW_UP_GENERATION"]:
            return Disabled("Follow-up generation is disabled")
        template = (
            str(s["FOLLOW_UP_GENERATION_PROMPT_TEMPLATE"] or "") or task_prompts.FOLLOW_UP_PROMPT
        )
        return await self._ask(user, s, req.model, task_prompts.render(template, req.messages))

    async def queries(self, user: UserRow, req: TaskRequest) -> dict[str, Any]:
        s = await self.settings()
        if req.kind == "web_search" and not s["ENABLE_SEARCH_QUERY_GENERATION"]:
            raise errors.WebUIError(_disabled("Search query generation"))
        if req.kind == "retrieval" and not s["ENABLE_RETRIEVAL_QUERY_GENERATION"]:
            raise errors.WebUIError(_disabled("Query generation"))
        template = (
            str(s["QUERY_GENERATION_PROMPT_TEMPLATE"] or "").strip() or task_prompts.QUERY_PROMPT
        )
        return await self._ask(user, s, req.model, task_prompts.render(template, req.messages))

    async def emoji(self, user: UserRow, req: TaskRequest) -> dict[str, Any]:
        s = await self.settings()
        prompt = task_prompts.render(task_prompts.EMOJI_PROMPT, [], prompt=req.prompt)
        return await self._ask(user, s, req.model, prompt, params={"max_tokens": 4})

    async def _ask(
        self,
        user: UserRow,
        s: dict[str, Any],
        model: str,
        prompt: str,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        task_params = s.get("TASK_MODEL_PARAMS") or {}
        if not isinstance(task_params, dict):
            task_params = {}
        body: dict[str, Any] = {
            "model": self._task_model(s, model),
            "messages": [{"role": "user", "content": prompt}],
            "stream": False,
            **{k: v for k, v in task_params.items() if v not in (None, "")},
            **(params or {}),
        }
        form = ChatCompletionForm.model_validate(body)
        # Interactive: a person's client is waiting for the title or suggestions.
        answer = await self._answers.prepare(user, form, memory=False)  # a task, not a chat
        return await self._answers.complete(answer)

    @staticmethod
    def _task_model(s: dict[str, Any], model: str) -> str:
        for name in ("TASK_MODEL", "TASK_MODEL_EXTERNAL"):
            value = s.get(name)
            if isinstance(value, str) and value:
                return value
        return model


def _disabled(feature: str) -> str:
    return f"{feature} is disabled"
