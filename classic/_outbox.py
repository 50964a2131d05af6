"""A client's outgoing buffer, for the readiness-family models (§4 non-blocking, §5b select
with a write list, §6 epoll): what the socket did not take yet, in order.

A blocking server can call `sendall` and forget; a non-blocking one must keep whatever the
socket did not take and try again when the socket is writable. The course's listings called
`send` once and lost the rest (partial sends); `Outbox` is the fix, written once:

    outbox.put(data)            # echo bytes, or
    outbox.put_plan(plan)       # an HTTP response plan: head, then body bytes or a FileSlice
    outbox.flush(sock)          # send what the socket takes now (returns the bytes sent)
    outbox.empty                # nothing waits: stop watching for writability
    outbox.finished             # the connection is done: everything sent, close it
    outbox.stalled_since        # when the bytes waiting now last moved (the send deadline)
    outbox.drained_at           # when it last became empty, None once taken (take_drained)

A `FileSlice` body is read lazily, one chunk at a time, only when the bytes before it have
gone, so a 3 MB file never sits in memory whole. A response that ends the connection
(`Connection: close`, an error) or a client that closed its side marks the outbox closing:
the model stops reading and closes once the last byte is out.

What goes into an outbox is the job's business (`classic._replies`); when to flush it is the
model's.
"""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Iterator

from rosetta.protocol.files import FileChanged, FileSlice, iter_file_slice
from rosetta.protocol.response import ResponsePlan

# While more than this waits to be sent, a model stops reading from that client: a client that
# sends without reading (or pipelines requests) cannot make the server buffer without bound.
HIGH_WATER = 1024 * 1024
FILE_CHUNK = 256 * 1024
# Errors that mean "this client is gone": they end that client only, with one console line.
PEER_GONE = (
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
    TimeoutError,
    FileChanged,
)


class Outbox:
    """Bytes (and lazily read file slices) waiting for one non-blocking socket, in order."""

    __slots__ = ("_buffered", "_file_bytes", "_items", "closing", "drained_at", "stalled_since")

    def __init__(self) -> None:
        # Each item is bytes still to send, or an iterator of file chunks not read yet.
        self._items: deque[memoryview | Iterator[bytes]] = deque()
        self._buffered = 0
        self._file_bytes = 0
        self.closing = False
        self.stalled_since = 0.0
        self.drained_at: float | None = None

    def _waiting_starts(self) -> None:
        if not self._items:
            self.stalled_since = time.monotonic()

    def take_drained(self) -> float | None:
        """When the outbox last became empty, once: the answers were out then."""
        drained, self.drained_at = self.drained_at, None
        return drained

    def put(self, data: bytes) -> None:
        if data:
            self._waiting_starts()
            self._items.append(memoryview(data))
            self._buffered += len(data)

    def put_plan(self, plan: ResponsePlan) -> None:
        body = plan.body
        if isinstance(body, FileSlice):
            self.put(plan.head)
            if body.length:
                self._waiting_starts()
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
        if sent_total:
            now = time.monotonic()
            self.stalled_since = now
            if not items:
                self.drained_at = now
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
