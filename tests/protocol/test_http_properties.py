"""Properties of the HTTP core, tried on generated input: it never raises, where the bytes are
split never changes what it parses, and nothing is answered after a request it cannot frame."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rosetta.protocol.http import ProtocolError, Request
from tests.protocol.conftest import feed

TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
PATH = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~/%", max_size=40)
VALUE = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)
UNFRAMEABLE = [
    b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nx\r\n0\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    b"GET / HTTP/1.1\nHost: t\n\n",
    b"GET / HTTP/1.1\rHost: t\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nX A: b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: t\r\nX\x01A: b\r\n\r\n",
    b"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
    b"NOT HTTP\r\n\r\n",
]


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    method = draw(st.sampled_from(["GET", "HEAD"]))
    headers = draw(st.lists(st.tuples(TOKEN, VALUE), max_size=5))
    lines = [f"{method} /{draw(PATH)} HTTP/1.1", "Host: test"]
    lines += [f"x-{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=8))
def test_random_bytes_never_raise(pieces: list[bytes]) -> None:
    events = feed(pieces)
    assert all(isinstance(event, Request | ProtocolError) for event in events)


@settings(max_examples=200, deadline=None)
@given(st.lists(requests(), min_size=1, max_size=5), st.lists(st.integers(0, 10_000), max_size=12))
def test_a_valid_stream_split_anywhere_parses_the_same(
    stream: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(stream)
    whole = feed([data])
    assert len(whole) == len(stream)
    assert all(isinstance(event, Request) for event in whole)
    assert feed(split(data, cuts)) == whole


@settings(max_examples=200, deadline=None)
@given(
    st.lists(requests(), max_size=3),
    st.sampled_from(UNFRAMEABLE),
    st.binary(max_size=300),
    st.lists(st.integers(0, 10_000), max_size=8),
)
def test_nothing_is_answered_after_an_unframeable_request(
    before: list[bytes], bad: bytes, after: bytes, cuts: list[int]
) -> None:
    data = b"".join(before) + bad + after
    events = feed(split(data, cuts))
    assert len(events) == len(before) + 1, events
    assert all(isinstance(event, Request) for event in events[:-1])
    last = events[-1]
    assert isinstance(last, ProtocolError) and not last.keep_alive, last
