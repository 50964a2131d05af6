"""Every modern server (modern.protocol, modern.sockets, modern.streams, and modern.aiohttp for
HTTP) under a client that sends a lot and never reads.

The server's replies cannot leave, so it must stop reading (`pause_reading` on
`pause_writing`, `sock_sendall` / `drain()` not returning) instead of buffering them: its RSS
stays under a fixed ceiling while the client tries to push 200 MB, and the client finds itself
blocked long before that. Once the client reads, every echoed byte is there, in order.
"""

from __future__ import annotations

import os
import select
import socket
import time
from pathlib import Path

import pytest

from parity_tests.harness import ServerProcess, assert_clean_stop, start_server

MODELS = ["modern.protocol", "modern.sockets", "modern.streams"]
HTTP_MODELS = [*MODELS, "modern.aiohttp"]  # aiohttp's own stack must hold back too
LOOPS = ["uvloop", "asyncio"]
TARGET = 200 * 1000 * 1000  # what the client tries to send
BLOCK = 1 << 20
# Loopback socket buffers hold a few MiB each way, the server reads 64 KiB at a time; a server
# without backpressure would hold most of the 200 MB. The ceiling is far from both.
GROWTH_CEILING = 48 << 20
STALLED_AFTER = 1.5  # seconds without the kernel taking a byte: the server stopped reading
TIME_LIMIT = 20.0


def server_pid(server: ServerProcess) -> int:
    return int(server.ready_line.rsplit("pid=", 1)[1].rstrip(")"))


def resident_bytes(pid: int) -> int:
    """The server's resident set: the second field of /proc/PID/statm, in pages."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def flood(sock: socket.socket, pattern: bytes, pid: int) -> tuple[int, int]:
    """Send `pattern` repeatedly, reading nothing, until TARGET bytes are out, the socket
    stalls or time is up; returns (bytes sent, the server's highest RSS meanwhile)."""
    sock.setblocking(False)
    view = memoryview(pattern * max(1, BLOCK // len(pattern)))
    sent = offset = 0
    peak = resident_bytes(pid)
    started = last_progress = time.monotonic()
    next_sample = 0
    while sent < TARGET and time.monotonic() - started < TIME_LIMIT:
        try:
            count = sock.send(view[offset:])
        except BlockingIOError:
            peak = max(peak, resident_bytes(pid))
            if time.monotonic() - last_progress > STALLED_AFTER:
                break
            select.select([], [sock], [], 0.1)
            continue
        sent += count
        offset = (offset + count) % len(view)
        last_progress = time.monotonic()
        if sent >= next_sample:
            peak = max(peak, resident_bytes(pid))
            next_sample = sent + 8 * BLOCK
    sock.setblocking(True)
    return sent, max(peak, resident_bytes(pid))


def receive(sock: socket.socket, size: int) -> bytes:
    sock.settimeout(10.0)
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 4 * BLOCK))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def assert_held_back(sent: int, peak: int, baseline: int) -> None:
    assert sent < TARGET, "the server kept reading although nobody read its replies"
    assert peak - baseline < GROWTH_CEILING, (
        f"server RSS grew by {(peak - baseline) >> 20} MiB while the client sent {sent >> 20} MiB"
    )


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("model", MODELS)
def test_echo_flood_without_reading_is_held_back(model: str, loop: str) -> None:
    server = start_server("echo", model, {"loop": loop})
    try:
        pid = server_pid(server)
        baseline = resident_bytes(pid)
        pattern = os.urandom(BLOCK)
        with socket.create_connection(server.address, timeout=10.0) as sock:
            sent, peak = flood(sock, pattern, pid)
            assert_held_back(sent, peak, baseline)
            echoed = receive(sock, sent)
        assert len(echoed) == sent
        assert echoed == (pattern * (sent // BLOCK + 1))[:sent]
    finally:
        assert_clean_stop(server)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("model", HTTP_MODELS)
def test_http_pipeline_without_reading_is_held_back(model: str, loop: str, tmp_path: Path) -> None:
    (tmp_path / "page.html").write_bytes(b"<p>page</p>\n" * 500)
    (tmp_path / "big.bin").write_bytes(os.urandom(2 << 20))
    server = start_server("http", model, {"loop": loop}, root=tmp_path)
    try:
        pid = server_pid(server)
        baseline = resident_bytes(pid)
        # In-memory answers and file slices alike must stop the reading of further requests.
        pipeline = (
            b"GET /page.html HTTP/1.1\r\nHost: flood\r\n\r\n" * 500
            + b"GET /big.bin HTTP/1.1\r\nHost: flood\r\n\r\n" * 5
        )
        with socket.create_connection(server.address, timeout=10.0) as sock:
            sent, peak = flood(sock, pipeline, pid)
            assert_held_back(sent, peak, baseline)
        # That connection is gone with its unread answers; the server still serves.
        with socket.create_connection(server.address, timeout=10.0) as sock:
            sock.sendall(b"GET /page.html HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            answer = receive(sock, 1 << 20)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.endswith(b"<p>page</p>\n" * 500)
    finally:
        assert_clean_stop(server)
