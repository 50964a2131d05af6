"""Fixtures the classic model tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from parity_tests.harness import ServerProcess, assert_clean_stop


@pytest.fixture
def stopped_cleanly() -> Iterator[list[ServerProcess]]:
    """Servers appended here are stopped at the end and must exit 0 without a traceback."""
    servers: list[ServerProcess] = []
    yield servers
    for server in servers:
        assert_clean_stop(server)
