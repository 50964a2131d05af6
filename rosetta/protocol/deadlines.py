"""How long a connection may wait for its client, computed once for every model.

Sans-I/O, like the rest of the package: the driver passes the time (any monotonic clock,
`time.monotonic()` or `loop.time()`), the core says until when the connection waits and what
the client gets when that moment passes. Each driver waits in its own idiom (a socket timeout,
a timer heap feeding `select`, `call_later`, `asyncio.timeout_at`, gevent's timeouts).

    deadline = ReadDeadline(limits, now)        # at accept: the first head is due
    deadline.update(now, conn.in_message)       # after each read and its answers
    deadline.answered(now)                      # a buffered answer went out at last
    deadline.until                              # when to give up waiting; None: never
    deadline.expired()                          # a 408 for a head due, None: close silently

What a client sees:
- the first request's head must be complete `header` seconds after accept (a connection that
  never sends a byte is cut too), a later one's `header` seconds after its first byte, however
  slowly the bytes come: a 408 and a close;
- a kept-alive connection with nothing sent for `keepalive` seconds is closed silently (an
  unasked-for 408 there could be taken for the answer to a request crossing it);
- an answer that makes no progress for `send` seconds (the client does not read) is cut;
- an echo connection with no byte either way for `idle` seconds is closed;
- at shutdown, answers under way get `grace` seconds.
A value of 0 turns that deadline off.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from rosetta.protocol.http import ProtocolError

REQUEST_TIMEOUT = ProtocolError(HTTPStatus.REQUEST_TIMEOUT, "request head not received in time")


@dataclass(frozen=True, slots=True)
class Limits:
    """The deadlines of one server, in seconds; 0 means none."""

    header: float = 10.0
    keepalive: float = 5.0
    send: float = 30.0
    idle: float = 300.0
    grace: float = 2.0

    def after(self, now: float, seconds: float) -> float | None:
        return now + seconds if seconds > 0 else None

    @property
    def send_timeout(self) -> float | None:
        """The send deadline as a per-operation timeout (socket.settimeout's None: wait)."""
        return self.send if self.send > 0 else None


DEFAULT_LIMITS = Limits()
NO_LIMITS = Limits(header=0, keepalive=0, send=0, idle=0)


class ReadDeadline:
    """Until when one HTTP connection waits for its client's next bytes, and what it says then."""

    __slots__ = ("_head_since", "_header", "_keepalive", "until")

    def __init__(self, limits: Limits, now: float) -> None:
        # The two waits in seconds, None for off: `update` runs after every read.
        self._header = limits.header if limits.header > 0 else None
        self._keepalive = limits.keepalive if limits.keepalive > 0 else None
        # When the head being waited for started: accept for the first one, its first byte for
        # later ones; None between requests (kept alive, nothing received yet).
        self._head_since: float | None = now
        self.until = None if self._header is None else now + self._header

    def update(self, now: float, in_message: bool) -> None:
        """After bytes were read and answered: `in_message` is True while the bytes of an
        unfinished request are held. More bytes of the same head never move its deadline;
        once nothing is held, the keep-alive wait starts again from `now`."""
        if in_message:
            if self._head_since is None:
                self._head_since = now
                self.until = None if self._header is None else now + self._header
        else:
            self._head_since = None
            self.until = None if self._keepalive is None else now + self._keepalive

    def answered(self, now: float) -> None:
        """The answers are out and nothing of a next request is held: the idle wait starts."""
        self._head_since = None
        self.until = None if self._keepalive is None else now + self._keepalive

    def expired(self) -> ProtocolError | None:
        """What the client is answered once `until` has passed: a 408 while a head is due,
        nothing (a silent close) on an idle kept-alive connection."""
        return REQUEST_TIMEOUT if self._head_since is not None else None


class IdleDeadline:
    """Until when an echo connection stays open without a byte either way."""

    __slots__ = ("_seconds", "until")

    def __init__(self, limits: Limits, now: float) -> None:
        self._seconds = limits.idle if limits.idle > 0 else None  # `update` runs per message
        self.until = None if self._seconds is None else now + self._seconds

    def update(self, now: float) -> None:
        if self._seconds is not None:
            self.until = now + self._seconds


def remaining(until: float | None, now: float) -> float | None:
    """Seconds left until `until` (never below 0), None for no deadline."""
    if until is None:
        return None
    return max(0.0, until - now)
