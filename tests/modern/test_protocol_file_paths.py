"""modern.protocol's HTTP driver on a scripted transport: the path real sockets rarely take.

On uvloop a file goes out with os.sendfile when the transport's buffer is empty; when it is
not (earlier answers still queued), the file is read in chunks written through the transport,
stopping at pause_writing and going on at resume_writing. These tests drive that path by hand
and check the bytes, the order of pipelined answers, and that reading is paused meanwhile.
"""

from __future__ import annotations

import os
from pathlib import Path

from modern._runtime import Connections
from modern._sendfile import CHUNK_SIZE
from modern.protocol import HTTPProtocol
from rosetta.protocol.deadlines import NO_LIMITS
from rosetta.protocol.static import StaticSite

HIGH_WATER = 64 * 1024


class ScriptedTransport:
    """Buffers everything written; calls pause_writing above HIGH_WATER, like a transport."""

    def __init__(self, already_buffered: int) -> None:
        self.written: list[bytes] = []
        self.buffered = already_buffered
        self.protocol: HTTPProtocol | None = None
        self.reading = True
        self.closed = False
        self.aborted = False
        self.paused = False

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))
        self.buffered += len(data)
        if self.buffered > HIGH_WATER and not self.paused:
            self.paused = True
            assert self.protocol is not None
            self.protocol.pause_writing()

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default  # no socket behind it: no peer name

    def drain(self) -> None:
        """The peer read everything: the buffer empties and writing resumes."""
        self.buffered = 0
        if self.paused:
            self.paused = False
            assert self.protocol is not None
            self.protocol.resume_writing()

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


def connect(root: Path, already_buffered: int) -> tuple[HTTPProtocol, ScriptedTransport]:
    protocol = HTTPProtocol(Connections(NO_LIMITS), StaticSite(root), native_sendfile=False)
    transport = ScriptedTransport(already_buffered)
    transport.protocol = protocol
    protocol.connection_made(transport)  # type: ignore[arg-type]
    return protocol, transport


def split_answers(wire: bytes) -> list[tuple[bytes, bytes]]:
    answers = []
    while wire:
        head, _, rest = wire.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ", 1)[1].split(b"\r\n", 1)[0])
        answers.append((head, rest[:length]))
        wire = rest[length:]
    return answers


def test_a_file_behind_queued_bytes_goes_in_chunks_and_keeps_the_order(tmp_path: Path) -> None:
    big = os.urandom(3 * CHUNK_SIZE + 12345)
    (tmp_path / "big.bin").write_bytes(big)
    (tmp_path / "small.txt").write_bytes(b"after the big one\n")
    protocol, transport = connect(tmp_path, already_buffered=100)
    protocol.data_received(
        b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /small.txt HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    assert not transport.reading, "reading must pause while a file is being sent"
    rounds = 0
    while transport.paused and rounds < 100:
        transport.drain()
        rounds += 1
    assert rounds >= 3, "the file should have needed several resume_writing rounds"
    answers = split_answers(b"".join(transport.written))
    assert [body for _, body in answers] == [big, b"after the big one\n"]
    assert answers[0][0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.reading, "reading resumes once the file is out"
    assert not transport.closed and not transport.aborted


def test_a_file_that_shrinks_while_sent_aborts_the_connection(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(2 * CHUNK_SIZE))
    protocol, transport = connect(tmp_path, already_buffered=100)
    protocol.data_received(b"GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n")
    assert transport.paused
    os.truncate(path, CHUNK_SIZE // 2)
    transport.drain()
    assert transport.aborted, "a Content-Length we can no longer keep must end the connection"


def test_connection_close_ends_after_the_file(tmp_path: Path) -> None:
    big = os.urandom(CHUNK_SIZE + 1)
    (tmp_path / "big.bin").write_bytes(big)
    protocol, transport = connect(tmp_path, already_buffered=100)
    protocol.data_received(b"GET /big.bin HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert not transport.closed
    for _ in range(100):
        if not transport.paused:
            break
        transport.drain()
    assert [body for _, body in split_answers(b"".join(transport.written))] == [big]
    assert transport.closed
