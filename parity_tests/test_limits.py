"""Documented limits, asserted as behaviour: select() stops at FD_SETSIZE.

`select()` cannot watch a descriptor numbered 1024 or more. The course's select servers (§5a,
§5b) document what they do instead: a client accepted onto such a descriptor is closed at once
with a one-line warning on stderr, and everyone else keeps being served. This test opens enough
connections to push the server's descriptors past the limit and checks exactly that.
"""

from __future__ import annotations

import os
import resource
import socket
from collections.abc import Iterator
from functools import partial

import pytest

from parity_tests.clients import (
    connect,
    echo_roundtrip,
    is_closed_by_peer,
    recv_exactly,
    wait_until,
)
from parity_tests.harness import (
    ServerProcess,
    assert_clean_stop,
    open_files_raised_to,
    start_server,
)
from rosetta import registry

FD_SETSIZE = 1024
# The models whose documented limit this is (their module docstrings say so).
SELECT_MODELS = ("classic.select_echo", "classic.select_writelist")
BEYOND = 40  # connections that must land on descriptors >= FD_SETSIZE
OUR_FD_LIMIT = 4096
PACE = 64
WARNING_MARK = "select() cannot watch fd"


@pytest.fixture(scope="module", autouse=True)
def enough_descriptors() -> Iterator[None]:
    """Our own soft limit raised for the >1024 client sockets (the servers we start inherit
    it, and raise theirs to the hard limit themselves)."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    wanted = OUR_FD_LIMIT if hard == resource.RLIM_INFINITY else min(OUR_FD_LIMIT, hard)
    with open_files_raised_to(max(wanted, FD_SETSIZE + BEYOND + 200)):
        yield


def server_pid(server: ServerProcess) -> int:
    return int(server.ready_line.rsplit("pid=", 1)[1].rstrip(")"))


def open_descriptors(pid: int) -> list[int]:
    return sorted(int(name) for name in os.listdir(f"/proc/{pid}/fd"))


def holds_at_least(pid: int, count: int) -> bool:
    return len(open_descriptors(pid)) >= count


@pytest.mark.parametrize("model", SELECT_MODELS)
def test_select_closes_clients_beyond_fd_setsize_and_serves_the_rest(model: str) -> None:
    assert registry.get(model).jobs >= {"echo"}
    server = start_server("echo", model)
    clients: list[socket.socket] = []
    try:
        pid = server_pid(server)
        in_use = open_descriptors(pid)
        assert max(in_use) < FD_SETSIZE
        # Every accepted client takes the lowest free descriptor, so this many fit below the
        # limit and the next BEYOND land on it.
        room = FD_SETSIZE - len(in_use)
        total = room + BEYOND
        for _ in range(total):
            clients.append(connect(server.address))
            if len(clients) % PACE == 0 and len(clients) <= room:
                # Let the server catch up, so the listen backlog never overflows (an
                # overflow costs a one-second SYN retry, nothing worse).
                assert wait_until(partial(holds_at_least, pid, len(in_use) + len(clients)))

        # Accepts happen in order: once the last client is refused, all have been seen.
        clients[-1].settimeout(10)
        assert clients[-1].recv(1) == b"", "the last client should have been closed"
        refused = [index for index, sock in enumerate(clients) if is_closed_by_peer(sock, wait=0)]
        assert refused == list(range(room, total))

        warnings = [line for line in server.stderr().splitlines() if WARNING_MARK in line]
        assert len(warnings) == BEYOND
        assert all(f"fd {FD_SETSIZE} " in line for line in warnings)
        assert max(open_descriptors(pid)) < FD_SETSIZE

        # Everyone below the limit is still served.
        kept = clients[:room]
        for index, sock in enumerate(kept):
            message = b"still here %d" % index
            sock.sendall(message)
            assert recv_exactly(sock, len(message)) == message

        # Room made below the limit is used again: a new client is served.
        for sock in kept[:5]:
            sock.close()
        assert wait_until(lambda: len(open_descriptors(pid)) <= FD_SETSIZE - 5)
        assert echo_roundtrip(server.address, b"a newcomer") == b"a newcomer"
        assert server.alive()
    finally:
        for sock in clients:
            sock.close()
        assert_clean_stop(server)
