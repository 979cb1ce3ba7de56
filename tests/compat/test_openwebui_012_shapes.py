"""The daemon's answers in Open WebUI 0.12.4's shapes, beyond the key sets the contract suite
compares: the values of the new keys, the user status route, 0.12's permission keys at work,
group config and nesting, grant ids, the NDJSON chat export, `share_mode`, file hashes."""

import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.daemon_proc import DaemonProc
from tests.support import assert_error, bearer, signup, tcp, unix

NESTING = "Nested groups are not supported by webui: parent_group_id must be null."
GRANT_KEYS = [
    "id",
    "resource_type",
    "resource_id",
    "principal_type",
    "principal_id",
    "permission",
    "created_at",
]


@pytest.fixture(scope="module")
def admin(daemon: DaemonProc) -> Iterator[httpx.Client]:
    """The OS user on the socket: the first account, so the admin."""
    with unix(daemon) as c:
        assert c.get("/api/v1/auths/").json()["role"] == "admin"
        yield c


@pytest.fixture(scope="module")
def uma(daemon: DaemonProc, admin: httpx.Client) -> Iterator[tuple[httpx.Client, str]]:
    """A plain user over TCP, and her id."""
    with tcp(daemon) as c:
        who = signup(c, "Uma", f"uma-{uuid.uuid4().hex[:6]}@example.com")
        assert who["role"] == "user"
        c.headers.update(bearer(who["token"]))
        yield c, who["id"]


# --- users: 0.12's status ------------------------------------------------------------------------


def test_user_status_is_set_kept_and_shown_everywhere(
    admin: httpx.Client, uma: tuple[httpx.Client, str]
) -> None:
    client, uma_id = uma
    mine = client.get("/api/v1/users/user/status").json()
    assert {k: mine[k] for k in ("status_emoji", "status_message", "status_expires_at")} == {
        "status_emoji": None,
        "status_message": None,
        "status_expires_at": None,
    }
    assert mine["presence_state"] is None and mine["scim"] is None
    assert mine["profile_banner_image_url"] is None

    status = {"status_emoji": "🌴", "status_message": "On leave", "status_expires_at": 1900000000}
    r = client.post("/api/v1/users/user/status/update", json=status)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in status} == status
    # Only the keys sent with a value change.
    r = client.post("/api/v1/users/user/status/update", json={"status_message": "Back Monday"})
    kept = {**status, "status_message": "Back Monday"}
    assert {k: r.json()[k] for k in status} == kept

    session = client.get("/api/v1/auths/").json()
    assert {k: session[k] for k in status} == kept
    assert {k: admin.get(f"/api/v1/users/{uma_id}").json()[k] for k in status} == kept
    listed = admin.get("/api/v1/users/", params={"page": 1}).json()["users"]
    assert {k: next(u for u in listed if u["id"] == uma_id)[k] for k in status} == kept

    bad = client.post("/api/v1/users/user/status/update", json={"status_expires_at": -1})
    assert bad.status_code == 422
    with httpx.Client(base_url=str(client.base_url)) as anonymous:
        assert anonymous.post("/api/v1/users/user/status/update", json={}).status_code == 401


# --- permissions: 0.12's keys, and the ones that act ---------------------------------------------


def test_the_permission_tree_has_012s_keys_with_012s_defaults(
    admin: httpx.Client, uma: tuple[httpx.Client, str]
) -> None:
    tree = admin.get("/api/v1/users/default/permissions").json()
    assert tree["access_grants"] == {"allow_users": True, "allow_groups": True}
    new_sharing = ("skills", "public_skills", "folders", "open_chats", "public_calendars")
    assert all(tree["sharing"][key] is False for key in new_sharing)
    new_workspace = ("models_hidden", "skills_import", "skills_export")
    assert all(tree["workspace"][key] is False for key in new_workspace)
    assert tree["features"]["encrypted_channels"] is False
    client, _ = uma
    assert set(client.get("/api/v1/users/permissions").json()) == set(tree)


def test_access_grants_allow_users_decides_whom_a_user_may_share_with(
    admin: httpx.Client, uma: tuple[httpx.Client, str]
) -> None:
    client, _ = uma
    defaults = admin.get("/api/v1/users/default/permissions").json()
    opened = {
        **defaults,
        "workspace": {**defaults["workspace"], "knowledge": True},
        "sharing": {**defaults["sharing"], "knowledge": True},
        "access_grants": {"allow_users": False, "allow_groups": True},
    }
    admin.post("/api/v1/users/default/permissions", json=opened).raise_for_status()
    try:
        kb = client.post("/api/v1/knowledge/create", json={"name": "Uma's", "description": ""})
        assert kb.status_code == 200, kb.text
        path = f"/api/v1/knowledge/{kb.json()['id']}/access/update"
        someone = str(uuid.uuid4())
        to_user = {"principal_type": "user", "principal_id": someone, "permission": "read"}
        assert_error(client.post(path, json={"access_grants": [to_user]}), 403)
        group = admin.post("/api/v1/groups/create", json={"name": "crew", "description": ""})
        to_group = {"principal_type": "group", "principal_id": group.json()["id"]}
        shared = client.post(path, json={"access_grants": [to_group]})
        assert shared.status_code == 200, shared.text
        grant = shared.json()["access_grants"][0]
        assert list(grant) == GRANT_KEYS
        assert (grant["resource_type"], grant["resource_id"]) == ("knowledge", kb.json()["id"])
        assert grant["principal_id"] == group.json()["id"]
    finally:
        admin.post("/api/v1/users/default/permissions", json=defaults).raise_for_status()
    assert admin.get("/api/v1/users/default/permissions").json() == defaults


# --- groups --------------------------------------------------------------------------------------


def test_groups_get_012s_share_config_and_refuse_nesting(admin: httpx.Client) -> None:
    made = admin.post("/api/v1/groups/create", json={"name": "gpu", "description": "GPU box"})
    assert made.status_code == 200, made.text
    group = made.json()
    assert group["parent_group_id"] is None
    assert group["data"] == {"config": {"share": "members"}}
    own = admin.post(
        "/api/v1/groups/create",
        json={"name": "open", "description": "", "data": {"config": {"share": True}, "x": 1}},
    ).json()
    assert own["data"] == {"config": {"share": True}, "x": 1}
    child = {"name": "child", "description": "", "parent_group_id": group["id"]}
    assert assert_error(admin.post("/api/v1/groups/create", json=child), 400) == NESTING
    path = f"/api/v1/groups/id/{group['id']}/update"
    assert assert_error(admin.post(path, json={"parent_group_id": own["id"]}), 400) == NESTING
    updated = admin.post(path, json={"data": {"note": "kept"}}).json()
    assert updated["data"] == {"note": "kept", "config": {"share": "members"}}
    assert admin.get(f"/api/v1/groups/id/{group['id']}").json()["parent_group_id"] is None


# --- /api/config and /api/version ----------------------------------------------------------------


def test_config_tells_signed_in_callers_012s_flags_with_webuis_values(
    admin: httpx.Client, uma: tuple[httpx.Client, str]
) -> None:
    client, _ = uma
    assert client.get("/api/version").json()["deployment_id"] == ""
    config = client.get("/api/config").json()
    assert "onboarding" not in config and config["i18n"] == {}
    assert config["oauth"] == {"providers": {}, "auto_redirect": False}
    features = config["features"]
    assert features["enable_notes"] is True and features["enable_memories"] is True
    assert features["enable_user_status"] is True and features["enable_folders"] is True
    off = ("enable_tools", "enable_functions", "enable_channels", "enable_web_search", "slim")
    assert all(features[key] is False for key in off)
    assert features["enable_api_key"] == features["enable_api_keys"]  # 0.6's name beside 0.12's
    assert config["license_metadata"] is None and config["default_models"] is None
    assert config["file"]["image_compression"] == {"width": None, "height": None}

    pages = admin.get("/api/v1/configs/models").json()
    tasks = admin.get("/api/v1/tasks/config").json()
    try:
        admin.post(
            "/api/v1/configs/models", json={**pages, "DEFAULT_MODELS": "llama3.1:8b"}
        ).raise_for_status()
        admin.post(
            "/api/v1/tasks/config/update", json={**tasks, "ENABLE_TAGS_GENERATION": False}
        ).raise_for_status()
        config = client.get("/api/config").json()
        assert config["default_models"] == "llama3.1:8b"
        assert config["features"]["enable_tags_generation"] is False
        assert config["features"]["enable_follow_up_generation"] is True
    finally:
        admin.post("/api/v1/configs/models", json=pages).raise_for_status()
        admin.post("/api/v1/tasks/config/update", json=tasks).raise_for_status()
    public = httpx.get(client.base_url.join("/api/config")).json()
    assert "permissions" not in public and public["features"]["slim"] is False


# --- model records and grants --------------------------------------------------------------------


def test_model_records_and_their_grants_in_012s_shape(
    admin: httpx.Client, uma: tuple[httpx.Client, str]
) -> None:
    _, uma_id = uma
    to_uma = {"principal_type": "user", "principal_id": uma_id, "permission": "read"}
    form = {
        "id": "compat-terse",
        "name": "Terse",
        "meta": {"description": "One line."},
        "params": {"system": "Be terse."},
        "access_grants": [to_uma],
    }
    made = admin.post("/api/v1/models/create", json=form)
    assert made.status_code == 200, made.text
    record = made.json()
    assert record["version_id"] is None
    assert record["meta"]["description"] == "One line." and record["meta"]["voice"] is None
    (grant,) = record["access_grants"]
    assert list(grant) == GRANT_KEYS and isinstance(grant["created_at"], int)
    assert (grant["resource_type"], grant["resource_id"]) == ("model", "compat-terse")
    read = admin.get("/api/v1/models/model", params={"id": "compat-terse"}).json()
    assert read["access_grants"][0]["id"] == grant["id"]  # the same grant, the same id
    assert "user" in read and read["write_access"] is True
    writer = admin.post(
        "/api/v1/models/model/access/update",
        json={"id": "compat-terse", "access_grants": [{**to_uma, "permission": "write"}]},
    ).json()["access_grants"][0]
    assert writer["id"] != grant["id"] and writer["permission"] == "write"

    exported = admin.get("/api/v1/models/export").json()
    mine = next(m for m in exported if m["id"] == "compat-terse")
    assert mine["background_image_data"] is None
    # An export imported again keeps the grants as they were (the answer's extra keys are
    # not stored with them).
    assert admin.post("/api/v1/models/import", json={"models": [mine]}).json() is True
    again = admin.get("/api/v1/models/model", params={"id": "compat-terse"}).json()
    assert again["access_grants"] == [{**writer, "created_at": again["updated_at"]}]
    assert admin.post("/api/v1/models/model/delete", json={"id": "compat-terse"}).json() is True


def test_prompt_grants_come_from_the_same_helper(
    admin: httpx.Client, uma: tuple[httpx.Client, str]
) -> None:
    _, uma_id = uma
    grant = {"principal_type": "user", "principal_id": uma_id, "permission": "read"}
    made = admin.post(
        "/api/v1/prompts/create",
        json={"command": "compat", "name": "Compat", "content": "Hi", "access_grants": [grant]},
    )
    assert made.status_code == 200, made.text
    (out,) = made.json()["access_grants"]
    assert list(out) == GRANT_KEYS
    assert (out["resource_type"], out["resource_id"]) == ("prompt", made.json()["id"])


# --- chats ---------------------------------------------------------------------------------------


def _chat(client: httpx.Client, title: str) -> dict[str, Any]:
    r = client.post("/api/v1/chats/new", json={"chat": {"title": title, "models": ["m"]}})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_chat_export_is_ndjson_and_a_json_array_to_json_only_clients(
    uma: tuple[httpx.Client, str],
) -> None:
    client, _ = uma
    ids = {_chat(client, "One")["id"], _chat(client, "Two")["id"]}
    r = client.get("/api/v1/chats/all")
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert r.text.endswith("\n") and ids <= {chat["id"] for chat in lines}
    both = client.get(
        "/api/v1/chats/all", headers={"Accept": "application/json, application/x-ndjson"}
    )
    assert both.headers["content-type"] == "application/x-ndjson"
    array = client.get("/api/v1/chats/all", headers={"Accept": "application/json"})
    assert array.headers["content-type"] == "application/json" and array.json() == lines


def test_share_mode_is_answered_on_read_and_never_stored(uma: tuple[httpx.Client, str]) -> None:
    client, _ = uma
    chat = _chat(client, "Shareable")
    assert "share_mode" not in chat["chat"]
    read = client.get(f"/api/v1/chats/{chat['id']}").json()
    assert read["chat"]["share_mode"] == "continue"
    # A client posting back what it read does not store the reader's share mode.
    saved = client.post(f"/api/v1/chats/{chat['id']}", json={"chat": read["chat"]}).json()
    assert "share_mode" not in saved["chat"]
    exported = client.get("/api/v1/chats/all", headers={"Accept": "application/json"}).json()
    assert "share_mode" not in next(c for c in exported if c["id"] == chat["id"])["chat"]
    stop = client.post(f"/api/tasks/chat/{chat['id']}/stop").json()
    assert stop == {"status": True, "message": "No tasks found."}


# --- folders, files, knowledge -------------------------------------------------------------------


def test_folders_files_and_knowledge_in_012s_shape(
    admin: httpx.Client, uma: tuple[httpx.Client, str]
) -> None:
    client, _ = uma
    folder = client.post("/api/v1/folders/", json={"name": "Compat"}).json()
    listed = next(f for f in client.get("/api/v1/folders/").json() if f["id"] == folder["id"])
    assert listed["unread_count"] == 0
    read = client.get(f"/api/v1/folders/{folder['id']}").json()
    assert (read["access_grants"], read["write_access"]) == ([], True)

    data = b"# Notes\n\nTwenty-five vacation days.\n"
    up = admin.post(
        "/api/v1/files/",
        params={"process": "false"},
        files={"file": ("notes.md", data, "text/markdown")},
    )
    assert up.status_code == 200, up.text
    assert up.json()["meta"]["file_hash"] == hashlib.sha256(data).hexdigest()
    assert "error" not in up.json()["data"]  # not processed yet: 0.12 says only the status

    kb = admin.post("/api/v1/knowledge/create", json={"name": "Compat", "description": ""})
    assert kb.status_code == 200 and kb.json()["files"] == []
    files = admin.get(f"/api/v1/knowledge/{kb.json()['id']}/files", params={"page": 1}).json()
    assert files == {"items": [], "directories": [], "breadcrumbs": [], "total": 0}
