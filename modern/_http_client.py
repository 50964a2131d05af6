"""A helper of `modern.protocol_download`, not a model: HTTP/1.1 GET over asyncio Protocols,
with httptools' response parser, and a keep-alive pool of connections per host.

`Connection` is one TCP (or TLS, through the loop's own SSL) connection, an
`asyncio.BufferedProtocol`: every read lands in one buffer that the pool's connections share
(a read is used up before the loop makes the next), httptools parses the head, which
resolves a future, and a body of known length goes from the buffer to the sink the driver
sets (the `.part` file's `write`, given a memoryview valid during the call): no copy, no
parser call, no queue and no task switch per read. A chunked or length-less body goes
through httptools' `on_body`; what arrives with the head, before the sink is set, is copied
into a list. A timer per connection gives the `--timeout` (silence, not length). `Pool`
keeps idle connections per scheme-host-port and opens new ones on demand; a reused
connection that the server closed while idle is replaced once, before any byte of the
answer arrived. The pool's `Outbox` writes the request heads of one turn of the loop together
once it is done, so that a server gone idle is woken once for them all.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from urllib.parse import urlsplit

import httptools

from rosetta.protocol.download import REQUEST_HEADERS
from rosetta.protocol.download_headers import request_head
from rosetta.protocol.names import plain_path_start, split_url

Sink = Callable[[bytes], object]
Address = tuple[str, str, int]  # scheme, host, port


class SilentServer(Exception):
    """No byte arrived for the timeout's length (connecting or reading)."""


class ClosedEarly(ConnectionError):
    """The connection ended before the answer did (or before it began)."""


READ_SIZE = 1 << 20  # at most, in one read
HEAD_SEARCH = 16 * 1024  # a head is found in the first bytes of a read; a longer one is parsed
# The response headers a download reads, by their wire names: lower-case, and as servers
# usually spell them, so that the common ones need no `lower()`; None: known, never read.
READ_HEADERS: dict[bytes, str | None] = {}
for _name in ("location", "content-length", "content-range", "transfer-encoding", "etag",
              "last-modified"):  # fmt: skip
    READ_HEADERS[_name.encode()] = _name
    READ_HEADERS["-".join(part.capitalize() for part in _name.split("-")).encode()] = _name
READ_HEADERS[b"ETag"] = "etag"
for _name in ("Server", "Date", "Content-Type", "Connection", "Accept-Ranges", "Keep-Alive",
              "Cache-Control", "Expires", "Vary"):  # fmt: skip
    READ_HEADERS[_name.encode()] = None
_UNKNOWN = ""


class Connection(asyncio.BufferedProtocol):
    """One connection, one request at a time; `reused` once it has answered one."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, timeout: float, buffer: memoryview, outbox: Outbox
    ) -> None:
        self.loop = loop
        self.buffer = buffer  # shared: each read is used up before the next one lands
        self.outbox = outbox  # shared: the heads of one turn of the loop go out together
        self.timeout = timeout
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.reused = False
        self.closed = False
        self._head: asyncio.Future[tuple[int, dict[str, str]]] | None = None
        self._done: asyncio.Future[None] | None = None
        self._headers: dict[str, str] = {}
        self._pending: list[bytes] = []
        self._sink: Sink | None = None
        self._started = False  # any byte of the answer seen
        self._read_until_close = False
        self._in_head = False  # the head is still arriving: look for its end
        self._head_tail = b""  # its last bytes so far (the end may span two reads)
        self._raw_length = 0  # the body's, once the head says it
        self._raw_left = 0  # body bytes still to pass on without the parser
        self._keep_alive = True
        self._timer: asyncio.TimerHandle | None = None
        self._waiting = False  # for an answer: the silence timer counts
        self._last_read = 0.0

    # --- what the driver calls ---
    def request(self, head: bytes) -> asyncio.Future[tuple[int, dict[str, str]]]:
        assert self.transport is not None
        self._head, self._done = self.loop.create_future(), self.loop.create_future()
        self._headers, self._pending, self._sink, self._started = {}, [], None, False
        self._in_head, self._head_tail, self._raw_length = True, b"", 0
        self.outbox.send(self, head)
        self._arm()
        return self._head

    def read_body(self, sink: Sink) -> asyncio.Future[None]:
        """Send the body (what came already, then every chunk as it comes) to `sink`."""
        assert self._done is not None
        self._sink = sink
        pending, self._pending = self._pending, []
        for chunk in pending:
            sink(chunk)
        return self._done

    def write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    def pause(self, seconds: float) -> None:
        """`--limit-rate`: stop reading for `seconds` (the silence timer waits too)."""
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()
            self._last_read = self.loop.time() + seconds
            self.loop.call_later(seconds, self._resume)

    def _resume(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def close(self) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self.transport is not None:
            self.transport.abort()

    # --- asyncio.Protocol ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self._started = True
        self._last_read = self.loop.time()
        data = self.buffer[:nbytes]
        if self._raw_left:
            self._raw(data)
            return
        if self._in_head:  # the parser reads the head; the body may then bypass it
            end = _head_end(self._head_tail, self.buffer.obj, nbytes)
            if end < 0:
                self._head_tail = (self._head_tail + bytes(data[-3:]))[-3:]
            else:
                if not self._feed(data[:end]):
                    return
                data = data[end:]
                if self._raw_length:  # a length, and the parser has seen only the head
                    self._raw_left, self._raw_length = self._raw_length, 0
                    self._raw(data)
                    return
        self._feed(data)

    def _feed(self, data: memoryview) -> bool:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ClosedEarly(f"bad response: {error}"))
            self.close()
            return False
        return True

    def _raw(self, data: memoryview) -> None:
        """A body of known length, passed on as it lies in the read buffer (no copy)."""
        if len(data) > self._raw_left:  # bytes after the answer: no request asked for them
            data, self._keep_alive = data[: self._raw_left], False
        self._raw_left -= len(data)
        if data:
            self.on_body(data)
        if not self._raw_left and not self.closed:
            self.parser = httptools.HttpResponseParser(self)  # fresh for the next answer
            self.on_message_complete()

    def connection_lost(self, error: Exception | None) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._read_until_close and error is None and self._done and not self._done.done():
            self._done.set_result(None)  # no length, not chunked: the body ends at the close
            return
        reason = error.strerror if isinstance(error, OSError) and error.strerror else ""
        self._fail(ClosedEarly(reason or "connection closed"))

    # --- httptools callbacks ---
    def on_header(self, name: bytes, value: bytes) -> None:
        key = READ_HEADERS.get(name, _UNKNOWN)
        if key == _UNKNOWN:
            key = READ_HEADERS.get(name.lower())
        if key is not None:  # the rest (Date, Server...) is never looked at
            self._headers[key] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        headers = self._headers
        self._in_head = False
        self._keep_alive = self.parser.should_keep_alive()
        length = headers.get("content-length", "")
        status = self.parser.get_status_code()
        encoded = "transfer-encoding" in headers
        self._read_until_close = not length and "chunked" not in headers.get(
            "transfer-encoding", ""
        )
        if length.isdigit() and not encoded and status >= 200 and status not in (204, 304):
            self._raw_length = int(length)  # 0: the parser ends the answer itself
        if self._head is not None and not self._head.done():
            self._head.set_result((self.parser.get_status_code(), headers))

    def on_body(self, body: bytes | memoryview) -> None:
        if self._sink is None:
            self._pending.append(bytes(body))  # the read buffer is reused: a copy
            return
        try:
            self._sink(body)
        except Exception as error:  # the file could not be written: the driver's to report
            self._fail(error)
            self.close()

    def on_message_complete(self) -> None:
        self._waiting = False  # the timer stays, idle, for the next request
        if not self._keep_alive:
            self.closed = True  # answered; closed once the driver is done with it
        if self._done is not None and not self._done.done():
            self._done.set_result(None)

    # --- the silence timer ---
    def _arm(self) -> None:
        self._last_read = self.loop.time()
        self._waiting = True
        if self._timer is None:
            self._timer = self.loop.call_at(self._last_read + self.timeout, self._check)

    def _check(self) -> None:
        self._timer = None
        if not self._waiting:
            return  # idle between requests: the next one arms it again
        due = self._last_read + self.timeout
        if self.loop.time() < due:
            self._timer = self.loop.call_at(due, self._check)
            return
        self._fail(SilentServer())
        self.close()

    def _fail(self, error: Exception) -> None:
        for future in (self._head, self._done):
            if future is not None and not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: the head's failure may never be awaited
        self._head = self._done = None

    @property
    def started(self) -> bool:
        return self._started


class Outbox:
    """Request heads, written together when the loop's turn is done: one at a time, between a
    file's writes and the next's, each would wake a server gone idle (costing the writer more
    than the write); in one burst, the heads of a turn wake it once."""

    def __init__(self) -> None:
        self.heads: list[tuple[Connection, bytes]] = []

    def send(self, connection: Connection, head: bytes) -> None:
        if not self.heads:
            connection.loop.call_soon(self.flush)
        self.heads.append((connection, head))

    def flush(self) -> None:
        heads, self.heads = self.heads, []
        for connection, head in heads:
            connection.write(head)  # closed meanwhile: nothing, its future says why


def _head_end(tail: bytes, read: bytearray, nbytes: int) -> int:
    """Where in the read (the first `nbytes` of `read`) the head's blank line ends, `tail` being
    the bytes of the head just before it; -1 if not within HEAD_SEARCH bytes (a longer head:
    the parser reads it all). Searched in place: a copy of the read would cost more than the
    search, for a small file's whole answer."""
    if tail:  # a blank line begun in the read before ends in this read's first 3 bytes
        found = (tail + read[: min(3, nbytes)]).find(b"\r\n\r\n")
        if found >= 0:
            return found + 4 - len(tail)
    found = read.find(b"\r\n\r\n", 0, min(nbytes, HEAD_SEARCH))
    return -1 if found < 0 else found + 4


def address_of(url: str) -> tuple[Address, str]:
    """The pool's key for a URL, and the request target (path and query)."""
    simple = split_url(url)  # the usual URL in string operations; urlsplit for the rest
    if simple is not None:
        scheme, host, port, path, query = simple
    else:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname or "", parts.port
        path, query = parts.path, parts.query
    target = (path or "/") + (f"?{query}" if query else "")
    return (scheme, host, port or (443 if scheme == "https" else 80)), target


_NO_SLOT: AbstractAsyncContextManager[object] = nullcontext()


class Pool:
    """Idle keep-alive connections per address; `per_host` semaphores bound each host."""

    def __init__(self, timeout: float, per_host: int, limit: int | None = None) -> None:
        self.timeout = timeout
        self.per_host = per_host
        # No host can be asked more than `limit` requests at once anyway: no semaphore then.
        self.unbounded = limit is not None and per_host >= limit
        self.idle: dict[Address, list[Connection]] = {}
        self.slots: dict[Address, asyncio.Semaphore] = {}
        self._tls: ssl.SSLContext | None = None
        self._heads: dict[Address, bytes] = {}  # " HTTP/1.1", Host and the rest, per address
        self._origins: dict[str, Address] = {}  # the URL's text before its path: its address
        # One read buffer for every connection: a read is parsed and written out (or
        # copied, for a body that came before its sink) before the loop makes the next.
        self.buffer = memoryview(bytearray(READ_SIZE))
        self.outbox = Outbox()

    def address_of(self, url: str) -> tuple[Address, str]:
        """`address_of(url)`, the address kept per origin (the URL's text before its path): a
        URL of an origin seen before is cut in two at its path instead of parsed again. Kept
        only where the parse gave the rest of the URL as the target, which it then does for
        every URL of that origin without a fragment or an empty query."""
        path_at = plain_path_start(url)
        if path_at < 0 or url.endswith("?"):  # the parse drops an empty query's "?"
            return address_of(url)
        origin, rest = url[:path_at], url[path_at:]
        if (address := self._origins.get(origin)) is not None:
            return address, rest
        address, target = address_of(url)
        if target == rest:
            self._origins[origin] = address
        return address, target

    def request_head(self, address: Address, target: str, extra: Mapping[str, str]) -> bytes:
        """`request_head` with REQUEST_HEADERS and `extra`; without extra headers (the usual
        request), from the lines kept for the address: one concatenation."""
        if extra:
            return request_head(address, target, {**REQUEST_HEADERS, **extra})
        if (tail := self._heads.get(address)) is None:
            tail = self._heads[address] = request_head(address, "", REQUEST_HEADERS)[4:]
        return b"GET " + target.encode("latin-1") + tail

    def slot(self, address: Address) -> AbstractAsyncContextManager[object]:
        if self.unbounded:
            return _NO_SLOT
        if (slot := self.slots.get(address)) is None:
            slot = self.slots[address] = asyncio.Semaphore(self.per_host)
        return slot

    async def connection(self, address: Address) -> Connection:
        idle = self.idle.get(address)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                return connection
        return await self.connect(address)

    async def connect(self, address: Address) -> Connection:
        scheme, host, port = address
        loop = asyncio.get_running_loop()
        tls = self._context() if scheme == "https" else None
        async with asyncio.timeout(self.timeout):
            _, connection = await loop.create_connection(
                lambda: Connection(loop, self.timeout, self.buffer, self.outbox),
                host,
                port,
                ssl=tls,
                server_hostname=host if tls else None,
            )
        return connection

    def release(self, address: Address, connection: Connection) -> None:
        if connection.closed:
            connection.close()
        else:
            connection.reused = True
            self.idle.setdefault(address, []).append(connection)

    def close(self) -> None:
        for connections in self.idle.values():
            for connection in connections:
                connection.close()
        self.idle.clear()

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:  # made at the first https URL: a run of http URLs never pays
            self._tls = ssl.create_default_context()
        return self._tls
