"""Exactly one response per request, in every model.

A request the server cannot frame, or one it answers without reading its body, gets one 4xx
and a close; whatever the client sent after it (here a well-formed GET, as a proxy pipelining
another user's request would) is never answered. Two responses to one request would be read by
a proxy as the answer to the next one: a response desync.
"""

from __future__ import annotations

import pytest

from parity_tests.clients import connect, recv_until_eof
from parity_tests.harness import ServerProcess

NEXT = b"GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n"

UNFRAMEABLE = {
    "malformed-chunk": b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"ZZ\r\nhello\r\n0\r\n\r\n",
    "obsolete-line-folding": b"GET / HTTP/1.1\r\nHost: test\r\nX-A: a\r\n b\r\n\r\n",
    "length-and-chunked": b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two-lengths": b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n"
    b"Content-Length: 6\r\n\r\nhello!",
    "bare-lf": b"GET / HTTP/1.1\nHost: test\n\n",
    "bare-cr": b"GET / HTTP/1.1\rHost: test\r\n\r\n",
    "space-in-name": b"GET / HTTP/1.1\r\nHost: test\r\nX A: b\r\n\r\n",
    "space-before-colon": b"GET / HTTP/1.1\r\nHost: test\r\nX-A : b\r\n\r\n",
    "control-byte-in-name": b"GET / HTTP/1.1\r\nHost: test\r\nX\x01A: b\r\n\r\n",
    "refused-with-body": b"PUT /new.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello",
}


def statuses(wire: bytes) -> list[bytes]:
    """The status lines in what a server sent (bodies here are text: no false matches)."""
    return [line for line in wire.split(b"\r\n") if line.startswith(b"HTTP/1.")]


@pytest.mark.parametrize("case", list(UNFRAMEABLE))
def test_one_4xx_and_a_close_and_nothing_for_what_follows(
    http_server: ServerProcess, case: str
) -> None:
    with connect(http_server.address) as sock:
        sock.sendall(UNFRAMEABLE[case] + NEXT)
        wire = recv_until_eof(sock)
    answered = statuses(wire)
    assert len(answered) == 1, answered
    status = int(answered[0].split(b" ")[1])
    assert 400 <= status < 500, answered
