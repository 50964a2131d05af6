"""What `modern.protocol`'s echo and HTTP protocols share: the transport, flow control in
both directions, and a clean stop.

Backpressure: when the transport pauses writing (its buffer is over the high-water mark
because the peer does not read), the protocol pauses reading, so a client that sends and
never reads fills its own socket buffers, not our memory; reading resumes with writing.
A stop (`modern._runtime.Connections`) closes the transport after flushing it, or, past the
grace time, aborts it.

Deadlines: one `call_at` timer per connection, at the deadline its protocol names
(`deadline()`). Bytes arriving only move a deadline later, so the timer is not moved on the hot
path: when it fires it looks again (deadlines are on `time.monotonic()`, the clock of both
loops), and either sleeps on to the new deadline or calls
`timed_out()`. While writing is paused, the deadline is the send deadline.
"""

from __future__ import annotations

import asyncio
import time

from modern._runtime import Connections
from modern._sendfile import FileSend
from rosetta.protocol.deadlines import ReadDeadline
from rosetta.protocol.files import FileSlice
from rosetta.protocol.static import StaticSite


class TransportConnection(asyncio.Protocol):
    """What the echo and HTTP protocols share: the transport, flow control and a clean stop."""

    __slots__ = (
        "_limits",
        "_open",
        "_reading_paused",
        "_stalled_since",
        "_timer",
        "_timer_at",
        "_transport",
        "_writing_paused",
    )

    def __init__(self, connections: Connections) -> None:
        self._open = connections
        self._limits = connections.limits
        self._transport: asyncio.Transport | None = None
        self._writing_paused = False
        self._reading_paused = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._stalled_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._open.add(self)
        self.started(time.monotonic())
        self._rearm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._open.discard(self)

    # -- deadlines (the subclass says which) ------------------------------------------------

    def started(self, now: float) -> None:
        """The connection was accepted at `now`: start its deadlines."""

    def deadline(self) -> float | None:
        """When this connection gives up waiting (loop time); None for never."""
        return self.send_deadline() if self._writing_paused else None

    def send_deadline(self) -> float | None:
        return self._limits.after(self._stalled_since, self._limits.send)

    def timed_out(self) -> None:
        self.abort()

    def _rearm(self) -> None:
        """Make the timer fire no later than `deadline()` (call it when that moved earlier)."""
        until = self.deadline()
        if until is None or (self._timer is not None and self._timer_at <= until):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = until
        delay = max(0.0, until - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        until = self.deadline()
        if until is None:
            return
        if until > time.monotonic():
            self._rearm()
        else:
            self.timed_out()

    # -- flow control --------------------------------------------------------------------

    def pause_writing(self) -> None:
        # The peer is not reading what we send: stop reading what it sends.
        self._writing_paused = True
        self._stalled_since = time.monotonic()
        self._pause_reading()
        self._rearm()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._resume_reading()

    @property
    def writing_paused(self) -> bool:
        return self._writing_paused

    def _pause_reading(self) -> None:
        transport = self._transport
        if not self._reading_paused and transport is not None and not transport.is_closing():
            self._reading_paused = True
            transport.pause_reading()

    def _resume_reading(self) -> None:
        transport = self._transport
        if self._reading_paused and transport is not None and not transport.is_closing():
            self._reading_paused = False
            transport.resume_reading()

    def stop(self) -> None:
        """The server stops: close (after flushing) unless a response is under way."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class FileServingConnection(TransportConnection):
    """What `modern.protocol`'s HTTP protocol builds on: its file bodies (`modern._sendfile`),
    its deadlines (a 408 for a head not complete in time, a silent close when idle on
    keep-alive, an abort when a send stalls) and its stop (after the file being sent)."""

    __slots__ = (
        "_keep_alive",
        "_native_sendfile",
        "_peer",
        "_progress",
        "_read",
        "_sending",
        "_site",
        "_stopping",
    )

    def __init__(self, connections: Connections, site: StaticSite, native_sendfile: bool) -> None:
        super().__init__(connections)
        self._site = site
        self._native_sendfile = native_sendfile
        self._sending: FileSend | None = None
        self._keep_alive = True  # after the file being sent
        self._stopping = False
        self._progress: int | None = -1

    def _answer(self) -> None:
        raise NotImplementedError

    # -- deadlines ---------------------------------------------------------------------------

    def started(self, now: float) -> None:
        self._read = ReadDeadline(self._limits, now)
        # The client's address, for a site that logs: asked once, not once per request.
        self._peer = self._transport.get_extra_info("peername")  # type: ignore[union-attr]

    def deadline(self) -> float | None:
        if self._sending is not None:
            progress = self._sending.progress
            if progress is None:
                return None
            if progress != self._progress:
                self._progress, self._stalled_since = progress, time.monotonic()
            return self.send_deadline()
        return self.send_deadline() if self._writing_paused else self._read.until

    def timed_out(self) -> None:
        transport = self._transport
        assert transport is not None
        if self._sending is not None or self._writing_paused:
            transport.abort()  # the client stopped reading
            return
        expired = self._read.expired()
        if expired is not None:
            plan = self._site.respond(expired)
            transport.write(plan.head + plan.body)  # type: ignore[operator]
        transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish_file()
        super().connection_lost(exc)

    def stop(self) -> None:
        self._stopping = True
        if self._sending is None:
            super().stop()

    # -- file bodies ------------------------------------------------------------------------

    def _start_file(self, head: bytes, body: FileSlice, keep_alive: bool) -> None:
        transport = self._transport
        assert transport is not None
        try:
            sending = FileSend(self, transport, body)
        except OSError:
            transport.abort()
            return
        self._sending, self._keep_alive, self._progress = sending, keep_alive, -1
        # Nothing more is read (or parsed) until this body is out.
        self._pause_reading()
        transport.write(head)
        sending.start(self._native_sendfile)
        self._rearm()  # the send deadline now counts from this body's progress

    def file_sent(self) -> None:
        transport = self._transport
        assert transport is not None
        self._finish_file()
        if not self._keep_alive or self._stopping:
            transport.close()
            return
        if not self._writing_paused:
            self._resume_reading()
            self._answer()

    def _finish_file(self) -> None:
        sending, self._sending = self._sending, None
        if sending is not None:
            sending.close()
