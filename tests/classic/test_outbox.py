"""The readiness family's outgoing buffer (`classic._outbox.Outbox`): what a partial send
left, the order of everything put in, files read lazily, the close after a last answer, the
high-water mark, and a file that changed while it was being sent."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from classic._outbox import FILE_CHUNK, HIGH_WATER, Outbox
from rosetta.protocol.files import FileChanged
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import StaticSite


def nonblocking_pair(buffer_size: int = 4096) -> tuple[socket.socket, socket.socket]:
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer_size)
    ours.setblocking(False)
    theirs.settimeout(5)
    return ours, theirs


def drain(outbox: Outbox, ours: socket.socket, theirs: socket.socket, limit: int) -> bytes:
    """Flush and read alternately until the outbox is empty; everything that came out."""
    received = bytearray()
    for _ in range(100_000):
        outbox.flush(ours)
        if outbox.empty:
            break
        received += theirs.recv(1 << 20)
        assert len(received) <= limit
    theirs.setblocking(False)
    try:
        while chunk := theirs.recv(1 << 20):
            received += chunk
    except BlockingIOError:
        pass
    return bytes(received)


def test_outbox_keeps_what_a_partial_send_left() -> None:
    ours, theirs = nonblocking_pair()
    with ours, theirs:
        payload = os.urandom(1_000_000)
        outbox = Outbox()
        outbox.put(payload)
        sent = outbox.flush(ours)
        assert 0 < sent < len(payload)  # the course's single send() stopped here
        assert outbox.backlog == len(payload) - sent
        assert drain(outbox, ours, theirs, len(payload)) == payload
        assert outbox.backlog == 0


def test_outbox_delivers_every_byte_in_order() -> None:
    ours, theirs = nonblocking_pair()
    with ours, theirs:
        parts = [os.urandom(size) for size in (1, 70_000, 3, 250_000, 17)]
        outbox = Outbox()
        for part in parts:
            outbox.put(part)
        assert drain(outbox, ours, theirs, sum(map(len, parts))) == b"".join(parts)


def plan_for(site: StaticSite, raw: bytes):  # type: ignore[no-untyped-def]
    conn = HTTPConnection()
    conn.receive_data(raw)
    (event,) = list(conn.events())
    return site.respond(event)


def test_outbox_reads_a_large_file_lazily_in_chunks(tmp_path: Path) -> None:
    content = os.urandom(3 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(content)
    plan = plan_for(StaticSite(tmp_path), b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    ours, theirs = nonblocking_pair()
    with ours, theirs:
        outbox = Outbox()
        outbox.put_plan(plan)
        assert outbox.backlog == len(plan.head) + len(content)
        outbox.flush(ours)
        # The socket took a little; at most one chunk of the file is in memory.
        assert outbox.buffered <= FILE_CHUNK
        received = drain(outbox, ours, theirs, len(plan.head) + len(content))
    assert received == plan.head + content


def test_outbox_closes_after_a_response_that_ends_the_connection(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"hello")
    site = StaticSite(tmp_path)
    keep = plan_for(site, b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    close = plan_for(site, b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    ours, theirs = nonblocking_pair()
    with ours, theirs:
        outbox = Outbox()
        outbox.put_plan(keep)
        assert outbox.wants_input and not outbox.closing
        outbox.put_plan(close)
        assert not outbox.wants_input and not outbox.finished
        outbox.flush(ours)
        assert outbox.finished


def test_outbox_stops_input_above_the_high_water_mark() -> None:
    outbox = Outbox()
    outbox.put(b"x" * HIGH_WATER)
    assert outbox.wants_input
    outbox.put(b"x")
    assert not outbox.wants_input


@pytest.mark.parametrize("change", ["truncate", "delete"])
def test_outbox_reports_a_file_that_changed_under_it(tmp_path: Path, change: str) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(1024 * 1024))
    plan = plan_for(StaticSite(tmp_path), b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    if change == "truncate":
        path.write_bytes(b"short")
    else:
        path.unlink()
    ours, theirs = nonblocking_pair(1 << 20)
    with ours, theirs, pytest.raises(FileChanged):
        outbox = Outbox()
        outbox.put_plan(plan)
        drain(outbox, ours, theirs, 4 << 20)
