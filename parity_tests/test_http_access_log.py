"""The access log over every HTTP model: the same lines (time normalised) for the same
requests, hostile bytes escaped, flushed within a second, and not a line lost when a burst
of requests is followed at once by SIGTERM."""

from __future__ import annotations

import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity_tests.clients import (
    HTTPReader,
    connect,
    raw_get,
    recv_until_eof,
    request,
    wait_until,
)
from parity_tests.conftest import Impl, Site, impl_params
from parity_tests.harness import ServerProcess, assert_clean_stop, start_server
from rosetta.access_log import FLUSH_SECONDS

REFERENCE_MODEL = "classic.blocking"
REQUESTS = [
    raw_get("/hello.txt", "Referer: http://example.test/page", "User-Agent: parity/1.0"),
    raw_get("/sub"),
    raw_get("/sub/"),
    raw_get("/missing.html"),
    raw_get("/hello.txt", method="HEAD"),
    raw_get("/hello.txt", "Range: bytes=0-4"),
    raw_get("/%3Cscript%3E%22%0A.txt?q=%0D%0A%00", 'User-Agent: x"\\y\xc3\xa9'),
    raw_get("/hello.txt", method="POST"),
]
TIME = re.compile(rb"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\]")


def _send_all(server: ServerProcess) -> None:
    for raw in REQUESTS:
        request(server.address, raw, head_only=raw.startswith(b"HEAD "))


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True) if path.exists() else []


def _logged(impl_or_model: Impl | str, site: Site, log: Path) -> list[bytes]:
    """The lines a server writes for REQUESTS, read once they were flushed (within a second
    or so, while it still runs), then checked again after its stop."""
    extra = ("--access-log", str(log))
    if isinstance(impl_or_model, str):
        server = start_server("http", impl_or_model, root=site.root, extra=extra)
    else:
        server = impl_or_model.start("http", root=site.root, extra=extra)
    try:
        _send_all(server)
        assert wait_until(lambda: len(_lines(log)) >= len(REQUESTS), timeout=5.0), _lines(log)
    finally:
        assert_clean_stop(server)
    return [TIME.sub(b"[<time>]", line) for line in _lines(log)]


@pytest.fixture(scope="module")
def reference_lines(site: Site, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    return _logged(REFERENCE_MODEL, site, tmp_path_factory.mktemp("log") / "access.log")


def test_the_reference_lines_are_as_documented(reference_lines: list[bytes]) -> None:
    assert reference_lines[0] == (
        b'127.0.0.1 - - [<time>] "GET /hello.txt HTTP/1.1" 200 140 '
        b'"http://example.test/page" "parity/1.0"\n'
    )
    assert reference_lines[1].startswith(b'127.0.0.1 - - [<time>] "GET /sub HTTP/1.1" 301 ')
    assert b'"HEAD /hello.txt HTTP/1.1" 200 0 ' in reference_lines[4]
    assert b'" 206 5 ' in reference_lines[5]
    hostile = reference_lines[6]
    assert hostile.count(b"\n") == 1 and b"\r" not in hostile and b"\0" not in hostile
    assert b'"x\\x22\\x5Cy\\xC3\\xA9"' in hostile
    assert b'"-" 405 ' in reference_lines[7]  # refused before it became a Request
    assert len(reference_lines) == len(REQUESTS)


@pytest.mark.parametrize("impl", impl_params("http"))
def test_log_lines_identical_to_reference(
    impl: Impl, site: Site, tmp_path: Path, reference_lines: list[bytes]
) -> None:
    assert _logged(impl, site, tmp_path / "access.log") == reference_lines


def test_common_format_has_no_referer_or_agent(site: Site, tmp_path: Path) -> None:
    log = tmp_path / "common.log"
    extra = ("--access-log", str(log), "--log-format", "common")
    server = start_server("http", "modern.protocol", root=site.root, extra=extra)
    try:
        request(server.address, REQUESTS[0])
    finally:
        assert_clean_stop(server)
    assert TIME.sub(b"[<time>]", log.read_bytes()) == (
        b'127.0.0.1 - - [<time>] "GET /hello.txt HTTP/1.1" 200 140\n'
    )


BURST_CONNECTIONS, BURST_PER_CONNECTION = 10, 100


@pytest.fixture(params=["modern.protocol", "classic.threads", "classic.forking"])
def burst_server(request: pytest.FixtureRequest, site: Site, tmp_path: Path) -> Iterator[tuple]:
    log = tmp_path / "burst.log"
    server = start_server("http", request.param, root=site.root, extra=("--access-log", str(log)))
    yield server, log
    server.stop()


def test_a_burst_then_sigterm_loses_no_line(burst_server: tuple) -> None:
    server, log = burst_server
    pipelined = raw_get("/hello.txt") * (BURST_PER_CONNECTION - 1)
    last = raw_get("/hello.txt", "Connection: close")
    for _ in range(BURST_CONNECTIONS):
        with connect(server.address) as sock:
            sock.sendall(pipelined + last)
            sock.shutdown(socket.SHUT_WR)
            answered = recv_until_eof(sock)
        assert answered.count(b"HTTP/1.1 200 OK") == BURST_PER_CONNECTION
    assert server.stop() == 0  # SIGTERM at once: the lines still buffered must be written
    lines = _lines(log)
    assert len(lines) == BURST_CONNECTIONS * BURST_PER_CONNECTION
    assert all(b'"GET /hello.txt HTTP/1.1" 200 140 ' in line for line in lines)


# The forking model writes its lines from the child serving each client.
ROTATION_MODELS = ["modern.protocol", "classic.threads", "classic.forking"]


@pytest.mark.parametrize("model", ROTATION_MODELS)
def test_sighup_reopens_the_log(model: str, site: Site, tmp_path: Path) -> None:
    log, rotated = tmp_path / "access.log", tmp_path / "access.log.1"
    server = start_server("http", model, root=site.root, extra=("--access-log", str(log)))
    try:
        request(server.address, REQUESTS[0])
        assert wait_until(lambda: len(_lines(log)) == 1, timeout=5.0)
        log.rename(rotated)  # what logrotate does, before it signals
        server.proc.send_signal(signal.SIGHUP)
        # The file is opened anew (created) at the next flush, within a second.
        assert wait_until(log.exists, timeout=5.0)
        request(server.address, REQUESTS[2])
        assert wait_until(lambda: len(_lines(log)) >= 1, timeout=5.0)
    finally:
        assert_clean_stop(server)
    assert b'"GET /sub/ HTTP/1.1"' in _lines(log)[-1]
    assert b'"GET /hello.txt HTTP/1.1"' in _lines(rotated)[0]


@pytest.mark.parametrize("model", ROTATION_MODELS)
def test_sighup_reaches_a_connection_already_open(model: str, site: Site, tmp_path: Path) -> None:
    """A client kept alive across the rotation: its next lines land in the new file (in the
    forking model, its child was forked with the old one)."""
    log, rotated = tmp_path / "access.log", tmp_path / "access.log.1"
    server = start_server("http", model, root=site.root, extra=("--access-log", str(log)))
    try:
        with connect(server.address) as sock:
            reader = HTTPReader(sock)
            sock.sendall(REQUESTS[0])
            assert reader.read().status == 200
            assert wait_until(lambda: len(_lines(log)) == 1, timeout=5.0)
            log.rename(rotated)
            server.proc.send_signal(signal.SIGHUP)
            assert wait_until(log.exists, timeout=5.0)
            for _ in range(3):
                sock.sendall(REQUESTS[2])
                assert reader.read().status == 200
            assert wait_until(lambda: len(_lines(log)) == 3, timeout=5.0), _lines(rotated)
    finally:
        assert_clean_stop(server)
    assert all(b'"GET /sub/ HTTP/1.1"' in line for line in _lines(log))
    assert len(_lines(rotated)) == 1


def test_a_log_on_standard_output_comes_after_the_ready_line(site: Site) -> None:
    server = start_server(
        "http", "classic.threads", root=site.root, extra=("--access-log", "-", "--verbose")
    )
    try:
        request(server.address, REQUESTS[0])
        assert wait_until(
            lambda: b'"GET /hello.txt' in server.stdout_path.read_bytes(), timeout=5.0
        )
    finally:
        assert_clean_stop(server)
    lines = server.stdout_path.read_bytes().splitlines()
    assert lines[0].startswith(b"rosetta: listening on http://")
    assert all(b'" 200 140 ' in line for line in lines[1:]) and len(lines) == 2
    assert "now serving" in server.stderr()  # the console's messages, moved to stderr


def test_sighup_to_the_supervisor_reopens_every_worker_log(site: Site, tmp_path: Path) -> None:
    log, rotated = tmp_path / "access.log", tmp_path / "access.log.1"
    extra = ("--workers", "2", "--access-log", str(log))
    server = start_server("http", "modern.protocol", root=site.root, extra=extra)
    try:
        log.write_bytes(b"")
        log.rename(rotated)
        server.proc.send_signal(signal.SIGHUP)
        assert wait_until(log.exists, timeout=5.0)
        time.sleep(2 * FLUSH_SECONDS)  # every worker's next flush, where it reopens
        for _ in range(20):  # new connections, spread by the kernel over both workers
            request(server.address, REQUESTS[0])
        assert wait_until(lambda: len(_lines(log)) == 20, timeout=5.0)
    finally:
        assert_clean_stop(server)
    assert _lines(rotated) == []
