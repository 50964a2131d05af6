"""Byte-level tests of the HTTP connection: each case fed whole, byte by byte, and with the
next request right behind it (which must then be parsed too, unless the case closes)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rosetta.protocol.http import (
    MAX_HEADER_BYTES,
    MAX_REQUEST_LINE,
    HTTPConnection,
    ProtocolError,
    Request,
)
from rosetta.protocol.response import ResponsePlan
from tests.protocol.conftest import feed

NEXT = b"GET /next HTTP/1.1\r\nHost: n\r\n\r\n"


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    # (kind, status or method, target, keep_alive) of each expected event
    expected: tuple[tuple[str, object, bytes | None, bool], ...]

    @property
    def closes(self) -> bool:
        return not self.expected[-1][3]


def refused(name: str, data: bytes, status: int, *, keep_alive: bool = False) -> Case:
    """A request answered with the error `status` alone, closing unless `keep_alive`."""
    return Case(name, data, (("err", status, None, keep_alive),))


# One request and its expected events per row; the rows share a shape on purpose.
CASES = [
    Case("get", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", (("req", "GET", b"/", True),)),
    Case("head", b"HEAD /x.txt HTTP/1.1\r\n\r\n", (("req", "HEAD", b"/x.txt", True),)),
    Case(
        "query kept in target", b"GET /a?b=c HTTP/1.1\r\n\r\n", (("req", "GET", b"/a?b=c", True),)
    ),
    Case(
        "connection close",
        b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        (("req", "GET", b"/", False),),
    ),
    Case("http/1.0 closes", b"GET / HTTP/1.0\r\n\r\n", (("req", "GET", b"/", False),)),
    Case(
        "http/1.0 keep-alive",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        (("req", "GET", b"/", True),),
    ),
    Case(
        "two pipelined",
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        (("req", "GET", b"/1", True), ("req", "GET", b"/2", True)),
    ),
    # Answered before its body is read, so nothing in the body can draw a second answer.
    refused(
        "post with a body is 405 and closes",
        b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        405,
    ),
    refused(
        "post with a malformed chunk is one 405 and a close",
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n",
        405,
    ),
    refused("post without a body is 405", b"POST / HTTP/1.1\r\n\r\n", 405, keep_alive=True),
    refused("delete is 405", b"DELETE /x HTTP/1.1\r\n\r\n", 405, keep_alive=True),
    refused("garbage is 400", b"\x16\x03\x01\x00garbage\r\n\r\n", 400),
    refused("no version is 400", b"GET /\r\n\r\n", 400),
    refused("bad header is 400", b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
    refused("long line is 414", b"GET /" + b"a" * MAX_REQUEST_LINE + b" HTTP/1.1\r\n\r\n", 414),
    refused("101 headers is 431", b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431),
    Case(
        "100 headers is fine",
        b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 100 + b"\r\n",
        (("req", "GET", b"/", True),),
    ),
    refused(
        "64k of headers is 431",
        b"GET / HTTP/1.1\r\nX: " + b"y" * MAX_HEADER_BYTES + b"\r\n\r\n",
        431,
    ),
    Case(
        "upgrade answered then closed",
        b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        (("req", "GET", b"/", False),),
    ),
]


def kinds(events: list[Request | ProtocolError]) -> list[tuple[str, object, bytes | None, bool]]:
    out: list[tuple[str, object, bytes | None, bool]] = []
    for event in events:
        if isinstance(event, Request):
            out.append(("req", event.method, event.target, event.keep_alive))
        else:
            out.append(("err", int(event.status), None, event.keep_alive))
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("how", ["whole", "byte-by-byte", "with-next"])
def test_case(case: Case, how: str) -> None:
    if how == "whole":
        chunks = [case.data]
    elif how == "byte-by-byte":
        chunks = [case.data[index : index + 1] for index in range(len(case.data))]
    else:
        chunks = [case.data + NEXT]
    expected = list(case.expected)
    if how == "with-next" and not case.closes:
        expected.append(("req", "GET", b"/next", True))
    assert kinds(feed(chunks)) == expected


@given(st.data())
def test_any_split_gives_the_same_events(data: st.DataObject) -> None:
    case = data.draw(st.sampled_from(CASES))
    stream = case.data + NEXT
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    chunks = [
        stream[start:end] for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True)
    ]
    assert kinds(feed(chunks)) == kinds(feed([stream]))


def test_headers_are_lowercased_and_kept_in_order() -> None:
    (request,) = feed([b'GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: "x"\r\nX-A: 1\r\n\r\n'])
    assert isinstance(request, Request)
    assert request.headers == ((b"host", b"a"), (b"if-none-match", b'"x"'), (b"x-a", b"1"))
    assert request.header(b"if-none-match") == b'"x"'
    assert request.header(b"missing") is None


def test_405_carries_allow() -> None:
    (error,) = feed([b"PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"])
    assert isinstance(error, ProtocolError)
    assert error.allow == ("GET", "HEAD")


def test_nothing_is_parsed_after_an_error() -> None:
    conn = HTTPConnection()
    conn.receive_data(b"BROKEN\r\n\r\n")
    assert [type(event) for event in conn.events()] == [ProtocolError]
    assert conn.finished
    conn.receive_data(NEXT)
    assert list(conn.events()) == []


def test_nothing_is_parsed_after_a_closing_request() -> None:
    conn = HTTPConnection()
    conn.receive_data(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n" + NEXT)
    assert len(list(conn.events())) == 1
    assert conn.finished


def test_endless_header_is_refused_without_buffering_it_all() -> None:
    conn = HTTPConnection()
    conn.receive_data(b"GET / HTTP/1.1\r\nX: ")
    for _ in range(100):  # 1.6 MB of one header value, never finished
        conn.receive_data(b"y" * 16384)
        if conn.finished:
            break
    (error,) = list(conn.events())
    assert isinstance(error, ProtocolError) and error.status == 431


def test_eof_is_recorded() -> None:
    conn = HTTPConnection()
    conn.receive_data(b"")
    assert conn.peer_closed
    assert list(conn.events()) == []


@pytest.mark.parametrize(
    ("keep_alive", "version", "connection"),
    [
        (True, "1.1", None),
        (False, "1.1", b"close"),
        (True, "1.0", b"keep-alive"),
        (False, "1.0", b"close"),
    ],
)
def test_response_head(keep_alive: bool, version: str, connection: bytes | None) -> None:
    head = ResponsePlan.render(
        200, ((b"Content-Length", b"3"),), b"abc", keep_alive=keep_alive, http_version=version
    ).head
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert lines[1].startswith(b"Date: ") and lines[1].endswith(b" GMT")
    assert b"Content-Length: 3" in lines
    assert head.endswith(b"\r\n\r\n")
    found = [line for line in lines if line.startswith(b"Connection: ")]
    assert found == ([b"Connection: " + connection] if connection else [])
