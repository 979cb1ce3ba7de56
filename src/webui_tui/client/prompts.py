"""The prompt library: list, read, create, change, share and delete `/command` templates.

Speaks Open WebUI 0.12's routes (by id); a prompt is found by its command through the list,
which every version has. Commands are kept without 0.6's leading slash.
"""

from typing import Any

from pydantic import TypeAdapter

from webui_daemon.schemas.prompts import Prompt
from webui_tui.client.base import LATER, BaseClient, parse
from webui_tui.client.errors import NotFound

BASE = "/api/v1/prompts"
_PROMPTS: TypeAdapter[list[Prompt]] = TypeAdapter(list[Prompt], config=LATER)


class PromptsMixin(BaseClient):
    async def list_prompts(self) -> list[Prompt]:
        """Every prompt the caller may read (their own, shared with them; an admin's: all)."""
        return await self._list(f"{BASE}/", _PROMPTS)

    async def find_prompt(self, command: str) -> Prompt:
        """The prompt whose command is `command` (with or without its slash)."""
        wanted = command.strip().removeprefix("/")
        for prompt in await self.list_prompts():
            if prompt.command == wanted:
                return prompt
        path = f"{BASE}/command/{wanted}"
        raise NotFound(404, f"no prompt /{wanted}", "GET", path)

    async def get_prompt(self, prompt_id: str) -> Prompt:
        return await self._get(f"{BASE}/id/{prompt_id}", Prompt)

    async def create_prompt(
        self,
        command: str,
        name: str,
        content: str,
        *,
        tags: list[str] | None = None,
        access_grants: list[dict[str, str]] | None = None,
    ) -> Prompt:
        body: dict[str, Any] = {
            "command": command.removeprefix("/"),
            "name": name,
            "content": content,
            "tags": tags or [],
        }
        if access_grants is not None:
            body["access_grants"] = access_grants
        return await self._post(f"{BASE}/create", Prompt, body)

    async def update_prompt(
        self,
        prompt: Prompt,
        *,
        command: str | None = None,
        name: str | None = None,
        content: str | None = None,
        tags: list[str] | None = None,
    ) -> Prompt:
        """Change what is given, keep the rest (a new version when the text changes)."""
        body = {
            "command": (command or prompt.command).removeprefix("/"),
            "name": prompt.name if name is None else name,
            "content": prompt.content if content is None else content,
            "tags": prompt.tags if tags is None else tags,
        }
        return await self._post(f"{BASE}/id/{self._id(prompt)}/update", Prompt, body)

    async def update_prompt_access(self, prompt: Prompt, grants: list[dict[str, str]]) -> Prompt:
        path = f"{BASE}/id/{self._id(prompt)}/access/update"
        return parse(Prompt, await self.request("POST", path, body={"access_grants": grants}), path)

    async def delete_prompt(self, prompt: Prompt) -> bool:
        return await self._bool("DELETE", f"{BASE}/id/{self._id(prompt)}/delete")

    @staticmethod
    def _id(prompt: Prompt) -> str:
        if not prompt.id:
            raise NotFound(404, f"/{prompt.command} has no id (an Open WebUI before 0.9?)", "", "")
        return prompt.id
