"""`webui models ...` (pull, rm and ps too) and `webui config ...` against a real daemon with a
stand-in provider."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_chat_support import (
    MODEL,
    OTHER_MODEL,
    api,
    chat_env,
    standin_env,
)
from tests.cli_support import one_error_line, webui
from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, start_ollama


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama(models=[MODEL, OTHER_MODEL], reply="Arr, hello.")
    yield s
    s.stop()


# Long-lived model lists: only the daemon's own refresh after a pull or rm can show it.
daemon = daemon_fixture(
    env=lambda standin: standin_env(standin, MODELS_CACHE_TTL="300"), tmp="models"
)


@pytest.fixture
def env(daemon: DaemonProc, tmp_path: Path) -> dict[str, str]:
    return chat_env(daemon, tmp_path)


def _ids(env: dict[str, str]) -> list[str]:
    result = webui("models", "list", "--json", env=env)
    assert result.returncode == 0, result.stderr
    return [m["id"] for m in json.loads(result.stdout)]


def test_models_list_in_a_pipe_and_as_json(env: dict[str, str]) -> None:
    assert set(_ids(env)) >= {MODEL, OTHER_MODEL}
    plain = webui("models", "list", env=env)
    assert plain.returncode == 0, plain.stderr
    rows = [line.split("\t") for line in plain.stdout.splitlines()]
    assert [MODEL, MODEL, "ollama"] in [row[:3] for row in rows]


def test_show_a_base_model(env: dict[str, str]) -> None:
    shown = webui("models", "show", MODEL, env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"id        {MODEL}" in shown.stdout
    assert "provider  ollama" in shown.stdout
    as_json = json.loads(webui("models", "show", MODEL, "--json", env=env).stdout)
    assert as_json["id"] == MODEL and as_json["owned_by"] == "ollama"

    missing = webui("models", "show", "no-such-model", env=env)
    assert missing.returncode == 2
    assert "no model 'no-such-model'" in one_error_line(missing)


def test_preset_create_show_use_and_remove(env: dict[str, str], standin: StandIn) -> None:
    created = webui(
        "models", "preset", "create", "pirate", "--base", MODEL,
        "--system", "Talk like a pirate.", "--name", "Pirate",
        "--param", "temperature=0.2", "--param", "stop=[\"Arr\"]", "--param", "note=plain text",
        env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "Created preset pirate (based on standin:latest)" in created.stdout
    assert "pirate" in _ids(env)

    shown = json.loads(webui("models", "show", "pirate", "--json", env=env).stdout)
    record = shown["record"]
    assert record["base_model_id"] == MODEL and record["name"] == "Pirate"
    assert record["params"] == {
        "system": "Talk like a pirate.",
        "temperature": 0.2,
        "stop": ["Arr"],
        "note": "plain text",
    }
    human = webui("models", "show", "pirate", env=env).stdout
    assert "base      standin:latest" in human
    assert "system    Talk like a pirate." in human

    # The preset answers through its base model, its system prompt first.
    standin.reset(models=[MODEL, OTHER_MODEL], reply="Arr, hello.")
    answered = webui("chat", "--temporary", "-m", "pirate", "hi", env=env)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout == "Arr, hello.\n"
    sent = standin.chats()[-1].body
    assert sent["model"] == MODEL
    assert sent["messages"][0] == {"role": "system", "content": "Talk like a pirate."}

    unconfirmed = webui("models", "preset", "rm", "pirate", env=env)
    assert unconfirmed.returncode == 1
    assert "--yes" in one_error_line(unconfirmed)
    removed = webui("models", "preset", "rm", "pirate", "--yes", env=env)
    assert removed.returncode == 0, removed.stderr
    assert "pirate" not in _ids(env)


def test_preset_mistakes(env: dict[str, str]) -> None:
    no_base = webui("models", "preset", "create", "x", env=env)
    assert no_base.returncode == 1
    assert "--base" in one_error_line(no_base)
    bad_param = webui("models", "preset", "create", "x", "--base", MODEL, "-p", "novalue", env=env)
    assert bad_param.returncode == 1
    assert "key=value" in one_error_line(bad_param)
    unknown_base = webui("models", "preset", "create", "x", "--base", "ghost:1b", env=env)
    assert unknown_base.returncode == 2
    assert "ghost:1b" in one_error_line(unknown_base)
    spaced = webui("models", "preset", "create", "a b", "--base", MODEL, env=env)
    assert spaced.returncode == 1
    one_error_line(spaced)


def test_default_model_setting(env: dict[str, str], standin: StandIn, daemon: DaemonProc) -> None:
    assert webui("config", "unset", "default-model", env=env).returncode == 0
    assert webui("config", "get", "default-model", env=env).stdout == "\n"

    standin.reset(models=[MODEL, OTHER_MODEL])
    first = webui("chat", "--temporary", "--json", "hi", env=env)
    assert first.returncode == 0, first.stderr
    listed = _ids(env)
    assert json.loads(first.stdout)["model"] == listed[0]  # no setting: the first model

    chosen = OTHER_MODEL if listed[0] != OTHER_MODEL else MODEL
    changed = webui("config", "set", "default-model", chosen, env=env)
    assert changed.returncode == 0, changed.stderr
    assert json.loads(webui("config", "get", "--json", env=env).stdout) == {"default-model": chosen}
    assert webui("config", "get", env=env).stdout == f"default-model\t{chosen}\n"
    listing = webui("models", "list", env=env).stdout.splitlines()
    assert [row.split("\t")[-1] for row in listing if row.startswith(chosen + "\t")] == ["*"]

    second = webui("chat", "--temporary", "--json", "hi", env=env)
    assert json.loads(second.stdout)["model"] == chosen
    assert standin.chats()[-1].body["model"] == chosen
    # -m still wins over the setting.
    named = webui("chat", "--temporary", "--json", "-m", listed[0], "hi", env=env)
    assert json.loads(named.stdout)["model"] == listed[0]

    unknown = webui("config", "set", "default-model", "ghost:1b", env=env)
    assert unknown.returncode == 2
    assert "ghost:1b" in one_error_line(unknown)
    bad_key = webui("config", "set", "colour", "blue", env=env)
    assert bad_key.returncode == 1
    one_error_line(bad_key)
    # A default that went away (a removed preset): the error says where the name came from.
    with api(daemon) as c:
        c.post("/api/v1/users/user/settings/update", json={"ui": {"models": ["gone:1b"]}})
    stale = webui("chat", "hi", env=env)
    assert stale.returncode == 2
    assert "Model not found: gone:1b (your default)" in one_error_line(stale)
    assert webui("config", "unset", "default-model", env=env).returncode == 0


# ---- pull, rm, ps (admins) -------------------------------------------------------------------


def test_pull_prints_each_step_and_the_model_is_listed(
    env: dict[str, str], standin: StandIn
) -> None:
    standin.reset(models=[MODEL, OTHER_MODEL])
    assert "pulled:latest" not in _ids(env)
    result = webui("models", "pull", "pulled:latest", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "pulling manifest",
        "pulling abc",
        "verifying sha256 digest",
        "writing manifest",
        "success",
    ]
    assert "pulled:latest" in _ids(env)
    as_json = webui("models", "pull", "other:latest", "--node", "0", "--json", env=env)
    assert json.loads(as_json.stdout) == {"model": "other:latest", "node": 0, "status": "success"}


def test_a_failed_pull_is_one_error_line(env: dict[str, str]) -> None:
    result = webui("models", "pull", "missing:latest", env=env)
    assert result.returncode == 2
    assert "file does not exist" in one_error_line(result)
    assert result.stdout.splitlines() == ["pulling manifest"]
    assert "missing:latest" not in _ids(env)
    no_node = webui("models", "pull", "x:latest", "--node", "4", env=env)
    assert no_node.returncode == 2 and "index 4" in one_error_line(no_node)


def test_rm_deletes_and_ps_lists_what_is_loaded(env: dict[str, str], standin: StandIn) -> None:
    standin.reset(models=[MODEL, OTHER_MODEL])
    assert webui("models", "pull", "gone:latest", env=env).returncode == 0
    removed = webui("models", "rm", "gone:latest", "--yes", env=env)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == "Deleted gone:latest."
    assert "gone:latest" not in _ids(env) and "gone:latest" not in standin.models
    again = webui("models", "rm", "gone:latest", "--yes", env=env)
    assert again.returncode == 2 and "no Ollama node has gone:latest" in one_error_line(again)

    assert webui("models", "ps", env=env).stdout == ""
    chat = webui("chat", "--temporary", "-m", MODEL, "hello", env=env)
    assert chat.returncode == 0, chat.stderr
    rows = [line.split("\t") for line in webui("models", "ps", env=env).stdout.splitlines()]
    assert [row[:2] for row in rows] == [[MODEL, "0"]]
    loaded = json.loads(webui("models", "ps", "--json", env=env).stdout)
    assert [m["model"] for m in loaded] == [MODEL]


# ---- export, import -------------------------------------------------------------------------


def test_export_then_import_restores_presets(env: dict[str, str], tmp_path: Path) -> None:
    created = webui(
        "models", "preset", "create", "backup-me", "--base", MODEL, "-s", "Keep it short.", env=env
    )
    assert created.returncode == 0, created.stderr
    saved = tmp_path / "records.json"
    exported = webui("models", "export", "-o", str(saved), env=env)
    assert exported.returncode == 0, exported.stderr
    records = json.loads(saved.read_text())
    saved_preset = next(r for r in records if r["id"] == "backup-me")
    assert saved_preset["params"]["system"] == "Keep it short."
    assert webui("models", "preset", "rm", "backup-me", "-y", env=env).returncode == 0
    assert "backup-me" not in _ids(env)
    imported = webui("models", "import", "-", env=env, stdin=saved.read_text())
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == f"Imported {len(records)} model record(s)."
    shown = json.loads(webui("models", "show", "backup-me", "--json", env=env).stdout)
    assert shown["record"]["params"]["system"] == "Keep it short."
    bad = webui("models", "import", "-", env=env, stdin='{"nothing": 1}')
    assert bad.returncode == 1 and "no list of model records" in one_error_line(bad)
