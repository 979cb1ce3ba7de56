"""Shared fixtures: a real daemon process per test module (see tests/daemons.py)."""

from pathlib import Path

import pytest

from tests.daemons import daemon_fixture

# One daemon for a test module: Unix socket + loopback TCP, a fresh data folder. A module that
# needs another environment makes its own with tests.daemons.daemon_fixture.
daemon = daemon_fixture(env={"DEFAULT_USER_ROLE": "user"})


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
