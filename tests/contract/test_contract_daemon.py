"""(b) Our daemon beside Open WebUI 0.12.4: the scenario's requests sent to a fresh daemon, each
answer compared with the recording by status, content type and key sets (the top level and one
level down). Every difference is listed in `known.KNOWN` with its reason; a difference not
listed fails, and so does a listed one that went away (take it out of the list)."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.known import KNOWN
from tests.contract.scenario import (
    ADMIN,
    EMBEDDING_MODEL,
    OLLAMA_MODEL,
    OPENAI_MODEL,
    STEPS,
    Exchange,
    Runner,
    load,
)
from tests.corpus.make import model_env
from tests.daemon_proc import start_daemon
from tests.standins import provider_env, start_ollama, start_openai
from tests.support import tcp
from tests.tools.tool_procs import start_tool_server


def _keys(value: Any) -> set[str] | None:
    """An object's keys; a list of objects: all their keys; anything else: None."""
    if isinstance(value, dict):
        return set(value)
    dicts = [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
    return set().union(*dicts) if dicts else None


def shape(body: Any) -> dict[str, set[str]]:
    """{".": the top level's keys (a list's: its items'), key: the keys one level down}."""
    top = _keys(body)
    if top is None:
        return {}
    out = {".": top}
    for item in body if isinstance(body, list) else [body]:
        if isinstance(item, dict):
            for key, value in item.items():
                below = _keys(value)
                if below is not None:
                    out.setdefault(key, set()).update(below)
    return out


def differences(recorded: dict[str, Any], ours: Exchange) -> set[str]:
    found = set()
    if recorded["status"] != ours.status:
        found.add(f"status {ours.status}, Open WebUI {recorded['status']}")
    if recorded["content_type"] != ours.content_type:
        found.add(f"content-type {ours.content_type}, Open WebUI {recorded['content_type']}")
    if recorded["content_type"] != "application/json" or ours.content_type != "application/json":
        return found
    theirs, mine = shape(recorded["body"]), shape(ours.body)
    for where in sorted(set(theirs) | set(mine)):
        missing = theirs.get(where, set()) - mine.get(where, set())
        extra = mine.get(where, set()) - theirs.get(where, set())
        if missing:
            found.add(f"{where} missing: {', '.join(sorted(missing))}")
        if extra:
            found.add(f"{where} extra: {', '.join(sorted(extra))}")
    return found


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Exchange]]:
    ollama = start_ollama(models=[OLLAMA_MODEL, EMBEDDING_MODEL], tokens=8)
    openai = start_openai(models=[OPENAI_MODEL], tokens=8)
    tools = start_tool_server("openapi")
    env = model_env(provider_env(ollama=[ollama], openai=[openai]))
    env |= {"DEFAULT_USER_ROLE": "pending", "ENABLE_TITLE_GENERATION": "false"}
    daemon = start_daemon(tmp_path_factory.mktemp("contract"), env=env)
    try:
        with tcp(daemon, timeout=60) as http:
            urls = {"ollama_url": ollama.url, "openai_url": openai.url, "tool_url": tools.url}
            runner = Runner(http, urls)
            yield {exchange.step.name: exchange for exchange in runner.run_all()}
    finally:
        daemon.stop()
        tools.stop()
        ollama.stop()
        openai.stop()


@pytest.mark.parametrize("name", [step.name for step in STEPS])
def test_the_daemon_answers_as_open_webui_or_the_difference_is_known(
    name: str, answers: dict[str, Exchange]
) -> None:
    found = differences(load(name), answers[name])
    known = set(KNOWN.get(name, {}))
    assert found - known == set(), f"new differences of {name}: {sorted(found - known)}"
    assert known - found == set(), f"gone (take out of KNOWN): {sorted(known - found)}"


def test_every_known_difference_has_a_reason() -> None:
    names = {step.name for step in STEPS}
    for name, listed in KNOWN.items():
        assert name in names, name
        assert all(reason.strip() for reason in listed.values()), name


def test_the_first_account_is_the_admin_on_both(answers: dict[str, Exchange]) -> None:
    ours = answers["auths-signup-first"].body
    assert (ours["email"], ours["role"]) == (ADMIN["email"], "admin")
    assert load("auths-signup-first")["body"]["role"] == "admin"
