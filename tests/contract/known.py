# ruff: noqa: E501  (each difference is one line, as the test prints it)
"""The differences between our daemon and Open WebUI 0.12.4 that test_contract_daemon accepts,
each with its reason: step -> {difference: reason}. Every one is deliberate: where the daemon
answered less than 0.12.4, it now answers 0.12's shape (issue 12 part 2)."""

OLD = "deliberate: 0.6.43's keys stay beside 0.12's where that costs nothing (compatibility.md)"
OURS = "deliberate: webui's extension (compatibility.md)"
EXT_INFO = "deliberate: GET /api/webui/info is webui's; Open WebUI answers its web page (the client reads that as: not a webui daemon)"
EXT_ROUTES = "deliberate: webui's own route; Open WebUI answers its web page (the client says the route is not served)"
EXT_TURNS = "deliberate: server-side turns (compatibility.md); Open WebUI saves such a turn itself and answers JSON null, and the client saves turns itself there"
EXT_CANCEL = "deliberate: POST /api/v1/files/process/cancel is webui's; Open WebUI has no such route (405), and kb add goes on without it"
EXT_KEYS = "deliberate: the daemon accepts API keys on GET /api/v1/auths/ (compatibility.md); 0.12 answers 403, and the client then asks /api/v1/users/user/status"
OURS_KB_FILES = "deliberate: webui's extension: a base's files carry their name and processing status (schemas.knowledge.KnowledgeFileItem)"
OURS_PINNED = "deliberate: webui's extension: chat lists say which chats are pinned"
OURS_PROMPT_OWNER = "deliberate: webui's extension: a prompt names its owner (0.12.4 sends `user: null` by id, none in lists) and a list says what you may do (write_access), for `webui prompts list`"
IMAGE_UPLOAD = "deliberate: an upload answers one shape, processed or not (0.12.4 leaves `status` and `path` out with process=false); the client reads the id only"
OURS_STDIO = "deliberate: webui's extension: a local MCP server the daemon starts (`command`, `env`; compatibility.md, Tools)"
OURS_SPECS = "deliberate: webui's extension: the daemon lists the functions of OpenAPI servers too (0.12.4: MCP ones only); `webui tools test` says so against Open WebUI"
LENIENT_KEY = "deliberate: the daemon takes a connection without `key` (none); 0.12.4 wants it present (422), and the client always sends it"
PUBLIC = "deliberate: a model record created without access rules is public read, as in 0.6 (0.12 makes it private: no grants)"

KNOWN: dict[str, dict[str, str]] = {
    "version": {
        ". extra: webui_version": OURS,
    },
    "config-public": {
        "features extra: enable_api_key, enable_version_update_check": OLD,
    },
    "auths-signup-first": {
        ". extra: bio, date_of_birth, gender": OLD,
    },
    "auths-signin": {
        ". extra: bio, date_of_birth, gender": OLD,
    },
    "config-signed-in": {
        "features extra: enable_api_key": OLD,
    },
    "webui-info": {
        "content-type application/json, Open WebUI text/html": EXT_INFO,
    },
    "auths-session-api-key": {
        ". extra: bio, date_of_birth, email, expires_at, gender, id, name, permissions, profile_image_url, role, status_emoji, status_expires_at, status_message, token, token_type": EXT_KEYS,
        ". missing: detail": EXT_KEYS,
        "permissions extra: access_grants, chat, features, settings, sharing, workspace": EXT_KEYS,
        "status 200, Open WebUI 403": EXT_KEYS,
    },
    "users-status-api-key": {
        ". extra: os_uid": OURS,
    },
    "auths-signin-user": {
        ". extra: bio, date_of_birth, gender": OLD,
    },
    "users-list": {
        "users extra: os_uid": OURS,
    },
    "users-search": {
        "users extra: os_uid": OURS,
    },
    "users-get": {
        ". extra: os_uid": OURS,
    },
    "users-update-role": {
        ". extra: os_uid": OURS,
    },
    "groups-create": {
        ". extra: user_ids": OLD,
    },
    "groups-list": {
        ". extra: user_ids": OLD,
    },
    "groups-get": {
        ". extra: user_ids": OLD,
    },
    "groups-add-member": {
        ". extra: user_ids": OLD,
    },
    "groups-list-with-member": {
        ". extra: user_ids": OLD,
    },
    "groups-remove-member": {
        ". extra: user_ids": OLD,
    },
    "groups-update": {
        ". extra: user_ids": OLD,
    },
    "models-create-preset": {
        ". extra: access_control": OLD,
        "access_grants extra: created_at, id, permission, principal_id, principal_type, resource_id, resource_type": PUBLIC,
    },
    "models-get-record": {
        ". extra: access_control": OLD,
        "access_grants extra: created_at, id, permission, principal_id, principal_type, resource_id, resource_type": PUBLIC,
    },
    "models-update-preset": {
        ". extra: access_control": OLD,
        "access_grants extra: created_at, id, permission, principal_id, principal_type, resource_id, resource_type": PUBLIC,
    },
    "models-access-update": {
        ". extra: access_control": OLD,
        "access_control extra: read, write": OLD,
    },
    "models-export": {
        ". extra: access_control": OLD,
        "access_control extra: read, write": OLD,
    },
    "completion-server-turn": {
        "content-type text/event-stream, Open WebUI application/json": EXT_TURNS,
    },
    "chats-list": {
        ". extra: pinned": OURS_PINNED,
    },
    "chats-list-page": {
        ". extra: pinned": OURS_PINNED,
    },
    "chats-list-loose": {
        ". extra: pinned": OURS_PINNED,
    },
    "chats-search": {
        ". extra: pinned": OURS_PINNED,
    },
    "chats-pinned": {
        ". extra: pinned": OURS_PINNED,
    },
    "chats-with-tag": {
        ". extra: pinned": OURS_PINNED,
    },
    "chats-archived": {
        ". extra: pinned": OURS_PINNED,
    },
    "chats-message-stream": {
        "content-type text/event-stream, Open WebUI text/html": EXT_TURNS,
    },
    "folders-list": {
        ". extra: data, items, user_id": OLD,
    },
    "folders-list-expanded": {
        ". extra: data, items, user_id": OLD,
    },
    "knowledge-create": {
        ". extra: access_control, data, file_count, user, warnings, write_access": OLD,
        "access_control extra: read, write": OLD,
        "user extra: email, id, name, profile_image_url, role": OLD,
    },
    "knowledge-list": {
        "items extra: access_control, data": OLD,
    },
    "knowledge-get-empty": {
        ". extra: access_control, data, file_count, user, warnings": OLD,
        "access_control extra: read, write": OLD,
        "user extra: email, id, name, profile_image_url, role": OLD,
    },
    "files-status": {
        ". extra: chunk_count, error": OURS,
    },
    "files-get": {
        "data extra: chunk_count": OURS,
    },
    "knowledge-file-add": {
        ". extra: access_control, data, file_count, user, warnings": OLD,
        "access_control extra: read, write": OLD,
        "files extra: error, filename, status": OURS_KB_FILES,
        "user extra: email, id, name, profile_image_url, role": OLD,
    },
    "knowledge-file-add-again": {
        ". extra: access_control, data, file_count, user, warnings": OLD,
        "access_control extra: read, write": OLD,
        "files extra: error, filename, status": OURS_KB_FILES,
        "user extra: email, id, name, profile_image_url, role": OLD,
    },
    "knowledge-get": {
        ". extra: access_control, data, file_count, user, warnings": OLD,
        "access_control extra: read, write": OLD,
        "files extra: created_at, error, filename, hash, id, meta, status, updated_at": OLD,
        "user extra: email, id, name, profile_image_url, role": OLD,
    },
    "knowledge-files": {
        "items extra: path": OLD,
    },
    "knowledge-list-with-file": {
        "items extra: access_control, data": OLD,
    },
    "retrieval-query": {
        ". extra: ids": OLD,
    },
    "retrieval-query-hybrid": {
        ". extra: ids": OLD,
    },
    "knowledge-access-update": {
        ". extra: access_control, data, file_count, user, warnings": OLD,
        "access_control extra: read, write": OLD,
        "files extra: error, filename, status": OURS_KB_FILES,
        "user extra: email, id, name, profile_image_url, role": OLD,
    },
    "knowledge-get-as-user": {
        ". extra: access_control, data, file_count, user, warnings": OLD,
        "access_control extra: read, write": OLD,
        "files extra: created_at, error, filename, hash, id, meta, status, updated_at": OLD,
        "user extra: email, id, name, profile_image_url, role": OLD,
    },
    "files-cancel": {
        ". extra: cancelled": EXT_CANCEL,
        ". missing: detail": EXT_CANCEL,
        "status 200, Open WebUI 405": EXT_CANCEL,
    },
    "knowledge-file-remove": {
        ". extra: access_control, data, file_count, user, warnings": OLD,
        "access_control extra: read, write": OLD,
        "user extra: email, id, name, profile_image_url, role": OLD,
    },
    "prompts-create": {
        ". extra: access_control, timestamp, title": OLD,
        "access_control extra: read, write": OLD,
    },
    "prompts-list": {
        ". extra: access_control, timestamp, title, user, write_access": OURS_PROMPT_OWNER,
        "access_control extra: read, write": OLD,
        "user extra: email, id, name, profile_image_url, role": OURS_PROMPT_OWNER,
    },
    "prompts-get": {
        ". extra: access_control, timestamp, title": OLD,
        "access_control extra: read, write": OLD,
        "user extra: email, id, name, profile_image_url, role": OURS_PROMPT_OWNER,
    },
    "prompts-update": {
        ". extra: access_control, timestamp, title": OLD,
        "access_control extra: read, write": OLD,
    },
    "prompts-access-update": {
        ". extra: access_control, timestamp, title": OLD,
        "access_control extra: read, write": OLD,
    },
    "prompts-list-as-user-shared": {
        ". extra: access_control, timestamp, title, user, write_access": OURS_PROMPT_OWNER,
        "access_control extra: read, write": OLD,
        "user extra: email, id, name, profile_image_url, role": OURS_PROMPT_OWNER,
    },
    "prompts-get-as-user-shared": {
        ". extra: access_control, timestamp, title": OLD,
        "access_control extra: read, write": OLD,
        "user extra: email, id, name, profile_image_url, role": OURS_PROMPT_OWNER,
    },
    "notes-create": {
        ". extra: access_control": OLD,
        "access_control extra: read, write": OLD,
    },
    "notes-get": {
        ". extra: access_control": OLD,
        "access_control extra: read, write": OLD,
    },
    "notes-update": {
        ". extra: access_control": OLD,
        "access_control extra: read, write": OLD,
    },
    "notes-access-update": {
        ". extra: access_control": OLD,
        "access_control extra: read, write": OLD,
    },
    "notes-get-as-user-shared": {
        ". extra: access_control": OLD,
        "access_control extra: read, write": OLD,
    },
    "files-upload-image": {
        ". extra: path, status": IMAGE_UPLOAD,
    },
    "tool-servers-config-update": {
        "TOOL_SERVER_CONNECTIONS extra: command, env": OURS_STDIO,
    },
    "tools-specs-openapi": {
        ". extra: specs": OURS_SPECS,
        ". missing: detail": OURS_SPECS,
        "specs extra: description, name, parameters": OURS_SPECS,
        "status 200, Open WebUI 404": OURS_SPECS,
    },
    "tool-servers-verify-no-key": {
        "detail missing: input, loc, msg, type": LENIENT_KEY,
        "status 400, Open WebUI 422": LENIENT_KEY,
    },
    "webui-generations": {
        "content-type application/json, Open WebUI text/html": EXT_ROUTES,
    },
    "webui-usage": {
        "content-type application/json, Open WebUI text/html": EXT_ROUTES,
    },
}
