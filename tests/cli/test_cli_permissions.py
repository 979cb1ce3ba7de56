"""`webui permissions show|set`, `webui models access` and `webui kb access`: the real CLI in a
subprocess against a daemon (as its admin, on the socket); users with tokens over TCP check that
each change takes effect."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli_chat_support import api, chat_env
from tests.cli_support import one_error_line, webui
from tests.corpus.make import model_env
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import PASSWORD, bearer, tcp

MODEL, OTHER = "standin:latest", "zephyr:latest"


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, OTHER], reply="Hi.")
    yield s
    s.stop()


daemon = daemon_fixture(
    env=lambda standin: model_env(provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false")),
    tmp="cli-perms",
)


@pytest.fixture(scope="module")
def people(daemon: DaemonProc) -> dict[str, Any]:
    """Two plain users with tokens, and a group `gpu` with Bob in it."""
    out: dict[str, Any] = {}
    with api(daemon) as c:
        for name in ("Una", "Bob"):
            form = {"name": name, "email": f"{name.lower()}@example.com", "password": PASSWORD}
            r = c.post("/api/v1/auths/add", json={**form, "role": "user"})
            assert r.status_code == 200, r.text
            out[name.lower()] = r.json()
        group = c.post("/api/v1/groups/create", json={"name": "gpu", "description": ""}).json()
        c.post(f"/api/v1/groups/id/{group['id']}/users/add", json={"user_ids": [out["bob"]["id"]]})
        out["group"] = group
    return out


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def ok(env: dict[str, str], *args: str) -> str:
    result = webui(*args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def as_user(daemon: DaemonProc, person: dict[str, Any]) -> httpx.Client:
    return tcp(daemon, headers=bearer(person["token"]))


def sees(daemon: DaemonProc, person: dict[str, Any]) -> set[str]:
    with as_user(daemon, person) as c:
        return {m["id"] for m in c.get("/api/models").json()["data"]}


def defaults(daemon: DaemonProc) -> dict[str, dict[str, bool]]:
    with api(daemon) as c:
        return dict(c.get("/api/v1/users/default/permissions").json())


def test_permissions_show_and_set_defaults(
    daemon: DaemonProc, env: dict[str, str], people: dict[str, Any]
) -> None:
    tree = json.loads(ok(env, "permissions", "show", "--json"))
    assert tree == defaults(daemon) and tree["workspace"]["knowledge"] is False
    rows = [line.split("\t") for line in ok(env, "permissions", "show").splitlines()]
    assert ["workspace.knowledge", "no"] in rows and ["chat.file_upload", "yes"] in rows

    with as_user(daemon, people["una"]) as c:
        refused = c.post("/api/v1/knowledge/create", json={"name": "Una's"})
        assert refused.status_code == 401
        said = ok(env, "permissions", "set", "workspace.knowledge", "true")
        assert said.strip() == "workspace.knowledge is on for everyone (the default)."
        assert c.post("/api/v1/knowledge/create", json={"name": "Una's"}).status_code == 200
    after = defaults(daemon)
    assert after["workspace"]["knowledge"] is True
    # Only that key changed: the whole tree went back, not a part of it.
    assert {s: v for s, v in after.items() if s != "workspace"} == {
        s: v for s, v in tree.items() if s != "workspace"
    }
    off = json.loads(ok(env, "permissions", "set", "workspace.knowledge", "off", "--json"))
    assert off["workspace"]["knowledge"] is False == defaults(daemon)["workspace"]["knowledge"]


def test_permissions_for_a_group(
    daemon: DaemonProc, env: dict[str, str], people: dict[str, Any]
) -> None:
    said = ok(env, "permissions", "set", "workspace.knowledge", "true", "--group", "gpu")
    assert said.strip() == "workspace.knowledge is on for group gpu."
    with api(daemon) as c:
        group = c.get(f"/api/v1/groups/id/{people['group']['id']}").json()
    assert group["permissions"] == {"workspace": {"knowledge": True}}
    with as_user(daemon, people["bob"]) as c:
        assert c.get("/api/v1/users/permissions").json()["workspace"]["knowledge"] is True
    with as_user(daemon, people["una"]) as c:
        assert c.get("/api/v1/users/permissions").json()["workspace"]["knowledge"] is False

    shown = json.loads(ok(env, "permissions", "show", "--group", people["group"]["id"], "--json"))
    assert shown["workspace"]["knowledge"] is True and shown["workspace"]["models"] is False
    assert shown["chat"]["file_upload"] is False  # not the group's: the default gives it
    rows = [line.split("\t") for line in ok(env, "permissions", "show", "-g", "gpu").splitlines()]
    assert ["workspace.knowledge", "yes", "no"] in rows and [
        "chat.file_upload",
        "no",
        "yes",
    ] in rows

    # Off for a group while the default allows it: said to change nothing for its members.
    result = webui("permissions", "set", "chat.file_upload", "false", "--group", "gpu", env=env)
    assert result.returncode == 0, result.stderr
    assert "every user keeps it" in result.stderr
    ok(env, "permissions", "set", "workspace.knowledge", "false", "--group", "gpu")


def test_permissions_usage_errors(env: dict[str, str], people: dict[str, Any]) -> None:
    unknown = webui("permissions", "set", "workspace.knowlege", "true", env=env)
    assert unknown.returncode == 1
    line = one_error_line(unknown)
    assert "unknown permission 'workspace.knowlege'" in line
    assert "workspace.knowledge" in line and "workspace.models" in line
    assert "chat.file_upload" not in line  # only that section's keys

    section = webui("permissions", "set", "workspaces.knowledge", "true", env=env)
    assert section.returncode == 1
    assert "sections are workspace, sharing, access_grants, chat" in one_error_line(section)
    value = webui("permissions", "set", "workspace.knowledge", "maybe", env=env)
    assert value.returncode == 1
    assert "true or false, not 'maybe'" in one_error_line(value)
    group = webui("permissions", "show", "--group", "nobody", env=env)
    assert group.returncode == 2
    assert "no group named 'nobody'" in one_error_line(group)


def test_models_access(daemon: DaemonProc, env: dict[str, str], people: dict[str, Any]) -> None:
    una, bob = people["una"], people["bob"]
    assert MODEL not in sees(daemon, una)
    shown = json.loads(ok(env, "models", "access", MODEL, "--json"))
    assert shown["record"] is False and shown["access"] == []

    # A user by name (as the refusals to local users say it), read by default.
    result = webui("models", "access", MODEL, "--user", "una", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Una <una@example.com> can now read model {MODEL}."
    assert "had no access record" in result.stderr
    assert MODEL in sees(daemon, una) and MODEL not in sees(daemon, bob)

    ok(env, "models", "access", MODEL, "--group", "gpu", "--write")
    assert MODEL in sees(daemon, bob)
    shown = json.loads(ok(env, "models", "access", MODEL, "--json"))
    assert shown["record"] is True
    access = {(r["type"], r["name"], r["access"]) for r in shown["access"]}
    assert access == {("user", "Una <una@example.com>", "read"), ("group", "gpu", "write")}
    rows = [line.split("\t") for line in ok(env, "models", "access", MODEL).splitlines()]
    assert [una["id"], "user", "Una <una@example.com>", "read"] in rows

    # By email; --none takes the grant away, at once.
    gone = ok(env, "models", "access", MODEL, "--user", "una@example.com", "--none")
    assert gone.strip() == f"Una <una@example.com> has no grant on model {MODEL} now."
    assert MODEL not in sees(daemon, una) and MODEL in sees(daemon, bob)


def test_models_access_errors(env: dict[str, str], people: dict[str, Any]) -> None:
    cases = [
        (["--user", "nobody"], 2, "no user with id, email or name 'nobody'"),
        (["--group", "nobody"], 2, "no group named 'nobody'"),
        (["--user", "una", "--group", "gpu"], 1, "--user or --group, not both"),
        (["--user", "una", "--read", "--none"], 1, "one of --read, --write and --none"),
        (["--write"], 1, "--write needs --user or --group"),
    ]
    for args, code, words in cases:
        result = webui("models", "access", OTHER, *args, env=env)
        assert result.returncode == code, (args, result.stderr)
        assert words in one_error_line(result), args
    missing = webui("models", "access", "no-such-model", "--user", "una", env=env)
    assert missing.returncode == 2
    assert "no model 'no-such-model'" in one_error_line(missing)
    shown = json.loads(webui("models", "access", OTHER, "--json", env=env).stdout)
    assert shown["record"] is False  # nothing above made a record


def test_kb_access(daemon: DaemonProc, env: dict[str, str], people: dict[str, Any]) -> None:
    ok(env, "kb", "create", "Field notes")
    kb = json.loads(ok(env, "kb", "access", "Field notes", "--json"))
    assert kb["access"] == [] and kb["record"] is True
    with as_user(daemon, people["bob"]) as c:
        assert c.get(f"/api/v1/knowledge/{kb['knowledge_id']}").status_code == 401
        said = ok(env, "kb", "access", "field notes", "--group", "gpu")
        assert said.strip() == "group gpu can now read knowledge base 'Field notes'."
        assert c.get(f"/api/v1/knowledge/{kb['knowledge_id']}").status_code == 200
        write = json.loads(ok(env, "kb", "access", "Field notes", "-u", "bob", "--write", "--json"))
        assert {(r["name"], r["access"]) for r in write["access"]} == {
            ("gpu", "read"),
            ("Bob <bob@example.com>", "write"),
        }
        listed = c.get("/api/v1/knowledge/list").json()  # the ones Bob may change
        assert [k["id"] for k in listed] == [kb["knowledge_id"]]
        ok(env, "kb", "access", "Field notes", "--group", "gpu", "--none")
        ok(env, "kb", "access", "Field notes", "--user", "bob", "--none")
        assert c.get(f"/api/v1/knowledge/{kb['knowledge_id']}").status_code == 401
    missing = webui("kb", "access", "No such notes", "--user", "bob", env=env)
    assert missing.returncode == 2
    assert "no knowledge base matches 'No such notes'" in one_error_line(missing)
