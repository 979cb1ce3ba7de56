"""A shared daemon on one box, as its local users meet it (two real extra OS accounts, root
only): trusted by default (every unrestricted model, their own knowledge bases and prompts), a
model record narrows a model, refusals name the admin command, and `--local-users restricted`
is Open WebUI's rules."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_proc import DaemonProc, start_daemon
from tests.os_users import OsUser, os_user_account, run_as
from tests.standins import StandIn, provider_env, start_ollama
from tests.support import unix

MODELS = ["standin:latest", "big:latest"]
PROMPT = {"command": "mine", "name": "Mine", "content": "Summarize: {{CLIPBOARD}}"}


@pytest.fixture(scope="module")
def users() -> Iterator[tuple[OsUser, OsUser]]:
    with os_user_account() as alice, os_user_account(alice.group) as bob:
        yield alice, bob


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=MODELS, reply="Hello from the box.")
    yield s
    s.stop()


def shared(base: Path, group: str, standin: StandIn, *args: str) -> DaemonProc:
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    return start_daemon(
        base,
        socket_path=base / "run" / "webui.sock",
        args=["--shared", "--group", group, *args],
        env=provider_env(ollama=[standin], ENABLE_TITLE_GENERATION="false"),
    )


@pytest.fixture(scope="module")
def open_dir() -> Iterator[Path]:
    """A folder every account can traverse (pytest's own tmp folders are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="webui-box-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def call(daemon: DaemonProc, method: str, path: str, body: Any = None) -> dict[str, Any]:
    step: dict[str, Any] = {
        "op": "http",
        "socket": str(daemon.socket_path),
        "method": method,
        "path": path,
    }
    if body is not None:
        step["json"] = body
    return step


def ask(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": False}


def test_local_users_are_trusted_by_default_and_a_record_narrows_a_model(
    users: tuple[OsUser, OsUser], standin: StandIn, open_dir: Path
) -> None:
    alice, bob = users
    daemon = shared(open_dir / "trusted", alice.group, standin)
    try:
        models, answer, kb, prompt = run_as(
            alice,
            [
                call(daemon, "GET", "/api/models"),
                call(daemon, "POST", "/api/chat/completions", ask("big:latest")),
                call(daemon, "POST", "/api/v1/knowledge/create", {"name": "mine"}),
                call(daemon, "POST", "/api/v1/prompts/create", PROMPT),
            ],
        )
        assert prompt["status"] == 200 and prompt["body"]["command"] == "mine", prompt
        assert models["status"] == 200, models
        assert sorted(m["id"] for m in models["body"]["data"]) == sorted(MODELS)
        assert answer["status"] == 200, answer
        assert answer["body"]["choices"][0]["message"]["content"] == "Hello from the box."
        assert kb["status"] == 200 and kb["body"]["name"] == "mine", kb

        # The admin (the daemon's account) narrows big:latest to bob; it takes effect at once.
        with unix(daemon) as admin:
            bob_id = run_as(bob, [call(daemon, "GET", "/api/v1/auths/")])[0]["body"]["id"]
            grants = [{"principal_type": "user", "principal_id": bob_id, "permission": "read"}]
            r = admin.post(
                "/api/v1/models/create",
                json={"id": "big:latest", "name": "Big", "access_grants": grants},
            )
            assert r.status_code == 200, r.text
        models, refused = run_as(
            alice,
            [
                call(daemon, "GET", "/api/models"),
                call(daemon, "POST", "/api/chat/completions", ask("big:latest")),
            ],
        )
        assert [m["id"] for m in models["body"]["data"]] == ["standin:latest"]
        assert refused["status"] == 403, refused
        assert refused["body"]["detail"] == (
            f"model big:latest is restricted: an admin can run "
            f"`webui models access big:latest --user {alice.name}`"
        )
        [bobs] = run_as(bob, [call(daemon, "POST", "/api/chat/completions", ask("big:latest"))])
        assert bobs["status"] == 200, bobs
        with unix(daemon) as admin:
            info = admin.get("/api/webui/info").json()
        assert (info["shared"], info["local_users"]) == (True, "trusted")
    finally:
        daemon.stop()


def test_restricted_local_users_follow_open_webui_rules_and_are_told_why(
    users: tuple[OsUser, OsUser], standin: StandIn, open_dir: Path
) -> None:
    alice, _ = users
    daemon = shared(open_dir / "restricted", alice.group, standin, "--local-users", "restricted")
    try:
        models, answer, kb, prompt = run_as(
            alice,
            [
                call(daemon, "GET", "/api/models"),
                call(daemon, "POST", "/api/chat/completions", ask("standin:latest")),
                call(daemon, "POST", "/api/v1/knowledge/create", {"name": "mine"}),
                call(daemon, "POST", "/api/v1/prompts/create", PROMPT),
            ],
        )
        assert prompt["status"] == 401, prompt
        assert prompt["body"]["detail"] == (
            f"{alice.name} may not create prompts: an admin can run "
            "`webui permissions set workspace.prompts true` (everyone) or "
            "`webui permissions set workspace.prompts true --group GROUP`"
        )
        assert models["status"] == 200 and models["body"]["data"] == [], models
        assert answer["status"] == 400 and answer["body"]["detail"] == "Model not found"
        assert kb["status"] == 401, kb
        assert kb["body"]["detail"] == (
            f"{alice.name} may not create knowledge bases: an admin can run "
            "`webui permissions set workspace.knowledge true` (everyone) or "
            "`webui permissions set workspace.knowledge true --group GROUP`"
        )
        with unix(daemon) as admin:
            assert admin.get("/api/webui/info").json()["local_users"] == "restricted"
    finally:
        daemon.stop()
