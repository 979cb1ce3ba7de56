"""What `GET /api/config` tells a signed-in caller beyond the public part: Open WebUI 0.12.4's
feature flags and settings, with webui's values (a feature webui does not have is false).

0.12 reads these from its config; webui has most of them fixed. The stored values it does keep
(default models, prompt suggestions: /api/v1/configs, under 0.12's key names) and the task
switches (/api/v1/tasks/config) are passed in.
"""

from dataclasses import dataclass
from typing import Any

# 0.12's default text for the web search confirmation (webui has no web search).
WEB_SEARCH_CONFIRMATION = "Your query will be sent to the configured web search provider."


@dataclass(frozen=True, slots=True)
class Switches:
    """The flags webui can change: its settings and the stored task settings."""

    enable_api_keys: bool
    enable_notes: bool
    enable_memories: bool
    enable_title_generation: bool
    enable_follow_up_generation: bool
    enable_tags_generation: bool


def signed_in_features(switches: Switches) -> dict[str, Any]:
    """0.12's flags for signed-in callers, in its order."""
    return {
        "enable_api_keys": switches.enable_api_keys,
        "enable_password_change_form": True,
        "enable_version_update_check": False,
        "enable_pyodide_file_persistence": False,
        "enable_public_active_users_count": False,
        "enable_easter_eggs": False,
        "enable_direct_connections": False,
        "enable_direct_integrations": False,
        "enable_plugins": False,
        "enable_tools": False,
        "enable_functions": False,
        "enable_tool_servers": False,
        "enable_terminal_servers": False,
        "enable_folders": True,
        "folder_max_file_count": "",
        "enable_channels": False,
        "enable_encrypted_channels": False,
        "enable_apps": False,
        "enable_calendar": False,
        "enable_automations": False,
        "enable_notes": switches.enable_notes,
        "enable_context_compaction": False,
        "enable_tool_permissions": False,
        "enable_web_search": False,
        "enable_web_search_confirmation": False,
        "web_search_confirmation_content": WEB_SEARCH_CONFIRMATION,
        "enable_code_execution": False,
        "enable_code_interpreter": False,
        "enable_image_generation": False,
        "enable_autocomplete_generation": False,
        "enable_title_generation": switches.enable_title_generation,
        "enable_follow_up_generation": switches.enable_follow_up_generation,
        "enable_tags_generation": switches.enable_tags_generation,
        "enable_community_sharing": False,
        "enable_message_rating": True,
        "enable_user_webhooks": False,
        "enable_user_status": True,
        "enable_admin_export": False,
        "enable_admin_chat_access": False,
        "enable_admin_analytics": False,
        "enable_google_drive_integration": False,
        "enable_onedrive_integration": False,
        "enable_memories": switches.enable_memories,
        "enable_subagents": False,
    }


def signed_in_settings(stored: dict[str, Any], permissions: dict[str, Any]) -> dict[str, Any]:
    """0.12's top-level keys for signed-in callers. `stored`: the config table (0.12's key
    names); `permissions`: the caller's own tree (0.12 sends its default one)."""
    return {
        "default_models": stored.get("ui.default_models"),
        "default_pinned_models": stored.get("ui.default_pinned_models"),
        "default_prompt_suggestions": stored.get("ui.prompt_suggestions"),
        "default_prompt_suggestions_i18n": stored.get("ui.prompt_suggestions_i18n") or {},
        "code": {"engine": "", "interpreter_engine": ""},
        "audio": {
            "realtime": {"enabled": False, "model": "", "voice": ""},
            "tts": {"engine": "", "voice": "", "split_on": "punctuation"},
            "stt": {"engine": ""},
        },
        "file": {
            "max_size": None,
            "max_count": None,
            "image_compression": {"width": None, "height": None},
        },
        "permissions": permissions,
        "google_drive": {"client_id": "", "api_key": ""},
        "onedrive": {
            "client_id_personal": "",
            "client_id_business": "",
            "sharepoint_url": "",
            "sharepoint_tenant_id": "",
        },
        "ui": {
            "default_interface_settings": {},
            "visibility": {},
            "pending_user_overlay_title": "",
            "pending_user_overlay_content": "",
            "response_watermark": "",
            "iframe_csp": "",
        },
        "license_metadata": None,
    }
