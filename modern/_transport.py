"""What `modern.protocol`'s echo and HTTP protocols share: the transport, flow control in
both directions, and a clean stop.

Backpressure: when the transport pauses writing (its buffer is over the high-water mark
because the peer does not read), the protocol pauses reading, so a client that sends and
never reads fills its own socket buffers, not our memory; reading resumes with writing.
A stop (`modern._runtime.Connections`) closes the transport after flushing it, or, past the
grace time, aborts it.
"""

from __future__ import annotations

import asyncio

from modern._runtime import Connections


class TransportConnection(asyncio.Protocol):
    """What the echo and HTTP protocols share: the transport, flow control and a clean stop."""

    __slots__ = ("_open", "_reading_paused", "_transport", "_writing_paused")

    def __init__(self, connections: Connections) -> None:
        self._open = connections
        self._transport: asyncio.Transport | None = None
        self._writing_paused = False
        self._reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._open.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._open.discard(self)

    def pause_writing(self) -> None:
        # The peer is not reading what we send: stop reading what it sends.
        self._writing_paused = True
        self._pause_reading()

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
