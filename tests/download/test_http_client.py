"""modern._http_client: the same head and body however the answer is cut into reads.

The connection reads into one shared buffer, lets httptools parse the head and passes a body
of known length on without the parser; these tests feed it answers cut at every byte, with
the head's blank line across two reads, chunked and length-less bodies, and bytes beyond
the answer, through a fake transport (no socket).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from modern import _http_client as wire
from rosetta.protocol.download_headers import request_head

BODY = bytes(range(256)) * 3
FIXED = b'HTTP/1.1 200 OK\r\nContent-Length: 768\r\nETag: "e"\r\nServer: x\r\n\r\n' + BODY
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"300\r\n" + BODY + b"\r\n0\r\n\r\n"
)
NOT_MODIFIED = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 768\r\n\r\n"


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def abort(self) -> None:
        self.aborted = True


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def connection(loop: asyncio.AbstractEventLoop) -> tuple[wire.Connection, FakeTransport]:
    conn = wire.Connection(loop, 30.0, memoryview(bytearray(wire.READ_SIZE)), wire.Outbox())
    transport = FakeTransport()
    conn.connection_made(transport)
    return conn, transport


def deliver(conn: wire.Connection, data: bytes) -> None:
    """One read, as the loop makes it: into the connection's buffer, then `buffer_updated`."""
    buffer = conn.get_buffer(-1)
    buffer[: len(data)] = data
    conn.buffer_updated(len(data))


def answer(
    loop: asyncio.AbstractEventLoop, reads: list[bytes], sink_early: bool
) -> tuple[int, dict[str, str], bytes, wire.Connection]:
    conn, _ = connection(loop)
    head = conn.request(b"GET / HTTP/1.1\r\n\r\n")
    received: list[bytes] = []
    done = conn.read_body(lambda chunk: received.append(bytes(chunk))) if sink_early else None
    for data in reads:
        deliver(conn, data)
        if done is None and head.done():
            done = conn.read_body(lambda chunk: received.append(bytes(chunk)))
    assert head.done() and done is not None and done.done(), reads
    status, headers = head.result()
    done.result()
    return status, headers, b"".join(received), conn


@pytest.mark.parametrize("message", [FIXED, CHUNKED], ids=["length", "chunked"])
@pytest.mark.parametrize("sink_early", [True, False])
def test_every_cut_into_two_reads_gives_the_same_answer(
    loop: asyncio.AbstractEventLoop, message: bytes, sink_early: bool
) -> None:
    for cut in range(1, len(message)):
        status, headers, body, conn = answer(loop, [message[:cut], message[cut:]], sink_early)
        assert (status, body) == (200, BODY), cut
        assert "server" not in headers  # only what a download reads is kept
        assert not conn.closed, cut


def test_one_byte_at_a_time(loop: asyncio.AbstractEventLoop) -> None:
    status, headers, body, _ = answer(loop, [bytes([b]) for b in FIXED], sink_early=False)
    assert (status, headers["etag"], body) == (200, '"e"', BODY)


def test_a_connection_answers_again_after_a_body_the_parser_did_not_see(
    loop: asyncio.AbstractEventLoop,
) -> None:
    conn, transport = connection(loop)
    for _ in range(3):
        head = conn.request(b"GET / HTTP/1.1\r\n\r\n")
        conn.outbox.flush()
        received: list[bytes] = []
        done = conn.read_body(lambda chunk, into=received: into.append(bytes(chunk)))
        deliver(conn, FIXED)
        assert head.result()[0] == 200 and done.done() and b"".join(received) == BODY
    assert len(transport.written) == 3 and not conn.closed


def test_the_heads_of_one_turn_of_the_loop_are_written_together_after_it(
    loop: asyncio.AbstractEventLoop,
) -> None:
    outbox = wire.Outbox()
    buffer = memoryview(bytearray(wire.READ_SIZE))
    connections = [wire.Connection(loop, 30.0, buffer, outbox) for _ in range(3)]
    transports = [FakeTransport() for _ in connections]
    for conn, transport in zip(connections, transports, strict=True):
        conn.connection_made(transport)
    writes: list[bytes] = []
    for transport in transports:
        transport.write = writes.append  # type: ignore[method-assign]
    for number, conn in enumerate(connections):
        conn.request(b"GET /%d HTTP/1.1\r\n\r\n" % number)
    connections[1].close()  # closed before its turn came: its head is not written
    assert writes == []  # nothing during the turn
    loop.run_until_complete(asyncio.sleep(0))
    assert writes == [b"GET /0 HTTP/1.1\r\n\r\n", b"GET /2 HTTP/1.1\r\n\r\n"]
    connections[0].request(b"GET /3 HTTP/1.1\r\n\r\n")  # the next turn: flushed again
    loop.run_until_complete(asyncio.sleep(0))
    assert writes[2:] == [b"GET /3 HTTP/1.1\r\n\r\n"]


def test_a_304_has_no_body_whatever_its_length_says(loop: asyncio.AbstractEventLoop) -> None:
    status, _, body, conn = answer(loop, [NOT_MODIFIED], sink_early=True)
    assert (status, body, conn.closed) == (304, b"", False)


def test_bytes_beyond_the_answer_end_the_connection_after_it(
    loop: asyncio.AbstractEventLoop,
) -> None:
    status, _, body, conn = answer(loop, [FIXED + b"HTTP/1.1 200 OK\r\n"], sink_early=True)
    assert (status, body) == (200, BODY)
    assert conn.closed  # never reused: what came after was asked by no request


def test_a_body_cut_short_fails_the_read(loop: asyncio.AbstractEventLoop) -> None:
    conn, _ = connection(loop)
    head = conn.request(b"GET / HTTP/1.1\r\n\r\n")
    done = conn.read_body(lambda chunk: None)
    deliver(conn, FIXED[:-100])
    conn.connection_lost(None)
    assert head.result()[0] == 200
    with pytest.raises(wire.ClosedEarly):
        done.result()


def test_header_names_in_any_case(loop: asyncio.AbstractEventLoop) -> None:
    message = b'HTTP/1.1 200 OK\r\ncontent-LENGTH: 768\r\netag: "x"\r\nX-Other: 1\r\n\r\n' + BODY
    _, headers, body, _ = answer(loop, [message], sink_early=True)
    assert (headers, body) == ({"content-length": "768", "etag": '"x"'}, BODY)


def test_the_pool_s_kept_request_lines_are_the_request_head() -> None:
    from rosetta.protocol.download import REQUEST_HEADERS

    pool = wire.Pool(1.0, 4, 4)
    for url in ("http://h.test/a?b=1", "https://h.test:8443/", "http://[::1]:81/x"):
        address, target = wire.address_of(url)
        for _ in range(2):  # made, then kept
            assert pool.request_head(address, target, {}) == request_head(
                address, target, REQUEST_HEADERS
            )
        ranged = pool.request_head(address, target, {"Range": "bytes=5-"})
        assert ranged.endswith(b"Accept-Encoding: identity\r\nRange: bytes=5-\r\n\r\n")


def test_the_pool_s_kept_origins_give_what_parsing_gives() -> None:
    pool = wire.Pool(1.0, 4, 4)
    urls = [
        "http://h.test/a",
        "http://h.test/b/c?d=1",
        "http://h.test/e?",  # an empty query is dropped by the parse
        "http://h.test/f#frag",
        "http://h.test/g?x=/y#z",
        "http://h.test/é.txt",
        "http://h.test/tab\there",
        "HTTP://H.TEST:80/h",
        "http://h.test?q=/a",  # a query right after the host: its slash is not the path's
        "http://h.test?q=/b",
        "http://user@h.test:8080/i",
        "http://user@h.test:8080/j?k",
        "https://[::1]:8443/l",
        "https://[::1]:8443/",
        "http://h.test",
    ]
    for _ in range(2):  # the origins learnt, then kept
        for url in urls:
            assert pool.address_of(url) == wire.address_of(url), url
