"""Echo parity: every model returns exactly the bytes it got, in order, to every client."""

from __future__ import annotations

import os
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from parity_tests.clients import (
    connect,
    echo_roundtrip,
    is_closed_by_peer,
    recv_exactly,
    recv_until_eof,
    reset,
)
from parity_tests.conftest import one_at_a_time
from parity_tests.harness import ServerProcess


@pytest.mark.parametrize("size", [1, 64 * 1024, 8 * 1024 * 1024], ids=["1B", "64KiB", "8MiB"])
def test_random_bytes_come_back_exact(echo_server: ServerProcess, size: int) -> None:
    payload = os.urandom(size)
    assert echo_roundtrip(echo_server.address, payload) == payload


def test_many_messages_on_one_connection(echo_server: ServerProcess) -> None:
    with connect(echo_server.address) as sock:
        for index in range(200):
            message = f"message {index} ".encode() * (1 + index % 37)
            sock.sendall(message)
            assert recv_exactly(sock, len(message)) == message


def test_half_close_still_receives_everything_then_eof(echo_server: ServerProcess) -> None:
    payload = os.urandom(300_000)
    with connect(echo_server.address) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == payload
        assert sock.recv(1) == b""


def test_twenty_clients_at_once(echo_server: ServerProcess) -> None:
    if one_at_a_time(echo_server):
        _assert_second_client_waits_for_the_first(echo_server)
        return
    sockets = [connect(echo_server.address) for _ in range(20)]
    try:
        # All twenty are connected before any is answered: they are served concurrently.
        for index, sock in enumerate(sockets):
            sock.sendall(b"client %d\n" % index)
        for index, sock in enumerate(sockets):
            expected = b"client %d\n" % index
            assert recv_exactly(sock, len(expected)) == expected
    finally:
        for sock in sockets:
            sock.close()

    def client(index: int) -> bytes:
        return echo_roundtrip(echo_server.address, os.urandom(10_000 + index))

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(client, range(20)))
    assert [len(result) for result in results] == [10_000 + index for index in range(20)]


def _assert_second_client_waits_for_the_first(server: ServerProcess) -> None:
    """The course's §1 server: the next client waits in the backlog until the first leaves."""
    with connect(server.address) as first:
        first.sendall(b"first")
        assert recv_exactly(first, 5) == b"first"
        with connect(server.address) as second:
            second.sendall(b"second")
            second.settimeout(0.7)
            with pytest.raises(TimeoutError):
                second.recv(6)
            first.close()
            second.settimeout(10)
            assert recv_exactly(second, 6) == b"second"


def test_reset_client_does_not_disturb_others(echo_server: ServerProcess) -> None:
    if not one_at_a_time(echo_server):
        bystander = connect(echo_server.address)
        bystander.sendall(b"before")
        assert recv_exactly(bystander, 6) == b"before"
    rude = connect(echo_server.address)
    rude.sendall(b"half a messa")
    reset(rude)
    if not one_at_a_time(echo_server):
        bystander.sendall(b"after")
        assert recv_exactly(bystander, 5) == b"after"
        bystander.close()
    assert echo_roundtrip(echo_server.address, b"next client") == b"next client"
    assert echo_server.alive()


def test_server_closes_when_client_closes(echo_server: ServerProcess) -> None:
    with connect(echo_server.address) as sock:
        sock.sendall(b"bye")
        assert recv_exactly(sock, 3) == b"bye"
        sock.shutdown(socket.SHUT_WR)
        assert is_closed_by_peer(sock)
