"""Access-log lines, byte by byte: escaping of what the client sent, both formats."""

from __future__ import annotations

import pytest

from rosetta.protocol.access_log import escape, log_line, log_time, remote_host
from rosetta.protocol.http import ProtocolError, Request

WHEN = 1_700_000_000.0  # 14/Nov/2023:22:13:20 UTC


def _request(target: bytes, *headers: tuple[bytes, bytes]) -> Request:
    return Request("GET", target, "1.1", headers, keep_alive=True)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        (b"/plain", b"/plain"),
        (b'a"b', b"a\\x22b"),
        (b"a\\b", b"a\\x5Cb"),
        (b"line\nbreak\r", b"line\\x0Abreak\\x0D"),
        (b"\x00\x1b[31m", b"\\x00\\x1B[31m"),
        ("café".encode(), b"caf\\xC3\\xA9"),
        (b"\x7f", b"\\x7F"),
    ],
)
def test_escape(raw: bytes, escaped: bytes) -> None:
    assert escape(raw) == escaped


def test_combined_line() -> None:
    event = _request(b"/a?b=1", (b"referer", b"http://r/"), (b"user-agent", b'ua "x"\n'))
    line = log_line("combined", ("10.0.0.1", 5555), event, 200, 42, WHEN)
    assert line == (
        b'10.0.0.1 - - [14/Nov/2023:22:13:20 +0000] "GET /a?b=1 HTTP/1.1" 200 42 '
        b'"http://r/" "ua \\x22x\\x22\\x0A"\n'
    )


def test_common_line_and_a_refused_request() -> None:
    line = log_line("common", ("::1", 1, 0, 0), ProtocolError(400, "bad"), 400, 111, WHEN)
    assert line == b'::1 - - [14/Nov/2023:22:13:20 +0000] "-" 400 111\n'
    assert log_line("combined", None, None, 400, 0, WHEN).endswith(b'"-" 400 0 "-" "-"\n')


def test_time_and_host() -> None:
    assert log_time(0) == b"[01/Jan/1970:00:00:00 +0000]"
    assert remote_host(("127.0.0.1", 80)) == b"127.0.0.1"
    assert remote_host(None) == b"-"
