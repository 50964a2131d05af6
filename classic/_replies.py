"""What a readiness-family model (§4 non-blocking, §5b select with a write list, §6 epoll) does
with the bytes a client sent: the job's answer, written into that client's `Outbox`.

The models differ in how they learn that a socket is ready; what a job answers is this,
written once. `entry_points(serve)` gives such a model its `serve_echo` and `serve_http`: its
own loop, `serve`, run with the job's replies.

Each client's replies also know its deadline (`deadline(outbox)`): while bytes wait in the
outbox, the send deadline (no progress for `Limits.send`); otherwise the read deadline of
`rosetta.protocol.deadlines`. A model keeps them in a `classic._timers.Timers`, and when one
passes calls `expire(outbox)`: a 408 goes into the outbox (then the connection closes), or
the connection is to be dropped at once (True).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from classic._conversation import send_plan
from classic._outbox import Outbox
from rosetta.entry_points import ServeEcho, ServeHttp
from rosetta.entry_points import entry_points as job_entry_points
from rosetta.protocol.deadlines import IdleDeadline, Limits, ReadDeadline
from rosetta.protocol.echo import COURSE_RECV_SIZE, EchoSession
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import StaticSite

HTTP_RECV_SIZE = 64 * 1024


class Replies(Protocol):
    """One client's side of a job: what it received, answered into its outbox."""

    recv_size: int

    def receive(self, data: bytes, outbox: Outbox) -> None: ...

    def deadline(self, outbox: Outbox) -> float | None: ...

    def expire(self, outbox: Outbox) -> bool: ...


def send_deadline(limits: Limits, outbox: Outbox) -> float | None:
    return limits.after(outbox.stalled_since, limits.send)


class EchoReplies:
    recv_size = COURSE_RECV_SIZE

    def __init__(self, limits: Limits) -> None:
        self._session = EchoSession()
        self._limits = limits
        self._idle = IdleDeadline(limits, time.monotonic())

    def receive(self, data: bytes, outbox: Outbox) -> None:
        outbox.put(self._session.receive_data(data))
        self._idle.update(time.monotonic())

    def deadline(self, outbox: Outbox) -> float | None:
        if not outbox.empty:
            return send_deadline(self._limits, outbox)
        drained = outbox.take_drained()
        if drained is not None:
            self._idle.update(drained)
        return self._idle.until

    def expire(self, outbox: Outbox) -> bool:
        return True  # idle, or not reading its echo: closed silently either way


class HttpReplies:
    # The course read a request with one recv(1024) and split longer ones; any size is
    # correct here (the parser reassembles), a larger one reads a request in one call.
    recv_size = HTTP_RECV_SIZE

    def __init__(self, site: StaticSite, limits: Limits, peer: object = None) -> None:
        self._site, self._peer = site, peer
        self._conn = HTTPConnection()
        self._limits = limits
        self._read = ReadDeadline(limits, time.monotonic())

    def receive(self, data: bytes, outbox: Outbox) -> None:
        self._conn.receive_data(data)
        for event in self._conn.events():
            outbox.put_plan(self._site.respond(event, self._peer))
        self._read.update(time.monotonic(), self._conn.in_message)

    def deadline(self, outbox: Outbox) -> float | None:
        if not outbox.empty:
            return send_deadline(self._limits, outbox)
        drained = outbox.take_drained()
        if drained is not None and not self._conn.in_message:
            self._read.answered(drained)
        return self._read.until

    def expire(self, outbox: Outbox) -> bool:
        if not outbox.empty or outbox.closing:
            return True  # the client stopped reading what we send
        expired = self._read.expired()
        if expired is None:
            return True  # idle on keep-alive: a silent close
        outbox.put_plan(self._site.respond(expired, self._peer))
        outbox.closing = True
        return False


# §5a answers at once with blocking sends (its sockets keep a send timeout), not an outbox.
Answer = Callable[[socket.socket, bytes], bool]  # False: close the connection now


@dataclass(slots=True)
class SendingClient:
    answer: Answer
    deadline: ReadDeadline | IdleDeadline
    # What the client is told when its deadline passes, just before it is closed.
    timed_out: Callable[[socket.socket], None]


def sending_echo(limits: Limits) -> SendingClient:
    session = EchoSession()
    idle = IdleDeadline(limits, time.monotonic())

    def answer(sock: socket.socket, data: bytes) -> bool:
        sock.sendall(session.receive_data(data))
        idle.update(time.monotonic())
        return True

    return SendingClient(answer, idle, lambda sock: None)


def sending_http(site: StaticSite, limits: Limits, peer: object = None) -> SendingClient:
    conn = HTTPConnection()
    deadline = ReadDeadline(limits, time.monotonic())

    def answer(sock: socket.socket, data: bytes) -> bool:
        conn.receive_data(data)
        for event in conn.events():
            plan = site.respond(event, peer)
            send_plan(sock, plan)
            if not plan.keep_alive:
                return False
        deadline.update(time.monotonic(), conn.in_message)
        return True

    def timed_out(sock: socket.socket) -> None:
        expired = deadline.expired()
        if expired is not None:
            send_plan(sock, site.respond(expired, peer))

    return SendingClient(answer, deadline, timed_out)


RepliesFactory = Callable[[object], Replies]  # given the peer's address
# A model's loop: serve(host, port, ready, console, new_replies, **model_options).
Serve = Callable[..., None]


def entry_points(serve: Serve) -> tuple[ServeEcho, ServeHttp]:
    """`serve_echo` and `serve_http` for a model whose loop is `serve`."""
    return job_entry_points(
        lambda host, port, ready, console, limits, **options: serve(
            host, port, ready, console, lambda peer=None: EchoReplies(limits), **options
        ),
        lambda host, port, site, ready, console, limits, **options: serve(
            host, port, ready, console, lambda peer=None: HttpReplies(site, limits, peer), **options
        ),
    )
