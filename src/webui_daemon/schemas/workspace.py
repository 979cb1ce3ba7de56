"""Wire models of the 0.12 route families webui answers with stored or empty shapes:
/api/v1/configs (banners, suggestions, models, export/import) and the workspace lists."""

from typing import Any

from pydantic import BaseModel, Field


class BannerModel(BaseModel):
    i18n: dict[str, dict[str, str]] | None = None
    id: str = Field(max_length=1000)
    type: str = Field(max_length=100)
    title: str | None = Field(default=None, max_length=10_000)
    content: str = Field(max_length=100_000)
    dismissible: bool
    timestamp: int = Field(ge=0, le=2**62)


class SetBannersForm(BaseModel):
    banners: list[BannerModel] = Field(max_length=1000)


class PromptSuggestion(BaseModel):
    title: list[str] = Field(max_length=10)
    content: str = Field(max_length=100_000)


class SetDefaultSuggestionsForm(BaseModel):
    suggestions: list[PromptSuggestion] | None = Field(max_length=1000)
    i18n: dict[str, Any] | None = None


class ModelsConfigForm(BaseModel):
    DEFAULT_MODELS: str | None
    DEFAULT_PINNED_MODELS: str | None
    MODEL_ORDER_LIST: list[str] | None
    DEFAULT_MODEL_METADATA: dict[str, Any] | None = None
    DEFAULT_MODEL_PARAMS: dict[str, Any] | None = None


class ImportConfigForm(BaseModel):
    config: dict[str, Any]


class EmptyPage(BaseModel):
    """A paged list with nothing in it (0.12's `{items, total}`)."""

    items: list[dict[str, Any]] = Field(default_factory=list)
    total: int = 0
