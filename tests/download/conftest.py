"""The local download fixture server, one per test session, on 127.0.0.1 (never the internet)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.download.server_process import FixtureServer, running


@pytest.fixture(scope="session")
def fixture_server() -> Iterator[FixtureServer]:
    with running() as server:
        yield server


@pytest.fixture
def server(fixture_server: FixtureServer) -> FixtureServer:
    """The fixture server with its statistics cleared for this test."""
    fixture_server.reset()
    return fixture_server
