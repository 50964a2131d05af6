"""The answer side of HTTP/1.1: a `ResponsePlan` keeps what is said (status, header pairs, body,
the connection's fate) and renders the head's bytes once, when it is made.

Socket models send `plan.head` and then the body; the adapters for other servers (WSGI,
aiohttp) hand `plan.status` and `plan.headers` to their server, which writes its own head. So
the pairs are the truth and the bytes are rendered from them, never parsed back.

    plan = ResponsePlan.render(200, ((b"Content-Length", b"5"),), b"hello", keep_alive=True)
    plan.head   # status line, Date, Server, Content-Length: 5, blank line
    plan.headers  # ((b"Content-Length", b"5"),)
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

from rosetta.protocol.files import FileSlice

SERVER_NAME = b"rosetta"
Headers = tuple[tuple[bytes, bytes], ...]

_REASONS = {status.value: status.phrase.encode("ascii") for status in HTTPStatus}
# Between the Date value and the response's own fields: the same for every response.
SERVER_LINE = b"\r\nServer: " + SERVER_NAME + b"\r\n"


class _DateHeader:
    """The Date header value, formatted once per second rather than once per response."""

    __slots__ = ("_second", "_value")

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def __call__(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._value = formatdate(now, usegmt=True).encode("ascii")
        return self._value


http_date = _DateHeader()


def reason(status: int) -> bytes:
    return _REASONS.get(status, b"Unknown")


def status_line(status: int) -> bytes:
    return b"HTTP/1.1 %d %s\r\n" % (status, reason(status))


def render_fields(headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """`Name: value` lines, each ending in CRLF."""
    return b"".join(b"%s: %s\r\n" % pair for pair in headers)


def render_head(
    status_and_date: bytes, fields: bytes, keep_alive: bool, http_version: str
) -> bytes:
    """Status line and `Date: ` (`status_and_date`), the date, Server, the response's own
    fields (rendered), the Connection line where needed, the blank line."""
    return b"".join(
        (
            status_and_date,
            http_date(),
            SERVER_LINE,
            fields,
            connection_header(keep_alive, http_version),
            b"\r\n",
        )
    )


def connection_header(keep_alive: bool, http_version: str) -> bytes:
    """The Connection line a response needs: only where the version's default is not meant."""
    if not keep_alive:
        return b"Connection: close\r\n"
    if http_version == "1.0":
        return b"Connection: keep-alive\r\n"
    return b""


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    """One answer, planned: what a driver sends, or what an adapter hands to its server.

    `headers` are the response's own fields (not Date, Server or Connection, which belong to
    whoever writes the head); `head` is the whole head as a socket model sends it.
    """

    status: int
    headers: Headers
    body: bytes | FileSlice
    keep_alive: bool
    head: bytes

    @classmethod
    def render(
        cls,
        status: int,
        headers: Headers,
        body: bytes | FileSlice,
        *,
        keep_alive: bool,
        http_version: str = "1.1",
    ) -> ResponsePlan:
        head = render_head(
            status_line(status) + b"Date: ", render_fields(headers), keep_alive, http_version
        )
        return cls(status, headers, body, keep_alive, head)

    @property
    def body_length(self) -> int:
        return self.body.length if isinstance(self.body, FileSlice) else len(self.body)


def error_page(status: int) -> bytes:
    text = reason(status).decode("ascii") if status in _REASONS else "Error"
    return (
        f"<!DOCTYPE html>\n<html><head><title>{status} {text}</title></head>\n"
        f"<body><h1>{status} {text}</h1></body></html>\n"
    ).encode("ascii")
