"""What a readiness-family model (§4 non-blocking, §5b select with a write list, §6 epoll) does
with the bytes a client sent: the job's answer, written into that client's `Outbox`.

The models differ in how they learn that a socket is ready; what a job answers is this,
written once. `entry_points(serve)` gives such a model its `serve_echo` and `serve_http`: its
own loop, `serve`, run with the job's replies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from classic._outbox import Outbox
from rosetta.entry_points import ServeEcho, ServeHttp
from rosetta.entry_points import entry_points as job_entry_points
from rosetta.protocol.echo import COURSE_RECV_SIZE, EchoSession
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import StaticSite

HTTP_RECV_SIZE = 64 * 1024


class Replies(Protocol):
    """One client's side of a job: what it received, answered into its outbox."""

    recv_size: int

    def receive(self, data: bytes, outbox: Outbox) -> None: ...


class EchoReplies:
    recv_size = COURSE_RECV_SIZE

    def __init__(self, peer: object = None) -> None:
        self._session = EchoSession()

    def receive(self, data: bytes, outbox: Outbox) -> None:
        outbox.put(self._session.receive_data(data))


class HttpReplies:
    # The course read a request with one recv(1024) and split longer ones; any size is
    # correct here (the parser reassembles), a larger one reads a request in one call.
    recv_size = HTTP_RECV_SIZE

    def __init__(self, site: StaticSite, peer: object = None) -> None:
        self._site, self._peer = site, peer
        self._conn = HTTPConnection()

    def receive(self, data: bytes, outbox: Outbox) -> None:
        self._conn.receive_data(data)
        for event in self._conn.events():
            outbox.put_plan(self._site.respond(event, self._peer))


RepliesFactory = Callable[[object], Replies]  # given the peer's address
# A model's loop: serve(host, port, ready, console, new_replies, **model_options).
Serve = Callable[..., None]


def entry_points(serve: Serve) -> tuple[ServeEcho, ServeHttp]:
    """`serve_echo` and `serve_http` for a model whose loop is `serve`."""
    return job_entry_points(
        lambda host, port, ready, console, **options: serve(
            host, port, ready, console, EchoReplies, **options
        ),
        lambda host, port, site, ready, console, **options: serve(
            host, port, ready, console, lambda peer=None: HttpReplies(site, peer), **options
        ),
    )
