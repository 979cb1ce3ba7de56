"""The TUI, opened from a shell whose environment names a provider URL the running daemon does
not use, says so once with the fix (the issue's "restarted without its OpenAI connection");
a matching environment says nothing."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_proc import DaemonProc
from tests.daemons import daemon_fixture
from tests.standins import StandIn, closed_port_url, provider_env, start_ollama
from tests.tui_support import make_app, until


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    s = start_ollama()
    yield s
    s.stop()


daemon = daemon_fixture(env=lambda standin: provider_env(ollama=[standin]), tmp="tui-env")


def shown(app: object) -> list[str]:
    return [n.message for n in app._notifications]  # type: ignore[attr-defined]


async def test_a_stale_environment_is_named_with_the_fix(
    daemon: DaemonProc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = closed_port_url()
    monkeypatch.delenv("OPENAI_API_BASE_URLS", raising=False)
    monkeypatch.delenv("OPENAI_API_BASE_URL", raising=False)
    monkeypatch.delenv("OLLAMA_BASE_URLS", raising=False)
    monkeypatch.setenv("OLLAMA_BASE_URL", other)
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: any("OLLAMA_BASE_URL" in m for m in shown(app)))
        (line,) = [m for m in shown(app) if "OLLAMA_BASE_URL" in m]
        assert other in line and "webui daemon restart" in line


async def test_a_matching_environment_says_nothing(
    daemon: DaemonProc, standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OLLAMA_BASE_URLS", "OPENAI_API_BASE_URLS", "OPENAI_API_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OLLAMA_BASE_URL", standin.url)
    app = make_app(daemon, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.screen.query("#composer"))
        await pilot.pause(0.5)
        assert not any("OLLAMA_BASE_URL" in m for m in shown(app))
