"""modern.protocol under a client that sends a lot and never reads: the server must stop reading
(pause_writing -> pause_reading) instead of buffering the replies, so its memory stays under a
fixed ceiling however much the client tries to send; once the client reads, nothing is lost."""

from __future__ import annotations

import os
import select
import socket
import time
from pathlib import Path

import pytest

from parity_tests.harness import ServerProcess, assert_clean_stop, start_server

MODEL = "modern.protocol"
ATTEMPT = 200 * 1024 * 1024  # what the client tries to push without reading a byte
CHUNK = 1024 * 1024
# Kernel socket buffers on loopback hold a few MiB each way; a server that buffered what it
# cannot send would grow by about ATTEMPT. The ceiling sits far between the two.
RSS_CEILING_GROWTH = 48 * 1024 * 1024
STALL_SECONDS = 1.5  # no progress for this long: the client is blocked by the server
TIME_LIMIT = 8.0
BIG_FILE_SIZE = 4 * 1024 * 1024


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


def server_pid(server: ServerProcess) -> int:
    return int(server.ready_line.rsplit("pid=", 1)[1].rstrip(")"))


def push_without_reading(
    sock: socket.socket, payload: bytes, pid: int
) -> tuple[int, int]:
    """Send `payload` over and over without reading, until ATTEMPT bytes are out or the
    socket stops taking them; returns (bytes sent, highest server RSS seen)."""
    sock.setblocking(False)
    sent = 0
    peak = rss_bytes(pid)
    last_progress = time.monotonic()
    deadline = last_progress + TIME_LIMIT
    view = memoryview(payload)
    offset = 0
    while sent < ATTEMPT and time.monotonic() < deadline:
        try:
            count = sock.send(view[offset:])
        except BlockingIOError:
            if time.monotonic() - last_progress > STALL_SECONDS:
                break
            select.select([], [sock], [], 0.1)
            peak = max(peak, rss_bytes(pid))
            continue
        sent += count
        offset = (offset + count) % len(payload)
        last_progress = time.monotonic()
        if sent % (16 * CHUNK) < count:
            peak = max(peak, rss_bytes(pid))
    peak = max(peak, rss_bytes(pid))
    sock.setblocking(True)
    return sent, peak


def read_exactly(sock: socket.socket, size: int) -> bytes:
    sock.settimeout(10.0)
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 4 * CHUNK))
        if not chunk:
            break
        data += chunk
    return bytes(data)


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_echo_client_that_never_reads_is_held_back(loop: str) -> None:
    server = start_server("echo", MODEL, {"loop": loop})
    try:
        pid = server_pid(server)
        baseline = rss_bytes(pid)
        payload = os.urandom(CHUNK)
        with socket.create_connection(server.address, timeout=10.0) as sock:
            sent, peak = push_without_reading(sock, payload, pid)
            assert sent < ATTEMPT, "the server kept reading although nobody read its replies"
            assert peak - baseline < RSS_CEILING_GROWTH, (
                f"server RSS grew by {(peak - baseline) >> 20} MiB while the client pushed "
                f"{sent >> 20} MiB"
            )
            # Once the client reads, every byte comes back, in order.
            echoed = read_exactly(sock, sent)
            assert len(echoed) == sent
            expected = (payload * (sent // CHUNK + 1))[:sent]
            assert echoed == expected
    finally:
        assert_clean_stop(server)


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_pipelining_client_that_never_reads_is_held_back(loop: str, tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(os.urandom(BIG_FILE_SIZE))
    (tmp_path / "small.txt").write_bytes(b"small\n" * 100)
    server = start_server("http", MODEL, {"loop": loop}, root=tmp_path)
    try:
        pid = server_pid(server)
        baseline = rss_bytes(pid)
        # Small answers fill the transport's buffer (pause_writing), big ones hold the
        # socket with a file; both must stop the server reading more requests.
        pipeline = (
            b"GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n" * 2000
            + b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n" * 20
        )
        with socket.create_connection(server.address, timeout=10.0) as sock:
            sent, peak = push_without_reading(sock, pipeline, pid)
            assert sent < ATTEMPT, "the server kept reading although nobody read its answers"
            assert peak - baseline < RSS_CEILING_GROWTH, (
                f"server RSS grew by {(peak - baseline) >> 20} MiB while the client pushed "
                f"{sent >> 20} MiB"
            )
        # The connection is gone (unread answers and all); the server serves the next one.
        with socket.create_connection(server.address, timeout=10.0) as sock:
            sock.sendall(b"GET /small.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            answer = read_exactly(sock, 1 << 20)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert answer.endswith(b"small\n" * 100)
    finally:
        assert_clean_stop(server)
