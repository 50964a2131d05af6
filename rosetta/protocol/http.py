"""HTTP/1.1 requests in, events out: httptools behind a small sans-I/O connection object.

    conn = HTTPConnection()
    conn.receive_data(data)          # b"" when the peer closed its side
    for event in conn.events():      # Request | ProtocolError; nothing yet = need more bytes
        ...

The connection enforces the limits every model gets for free: a request line over 8 KiB (414),
more than 100 header fields or 64 KiB of them (431), a malformed request (400), and after any
of those it stops parsing: the driver answers and closes. Pipelined requests come out in order.
Exactly one answer per request: a refused request that carries a body is answered with
`Connection: close` and nothing after it is parsed, so a body that turns out malformed can
never draw a second answer. llhttp refuses the framing tricks (obsolete line folding,
Content-Length with Transfer-Encoding, two lengths, bare CR or LF, spaces or control bytes in
a header name) with one 400.
Keep-alive follows the version: on by default in HTTP/1.1 unless `Connection: close`, off in
HTTP/1.0 unless `Connection: keep-alive`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import NamedTuple

import httptools

MAX_REQUEST_LINE = 8 * 1024
MAX_HEADER_COUNT = 100
MAX_HEADER_BYTES = 64 * 1024
ALLOWED_METHODS = ("GET", "HEAD")
# httptools buffers a header field until it is complete, so the driver's bytes are fed in slices
# of this size and the bytes of an unfinished head are counted between slices: a head that
# never ends is refused after about MAX_REQUEST_LINE + MAX_HEADER_BYTES, not buffered forever.
FEED_SLICE = 16 * 1024
MAX_HEAD_BYTES = MAX_REQUEST_LINE + MAX_HEADER_BYTES + FEED_SLICE
# What a header field counts against MAX_HEADER_BYTES besides its name and value: ": ", CRLF.
FIELD_OVERHEAD = 4
# A head's fields count at most one byte per field more than the head's own bytes (a field
# written "name:value" counts ": "), so below this many bytes of head, counting cannot reach
# MAX_HEADER_BYTES and the parser's callbacks need not count.
_COUNT_FROM = MAX_HEADER_BYTES - 2 * MAX_HEADER_COUNT


class Request(NamedTuple):
    """One parsed request. A named tuple rather than a frozen dataclass: one is made per
    request, and a tuple is made in a third of the time (no `object.__setattr__` per field)."""

    method: str
    target: bytes
    http_version: str
    headers: tuple[tuple[bytes, bytes], ...]
    keep_alive: bool

    def header(self, name: bytes) -> bytes | None:
        """The first value of a header (name in lower case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """The request cannot be served; answer with `status` and close the connection."""

    status: int
    detail: str
    keep_alive: bool = False
    allow: tuple[str, ...] = field(default=())


Event = Request | ProtocolError
_HEADERS_TOO_LARGE = ProtocolError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers too large")


def head_refusal(
    target_length: int, header_count: int = 0, header_bytes: int = 0
) -> ProtocolError | None:
    """The error for a request head over the limits every model shares, else None.

    The one check: `HTTPConnection` makes it as the head arrives, the adapters for servers that
    parse the head themselves (WSGI, aiohttp) make it on what their server parsed.
    """
    if target_length > MAX_REQUEST_LINE:
        return ProtocolError(HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long")
    if header_bytes > MAX_HEADER_BYTES:
        return _HEADERS_TOO_LARGE
    if header_count > MAX_HEADER_COUNT:
        return ProtocolError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too many headers")
    return None


def method_not_allowed(method: str, *, keep_alive: bool) -> ProtocolError:
    """The 405 for a method outside ALLOWED_METHODS (it names them, for the Allow header)."""
    return ProtocolError(
        HTTPStatus.METHOD_NOT_ALLOWED,
        f"method {method} not allowed",
        keep_alive=keep_alive,
        allow=ALLOWED_METHODS,
    )


def fields_size(headers: Iterable[tuple[bytes | str, bytes | str]]) -> int:
    """What a parsed head's fields count against MAX_HEADER_BYTES."""
    return sum(len(name) + len(value) + FIELD_OVERHEAD for name, value in headers)


class _Stop(Exception):
    """Raised inside a parser callback to stop parsing: at a limit, or after the last message."""

    def __init__(self, error: Event, *, queued: bool = False) -> None:
        super().__init__(repr(error))
        self.error = error
        self.queued = queued


class HTTPConnection:
    """One client connection's request side: bytes in, `Request`/`ProtocolError` events out."""

    __slots__ = (
        "_counting",
        "_finished",
        "_head_bytes",
        "_header_bytes",
        "_headers",
        "_in_head",
        "_in_message",
        "_parser",
        "_pending",
        "_ready",
        "_url",
        "peer_closed",
    )

    def __init__(self) -> None:
        # The parser and the queue are made when the first bytes come: a server holding many
        # idle connections pays a few bytes for each, not a parser (about 1.5 KiB).
        self._parser: httptools.HttpRequestParser | None = None
        self._ready: deque[Event] | tuple[()] = ()
        self._finished = False
        self._in_head = False
        self._in_message = False
        self.peer_closed = False

    # -- driver API --------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if self._finished:
            return
        if not data:
            self.peer_closed = True
            return
        if self._parser is None:
            self._parser = httptools.HttpRequestParser(self)
            self._ready = deque()
            self._reset_message()
        try:
            if len(data) <= FEED_SLICE:
                self._feed(data)
            else:
                for start in range(0, len(data), FEED_SLICE):
                    self._feed(data[start : start + FEED_SLICE])
                    if self._finished:
                        break
        except httptools.HttpParserUpgrade:
            # The request before the upgrade is complete and queued; we speak nothing else,
            # so answer it and close.
            self._stop_after_last_request()
        except httptools.HttpParserCallbackError as error:
            stop = error.__context__
            if not isinstance(stop, _Stop):
                raise
            if not stop.queued:
                self._fail(stop.error)
        except httptools.HttpParserInvalidMethodError:
            self._fail(ProtocolError(HTTPStatus.BAD_REQUEST, "invalid method"))
        except httptools.HttpParserError as error:
            self._fail(self._classify(error))

    def events(self) -> Iterator[Event]:
        while self._ready:
            yield self._ready.popleft()

    @property
    def finished(self) -> bool:
        """True once the last event this connection will ever produce is queued."""
        return self._finished

    @property
    def in_message(self) -> bool:
        """True while bytes of a request not yet complete are held (its deadline runs)."""
        return self._in_message

    # -- httptools callbacks -----------------------------------------------------------

    def on_message_begin(self) -> None:
        # _reset_message, written out: this runs for every request.
        self._url = b""
        self._headers = []
        self._header_bytes = 0
        self._counting = False
        self._pending = None
        self._head_bytes = 0
        self._in_head = True
        self._in_message = True

    def on_url(self, url: bytes) -> None:
        # Nearly always one piece, which `b"" + url` keeps without copying.
        self._url += url
        # The answer is head_refusal's; the guard spares a call per request on the hot path.
        if len(self._url) > MAX_REQUEST_LINE:
            raise _Stop(head_refusal(len(self._url)))  # type: ignore[arg-type]

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self._headers
        headers.append((name.lower(), value))
        if self._counting:  # the head may have reached MAX_HEADER_BYTES (see _feed)
            self._header_bytes += len(name) + len(value) + FIELD_OVERHEAD
            if self._header_bytes > MAX_HEADER_BYTES:
                raise _Stop(_HEADERS_TOO_LARGE)
        if len(headers) > MAX_HEADER_COUNT:
            raise _Stop(head_refusal(0, len(headers), self._header_bytes))  # type: ignore[arg-type]

    def on_headers_complete(self) -> None:
        self._in_head = False
        parser = self._parser
        method = parser.get_method().decode("ascii", "replace")
        keep_alive = bool(parser.should_keep_alive())
        version = parser.get_http_version()
        if version not in ("1.0", "1.1"):
            # "GET /" alone is HTTP/0.9, which has no headers to answer with: refuse it.
            status = (
                HTTPStatus.HTTP_VERSION_NOT_SUPPORTED if version >= "2" else HTTPStatus.BAD_REQUEST
            )
            raise _Stop(ProtocolError(status, f"HTTP/{version} not supported"))
        if method not in ALLOWED_METHODS:
            self._pending = None
            if not self._has_body():
                self._ready.append(method_not_allowed(method, keep_alive=keep_alive))
                return
            # Answered before its body is read: the body is never parsed, so nothing in it
            # can draw a second answer, and the connection closes after this one.
            self._finished = True
            self._ready.append(method_not_allowed(method, keep_alive=False))
            raise _Stop(self._ready[-1], queued=True)
        self._pending = Request(method, self._url, version, tuple(self._headers), keep_alive)

    def on_message_complete(self) -> None:
        self._in_message = False
        if self._pending is not None:
            self._ready.append(self._pending)
            self._pending = None
        if self._ready and not self._ready[-1].keep_alive:
            # The answer to this message ends the connection: whatever follows is never read.
            self._finished = True
            raise _Stop(self._ready[-1], queued=True)

    # -- internals ---------------------------------------------------------------------

    def _feed(self, chunk: bytes) -> None:
        if not self._counting and self._head_bytes + len(chunk) > _COUNT_FROM:
            # The fields may reach MAX_HEADER_BYTES in this chunk: count them from here on.
            self._counting = True
            self._header_bytes = fields_size(self._headers)
        self._parser.feed_data(chunk)
        if self._in_head:
            self._head_bytes += len(chunk)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._fail(_HEADERS_TOO_LARGE)

    def _has_body(self) -> bool:
        for name, value in self._headers:
            if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
                return True
        return False

    def _reset_message(self) -> None:
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_bytes = 0
        self._counting = False
        self._pending: Request | None = None
        self._head_bytes = 0

    def _fail(self, error: ProtocolError) -> None:
        self._finished = True
        self._ready.append(error)

    def _stop_after_last_request(self) -> None:
        self._finished = True
        if self._ready:
            last = self._ready.pop()
            if isinstance(last, Request):
                self._ready.append(last._replace(keep_alive=False))
            else:
                self._ready.append(replace(last, keep_alive=False))

    def _classify(self, error: httptools.HttpParserError) -> ProtocolError:
        # llhttp reports an over-long header value as a generic header error; the byte
        # budget tells us which it was.
        if self._header_bytes + len(self._url) > MAX_HEADER_BYTES:
            return _HEADERS_TOO_LARGE
        return ProtocolError(HTTPStatus.BAD_REQUEST, f"malformed request: {error}")
