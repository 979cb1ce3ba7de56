"""The permission tree (spec 3): defaults, and a user's effective value (defaults OR groups)."""

import copy
from collections.abc import Iterable

Permissions = dict[str, dict[str, bool]]

DEFAULT_PERMISSIONS: Permissions = {
    "workspace": {
        "models": False,
        "knowledge": False,
        "prompts": False,
        "tools": False,
        "skills": False,
        "models_import": False,
        "models_export": False,
        "models_hidden": False,
        "prompts_import": False,
        "prompts_export": False,
        "tools_import": False,
        "tools_export": False,
        "skills_import": False,
        "skills_export": False,
    },
    "sharing": {
        "models": False,
        "public_models": False,
        "knowledge": False,
        "public_knowledge": False,
        "prompts": False,
        "public_prompts": False,
        "tools": False,
        "public_tools": False,
        "skills": False,
        "public_skills": False,
        "notes": False,
        "public_notes": False,
        "folders": False,
        "public_chats": False,
        "open_chats": False,
        "public_calendars": False,
    },
    # 0.12: whom a sharer may name in a grant (individual users, groups).
    "access_grants": {"allow_users": True, "allow_groups": True},
    "chat": {
        "controls": True,
        "valves": True,
        "system_prompt": True,
        "params": True,
        "file_upload": True,
        "web_upload": True,
        "delete": True,
        "delete_message": True,
        "continue_response": True,
        "regenerate_response": True,
        "rate_response": True,
        "edit": True,
        "share": True,
        "export": True,
        "import": True,
        "stt": True,
        "tts": True,
        "call": True,
        "multiple_models": True,
        "temporary": True,
        "temporary_enforced": False,
    },
    "features": {
        # On here (off in Open WebUI): API keys are enabled by default for scripts.
        "api_keys": True,
        "notes": True,
        "folders": True,
        "channels": True,
        "encrypted_channels": False,
        "direct_tool_servers": False,
        "web_search": True,
        "image_generation": True,
        "code_interpreter": True,
        "memories": True,
        "automations": False,
        "calendar": True,
        "webhooks": False,
    },
    "settings": {"interface": True},
}


# What local accounts (known by their uid on the socket) may do on top of the defaults when
# local users are trusted (WEBUI_LOCAL_USERS=trusted): make their own knowledge bases, prompts
# and notes.
LOCAL_TRUSTED: Permissions = {
    "workspace": {"knowledge": True, "prompts": True},
    "features": {"notes": True},
}


def merge_defaults(stored: Permissions | None) -> Permissions:
    """Stored defaults over the built-in tree, so new keys appear for old databases."""
    tree = copy.deepcopy(DEFAULT_PERMISSIONS)
    for section, values in (stored or {}).items():
        tree.setdefault(section, {}).update(values)
    return tree


def effective(defaults: Permissions, groups: Iterable[Permissions | None]) -> Permissions:
    """A permission holds when the default or any of the user's groups grants it."""
    tree = copy.deepcopy(defaults)
    for group in groups:
        for section, values in (group or {}).items():
            target = tree.setdefault(section, {})
            for key, allowed in values.items():
                target[key] = target.get(key, False) or bool(allowed)
    return tree


# Keys that restrict rather than grant: holding "every permission" must not switch them on.
_RESTRICTIONS = frozenset({("chat", "temporary_enforced")})


def everything(defaults: Permissions) -> Permissions:
    """Admins hold every permission (and none of the restrictions)."""
    return {
        section: {key: (section, key) not in _RESTRICTIONS for key in values}
        for section, values in defaults.items()
    }
