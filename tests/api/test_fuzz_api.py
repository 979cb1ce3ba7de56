"""Schemathesis over the whole OpenAPI document, as an admin and as a plain user, a few examples
per operation (bench.fuzz_api runs the long version): no answer may be a 5xx, and every status
must be one the document lists."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.fuzz_api import fuzz, sign_up_pair, start_fuzz_daemon

from tests.daemon_proc import DaemonProc
from tests.support import assert_no_traceback

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProc]:
    proc, standins = start_fuzz_daemon(tmp_path_factory.mktemp("fuzz"))
    yield proc
    proc.stop()
    for standin in standins:
        standin.stop()


def test_no_server_errors(daemon: DaemonProc, tmp_path: Path) -> None:
    results = fuzz(
        daemon,
        sign_up_pair(daemon),
        tmp_path,
        max_examples=3,
        max_time=None,
        phases="examples,coverage,fuzzing",
        seed=10,
        timeout=120,
    )
    for role, result in results.items():
        assert result.requests > 1000, (role, result.requests)
        assert result.server_errors == [], (role, result.server_errors)
        assert not result.undocumented, (role, result.undocumented)
    assert_no_traceback(daemon)
