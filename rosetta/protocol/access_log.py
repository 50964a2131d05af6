"""Access-log lines: one per response, in the Common or Combined Log Format.

    127.0.0.1 - - [01/Dec/2026:23:22:58 +0000] "GET /a.txt HTTP/1.1" 200 3 "-" "curl/8.5.0"

Everything that comes from the client (the request line, Referer, User-Agent) is escaped as
nginx does: a byte outside printable ASCII, a double quote or a backslash becomes `\\xHH`, so
no control byte or newline a client sends ever reaches the log, and every line is one line. A
request that could not be parsed is logged with `-` for its request line.
"""

from __future__ import annotations

import time

from rosetta.protocol.http import Event, Request

FORMATS = ("common", "combined")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SAFE = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\")}
_ESCAPED = {byte: (b"\\x%02X" % byte) for byte in range(256) if byte not in _SAFE}


def escape(value: bytes) -> bytes:
    """`value` with every byte outside printable ASCII, `"` and `\\` written as `\\xHH`."""
    if all(byte in _SAFE for byte in value):
        return value
    return b"".join(_ESCAPED.get(byte) or bytes((byte,)) for byte in value)


def log_time(when: float) -> bytes:
    """`[10/Oct/2000:13:55:36 +0000]`: the time, in UTC."""
    moment = time.gmtime(when)
    return b"[%02d/%s/%04d:%02d:%02d:%02d +0000]" % (
        moment.tm_mday,
        _MONTHS[moment.tm_mon - 1].encode("ascii"),
        moment.tm_year,
        moment.tm_hour,
        moment.tm_min,
        moment.tm_sec,
    )


def remote_host(peer: object) -> bytes:
    """The client's address from a socket's peer name (`(host, port, ...)`), else `-`."""
    if isinstance(peer, tuple) and peer and isinstance(peer[0], str):
        return peer[0].encode("ascii", "replace")
    return b"-"


def _quoted(value: bytes | None) -> bytes:
    return b'"' + (escape(value) if value else b"-") + b'"'


def log_line(
    log_format: str, peer: object, event: Event | None, status: int, sent: int, when: float
) -> bytes:
    """The line (ending in a newline) for an answer with `status` and `sent` body bytes to
    `event` (None: a request some other parser refused) from `peer`."""
    if isinstance(event, Request):
        request_line = b"%s %s HTTP/%s" % (
            event.method.encode("latin-1"),
            event.target,
            event.http_version.encode("ascii"),
        )
        quoted_request = b'"' + escape(request_line) + b'"'
    else:
        quoted_request = b'"-"'
    line = b"%s - - %s %s %d %d" % (
        remote_host(peer),
        log_time(when),
        quoted_request,
        status,
        sent,
    )
    if log_format == "combined":
        referer = event.header(b"referer") if isinstance(event, Request) else None
        agent = event.header(b"user-agent") if isinstance(event, Request) else None
        line += b" " + _quoted(referer) + b" " + _quoted(agent)
    return line + b"\n"
