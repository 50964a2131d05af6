"""What the readiness-family models (§4 non-blocking, §5 select, §6 epoll) share: a client's
outgoing buffer, and the job's replies written into it.

A blocking server can call `sendall` and forget; a non-blocking one must keep whatever the
socket did not take and try again when the socket is writable. The course's listings called
`send` once and lost the rest (partial sends); `Outbox` is the fix, written once:

    outbox.put(data)            # echo bytes, or
    outbox.put_plan(plan)       # an HTTP response plan: head, then body bytes or a FileSlice
    outbox.flush(sock)          # send what the socket takes now (returns the bytes sent)
    outbox.empty                # nothing waits: stop watching for writability
    outbox.finished             # the connection is done: everything sent, close it

A `FileSlice` body is read lazily, one chunk at a time, only when the bytes before it have
gone, so a 3 MB file never sits in memory whole. A response that ends the connection
(`Connection: close`, an error) or a client that closed its side marks the outbox closing:
the model stops reading and closes once the last byte is out.

Also here, because all four need them: the soft open-files limit raised to the hard one, and
what to do when `accept` fails for want of descriptors.
"""

from __future__ import annotations

import contextlib
import errno
import resource
import socket
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Protocol

from rosetta.console import Console, show_peer
from rosetta.protocol.echo import COURSE_RECV_SIZE, EchoSession
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import (
    FileChanged,
    FileSlice,
    ResponsePlan,
    StaticSite,
    iter_file_slice,
)

# While more than this waits to be sent, a model stops reading from that client: a client that
# sends without reading (or pipelines requests) cannot make the server buffer without bound.
HIGH_WATER = 1024 * 1024
FILE_CHUNK = 256 * 1024
HTTP_RECV_SIZE = 64 * 1024
# Errors that mean "this client is gone": they end that client only, with one console line.
PEER_GONE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, TimeoutError,
             FileChanged)
# accept() failing for want of descriptors: the listener stays readable, so back off briefly
# instead of spinning on it.
OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
OUT_OF_RESOURCES_PAUSE = 0.1


class Outbox:
    """Bytes (and lazily read file slices) waiting for one non-blocking socket, in order."""

    __slots__ = ("_buffered", "_file_bytes", "_items", "closing")

    def __init__(self) -> None:
        # Each item is bytes still to send, or an iterator of file chunks not read yet.
        self._items: deque[memoryview | Iterator[bytes]] = deque()
        self._buffered = 0
        self._file_bytes = 0
        self.closing = False

    def put(self, data: bytes) -> None:
        if data:
            self._items.append(memoryview(data))
            self._buffered += len(data)

    def put_plan(self, plan: ResponsePlan) -> None:
        body = plan.body
        if isinstance(body, FileSlice):
            self.put(plan.head)
            if body.length:
                self._items.append(iter_file_slice(body, FILE_CHUNK))
                self._file_bytes += body.length
        else:
            self.put(plan.head + body)
        if not plan.keep_alive:
            self.closing = True

    @property
    def buffered(self) -> int:
        """Bytes held in memory (file bytes count only once read)."""
        return self._buffered

    @property
    def backlog(self) -> int:
        """Bytes queued, counting file bytes not read yet."""
        return self._buffered + self._file_bytes

    @property
    def empty(self) -> bool:
        return not self._items

    @property
    def finished(self) -> bool:
        return self.closing and not self._items

    @property
    def wants_input(self) -> bool:
        return not self.closing and self.backlog <= HIGH_WATER

    def flush(self, sock: socket.socket) -> int:
        """Send as much as the socket takes without blocking; the number of bytes sent.
        Raises the socket's error if the peer is gone (one of `PEER_GONE`)."""
        sent_total = 0
        items = self._items
        while items:
            head = items[0]
            if not isinstance(head, memoryview):
                try:
                    chunk = next(head, None)
                except FileChanged:
                    raise
                except OSError as error:  # deleted or unreadable since it was planned
                    raise FileChanged(f"file became unreadable: {error}") from error
                if chunk is None:
                    items.popleft()
                    continue
                self._file_bytes -= len(chunk)
                self._buffered += len(chunk)
                items.appendleft(memoryview(chunk))
                continue
            try:
                sent = sock.send(head)
            except (BlockingIOError, InterruptedError):
                break
            sent_total += sent
            self._buffered -= sent
            if sent == len(head):
                items.popleft()
            else:
                items[0] = head[sent:]
                break  # the socket's buffer is full: wait until it is writable again
        return sent_total

    def discard(self) -> None:
        """Drop what is left (the client is gone) and close any file being read."""
        for item in self._items:
            if not isinstance(item, memoryview):
                close = getattr(item, "close", None)
                if close is not None:
                    close()
        self._items.clear()
        self._buffered = self._file_bytes = 0


class Replies(Protocol):
    """One client's side of a job: what it received, answered into its outbox."""

    recv_size: int

    def receive(self, data: bytes, outbox: Outbox) -> None: ...


class EchoReplies:
    recv_size = COURSE_RECV_SIZE

    def __init__(self) -> None:
        self._session = EchoSession()

    def receive(self, data: bytes, outbox: Outbox) -> None:
        outbox.put(self._session.receive_data(data))


class HttpReplies:
    # The course read a request with one recv(1024) and split longer ones; any size is
    # correct here (the parser reassembles), a larger one reads a request in one call.
    recv_size = HTTP_RECV_SIZE

    def __init__(self, site: StaticSite) -> None:
        self._site = site
        self._conn = HTTPConnection()

    def receive(self, data: bytes, outbox: Outbox) -> None:
        self._conn.receive_data(data)
        for event in self._conn.events():
            outbox.put_plan(self._site.respond(event))


RepliesFactory = Callable[[], Replies]


def echo_replies() -> RepliesFactory:
    return EchoReplies


def http_replies(site: StaticSite) -> RepliesFactory:
    return lambda: HttpReplies(site)


def raise_open_file_limit() -> None:
    """Raise the soft limit on open files to the hard one (the default soft 1024 would cap
    the number of clients long before these servers run out of anything else)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 16
    if soft != resource.RLIM_INFINITY and soft < target:
        # If it cannot be raised, accept() reports EMFILE at the old limit: handled below.
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def accept_failed(error: OSError, console: Console) -> bool:
    """True (after a warning and a short pause) if accept() failed for want of descriptors;
    False for errors the caller should treat otherwise."""
    if error.errno not in OUT_OF_RESOURCES:
        return False
    console.warn(f"rosetta: warning: cannot accept a client: {error.strerror}; pausing")
    time.sleep(OUT_OF_RESOURCES_PAUSE)
    return True


def describe_gone(addr: object, error: BaseException) -> str:
    """The console line for a client that vanished (reset, broken pipe, file changed)."""
    return f"[{show_peer(addr)}] client reset the connection ({type(error).__name__})"
