"""Open WebUI 0.12's /api/v1/configs pages that webui keeps as stored values only: banners,
prompt suggestions, the models page, tool servers, and export/import of the stored config.

Values live in the config table under 0.12's own key names (`ui.banners`,
`ui.prompt_suggestions`, `task.*`, ...), so an export is 0.12's flat `{key: value}` shape.
An import writes only the keys webui reads (IMPORTABLE and the task settings) and ignores the
rest, so a 0.12 export cannot put values of unknown shape into webui's own settings. Banners and
suggestions are stored and exported; /api/config does not send them yet.
"""

from typing import Any

from webui_daemon.services import errors
from webui_daemon.services.turns.task_generation import CONFIG_KEYS as TASK_KEYS
from webui_daemon.storage.config import ConfigRepo

MODELS_KEYS = {
    "DEFAULT_MODELS": "ui.default_models",
    "DEFAULT_PINNED_MODELS": "ui.default_pinned_models",
    "MODEL_ORDER_LIST": "ui.model_order_list",
    "DEFAULT_MODEL_METADATA": "models.default_metadata",
    "DEFAULT_MODEL_PARAMS": "models.default_params",
}
IMPORTABLE = frozenset(
    {"ui.banners", "ui.prompt_suggestions", "ui.prompt_suggestions_i18n", *MODELS_KEYS.values()}
    | set(TASK_KEYS.values())
)


def not_available(feature: str) -> errors.Forbidden:
    """What a 0.12 route of a feature webui does not have yet answers (403, not 404)."""
    return errors.Forbidden(f"{feature} is not available in this webui daemon yet.")


class AdminConfigService:
    def __init__(self, config: ConfigRepo) -> None:
        self._config = config

    async def banners(self) -> list[dict[str, Any]]:
        value = await self._config.get("ui.banners")
        return value if isinstance(value, list) else []

    async def set_banners(self, banners: list[dict[str, Any]]) -> list[dict[str, Any]]:
        await self._config.set_many({"ui.banners": banners})
        return await self.banners()

    async def set_suggestions(
        self, suggestions: list[dict[str, Any]] | None, i18n: dict[str, Any] | None
    ) -> dict[str, Any]:
        await self._config.set_many(
            {"ui.prompt_suggestions": suggestions, "ui.prompt_suggestions_i18n": i18n or {}}
        )
        return {
            "suggestions": await self._config.get("ui.prompt_suggestions"),
            "i18n": await self._config.get("ui.prompt_suggestions_i18n"),
        }

    async def models(self) -> dict[str, Any]:
        stored = await self._config.all()
        return {name: stored.get(key) for name, key in MODELS_KEYS.items()}

    async def set_models(self, values: dict[str, Any]) -> dict[str, Any]:
        await self._config.set_many(
            {MODELS_KEYS[k]: v for k, v in values.items() if k in MODELS_KEYS}
        )
        return await self.models()

    async def export(self) -> dict[str, Any]:
        return await self._config.all()

    async def import_(self, config: dict[str, Any]) -> dict[str, Any]:
        await self._config.set_many({k: v for k, v in config.items() if k in IMPORTABLE})
        return await self.export()
