"""Deadlines, the same in every model: a head not complete in time gets a 408 and a close, an
idle kept-alive connection is closed silently, an echo connection silent both ways is closed.

Waiting is the point of these cases, so every model is tried at once (one server each, started
together, with short deadlines) and a case fails naming every model that missed it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from parity_tests.accepted_differences import normalise_date
from parity_tests.clients import HTTPReader, connect, raw_get
from parity_tests.conftest import Impl, Site, implementations
from parity_tests.harness import ServerProcess, assert_clean_stop, start_server

HEADER = 2.0
KEEPALIVE = 3.0
IDLE = 1.0
# Scheduling on a shared machine: how late a deadline may be kept.
SLACK = 1.0
SLOW_HEAD = b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"y" * 40

KEEPALIVE_EXPIRY_WINDOW = (1.5, 3.0)  # seconds the second client waits, at most 3


def _start_all(impls: list[Impl], job: str, extra: list[str], **how: object) -> dict:
    # The first alone: the harness makes its folder for server logs on first use.
    first = impls[0].start(job, extra=extra, **how)
    with ThreadPoolExecutor(len(impls)) as pool:
        rest = pool.map(lambda impl: impl.start(job, extra=extra, **how), impls[1:])
        started = [first, *rest]
    return dict(zip([impl.label for impl in impls], started, strict=True))


def _stop_all(servers: dict[str, ServerProcess]) -> None:
    with ThreadPoolExecutor(len(servers)) as pool:
        list(pool.map(assert_clean_stop, servers.values()))


@pytest.fixture(scope="module")
def http_servers(site: Site) -> Iterator[dict[str, ServerProcess]]:
    extra = ["--header-timeout", str(HEADER), "--keepalive-timeout", str(KEEPALIVE)]
    servers = _start_all(implementations("http"), "http", extra, root=site.root)
    try:
        yield servers
    finally:
        _stop_all(servers)


@pytest.fixture(scope="module")
def echo_servers() -> Iterator[dict[str, ServerProcess]]:
    servers = _start_all(implementations("echo"), "echo", ["--idle-timeout", str(IDLE)])
    try:
        yield servers
    finally:
        _stop_all(servers)


def _everywhere(servers: dict[str, ServerProcess], case: Callable[[ServerProcess], object]) -> dict:
    """`case` run against every server at once: label -> what it returned."""
    with ThreadPoolExecutor(len(servers)) as pool:
        results = pool.map(case, servers.values())
        return dict(zip(servers, results, strict=True))


def _read_to_close(sock: socket.socket, wait: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed (monotonic)."""
    sock.settimeout(wait)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        return received, float("inf")
    return received, time.monotonic()


def _slow_head(server: ServerProcess) -> tuple[float, bytes]:
    """One byte of a head a second (a slow-loris client): seconds from the first byte to the
    close, and what the server said."""
    with connect(server.address) as sock:
        first = time.monotonic()
        sock.settimeout(1.0)
        received = b""
        for byte in SLOW_HEAD:
            try:
                sock.send(bytes([byte]))
                received += sock.recv(65536)
            except TimeoutError:
                continue  # a second went by and the server said nothing: the next byte
            except OSError:
                break
            break  # the server answered (or closed): read the rest
        rest, closed = _read_to_close(sock, HEADER + 2 * SLACK)
        return closed - first, received + rest


def _assert_cut_at_the_header_deadline(results: dict[str, tuple[float, bytes]]) -> None:
    late = {label: round(took, 2) for label, (took, _) in results.items()}
    assert all(HEADER - 0.1 <= took <= HEADER + SLACK for took in late.values()), late


def test_slow_head_gets_408_and_close_at_the_deadline(
    http_servers: dict[str, ServerProcess],
) -> None:
    results = _everywhere(http_servers, _slow_head)
    _assert_cut_at_the_header_deadline(results)
    answers = {label: normalise_date(said) for label, (_, said) in results.items()}
    reference = answers["classic.blocking"]
    assert reference.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), reference
    assert b"Connection: close\r\n" in reference
    different = {label: said for label, said in answers.items() if said != reference}
    assert not different, different


def _silent_client(server: ServerProcess) -> tuple[float, bytes]:
    with connect(server.address) as sock:
        accepted = time.monotonic()
        said, closed = _read_to_close(sock, HEADER + 2 * SLACK)
        return closed - accepted, said


def test_a_client_that_never_sends_is_cut_at_the_header_deadline(
    http_servers: dict[str, ServerProcess],
) -> None:
    results = _everywhere(http_servers, _silent_client)
    _assert_cut_at_the_header_deadline(results)
    statuses = {label: said.split(b"\r\n", 1)[0] for label, (_, said) in results.items()}
    assert set(statuses.values()) == {b"HTTP/1.1 408 Request Timeout"}, statuses


def _idle_after_answer(server: ServerProcess) -> tuple[float, bytes, int]:
    with connect(server.address) as sock:
        sock.sendall(raw_get("/hello.txt"))
        status = HTTPReader(sock).read().status
        answered = time.monotonic()
        said, closed = _read_to_close(sock, KEEPALIVE + 2 * SLACK)
        return closed - answered, said, status


def test_idle_keep_alive_connection_is_closed_silently(
    http_servers: dict[str, ServerProcess],
) -> None:
    results = _everywhere(http_servers, _idle_after_answer)
    assert {label: status for label, (_, _, status) in results.items() if status != 200} == {}
    late = {label: round(took, 2) for label, (took, _, _) in results.items()}
    assert all(KEEPALIVE - 0.1 <= took <= KEEPALIVE + SLACK for took in late.values()), late
    unasked = {label: said for label, (_, said, _) in results.items() if said}
    assert not unasked, unasked


def _idle_echo(server: ServerProcess) -> tuple[float, bytes]:
    with connect(server.address) as sock:
        sock.sendall(b"ping")
        echoed = b""
        while len(echoed) < 4:
            echoed += sock.recv(4 - len(echoed))
        answered = time.monotonic()
        said, closed = _read_to_close(sock, IDLE + 2 * SLACK)
        return closed - answered, echoed + said


def test_idle_echo_connection_is_closed(echo_servers: dict[str, ServerProcess]) -> None:
    results = _everywhere(echo_servers, _idle_echo)
    late = {label: round(took, 2) for label, (took, _) in results.items()}
    assert all(IDLE - 0.1 <= took <= IDLE + SLACK for took in late.values()), late
    assert {label: said for label, (_, said) in results.items() if said != b"ping"} == {}


def test_blocking_serves_the_next_client_once_an_idle_one_expires(site: Site) -> None:
    """§1 serves one client at a time; the keep-alive deadline bounds how long an idle one
    holds everyone else up."""
    server = start_server(
        "http", "classic.blocking", root=site.root, extra=["--keepalive-timeout", "2"]
    )
    try:
        with connect(server.address) as idle:
            idle.sendall(raw_get("/hello.txt"))
            assert HTTPReader(idle).read().status == 200
            started = time.monotonic()
            with connect(server.address) as second:
                second.sendall(raw_get("/hello.txt", "Connection: close"))
                assert HTTPReader(second).read().status == 200
            waited = time.monotonic() - started
        # Served once the idle one expires (keep-alive 2 s), not before and not much after.
        assert KEEPALIVE_EXPIRY_WINDOW[0] <= waited <= KEEPALIVE_EXPIRY_WINDOW[1], waited
    finally:
        assert_clean_stop(server)
