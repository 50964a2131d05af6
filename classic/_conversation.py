"""One client's conversation over a blocking socket: the echo and HTTP loops that the course's
one-client-per-flow-of-control models share (§1 blocking, §2 processes, §3 threads, §10 gevent).

Those models differ only in *how* a connection gets its own flow of control; what happens on
the connection is this, written once. Under gevent's monkey patching the same code runs on
cooperative sockets unchanged, which is the point the course makes about gevent.

`entry_points(serve)` gives such a model its `serve_echo` and `serve_http`: its own accept
loop, `serve`, handing each connection to the job's conversation (over TLS with `tls=`, an
`ssl.SSLContext`: `classic._tls`, the handshake in the connection's own flow of control).

Deadlines (`rosetta.protocol.deadlines`) are socket timeouts here: before each `recv` the
socket's timeout is what is left until the connection's deadline, so a client sending a byte a
second is cut when its head is due, not a second after its last byte; before each send it is
the send deadline. Under gevent the same `settimeout` is a gevent timeout on the hub.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from classic._tls import secured
from rosetta.console import Console, describe_gone, show_data, show_peer
from rosetta.entry_points import Ready, ServeEcho, ServeHttp
from rosetta.entry_points import entry_points as job_entry_points
from rosetta.protocol.deadlines import IdleDeadline, Limits, ReadDeadline
from rosetta.protocol.echo import COURSE_RECV_SIZE, EchoSession
from rosetta.protocol.files import FileChanged, FileSlice
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.response import ResponsePlan
from rosetta.protocol.static import StaticSite

HTTP_RECV_SIZE = 64 * 1024
# What a model hands each accepted connection to: its own process, thread or greenlet runs it.
Conversation = Callable[[socket.socket, object], None]
# Errors that mean "the peer went away": they end this conversation quietly, nothing more.
PEER_GONE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, TimeoutError)
# A model's accept loop: serve(host, port, ready, console, converse, grace), where `grace`
# is how long answers under way may go on once the server stops.
Serve = Callable[[str, int, Ready, Console, Conversation, float], None]


class ReadTimedOut(Exception):
    """The connection's deadline passed while waiting for its client's bytes."""


def entry_points(serve: Serve) -> tuple[ServeEcho, ServeHttp]:
    """`serve_echo` and `serve_http` for a model whose accept loop is `serve`."""
    return job_entry_points(
        lambda host, port, ready, console, limits: serve(
            host,
            port,
            ready,
            console,
            lambda sock, addr: echo_conversation(sock, addr, console, limits),
            limits.grace,
        ),
        lambda host, port, site, ready, console, limits, tls=None: serve(
            host,
            port,
            ready,
            console,
            secured(
                lambda sock, addr: http_conversation(sock, addr, site, console, limits),
                tls,
                limits,
                console,
            ),
            limits.grace,
        ),
    )


def recv_by(sock: socket.socket, until: float | None, size: int) -> bytes:
    """`recv`, given up (`ReadTimedOut`) once the monotonic clock reaches `until`."""
    if until is None:
        sock.settimeout(None)
    else:
        left = until - time.monotonic()
        if left <= 0:
            raise ReadTimedOut
        sock.settimeout(left)
    try:
        return sock.recv(size)
    except TimeoutError:
        raise ReadTimedOut from None


# --8<-- [start:echo]
def echo_conversation(sock: socket.socket, addr: object, console: Console, limits: Limits) -> None:
    """recv(1024) and echo everything back until the client closes (course §1 inner loop)."""
    session = EchoSession()
    idle = IdleDeadline(limits, time.monotonic())
    peer = show_peer(addr)
    try:
        while True:
            data = recv_by(sock, idle.until, COURSE_RECV_SIZE)
            reply = session.receive_data(data)
            if session.peer_closed:
                console.event(f"[{peer}] client closed")
                break
            if console.verbose:
                console.data(f"recv[{peer}]:{show_data(data)}")
            sock.settimeout(limits.send_timeout)
            sock.sendall(reply)
            idle.update(time.monotonic())
    except ReadTimedOut:
        console.event(f"[{peer}] idle for {limits.idle:g} s: closed")
    except PEER_GONE as error:
        console.event(describe_gone(addr, error))
    finally:
        sock.close()
        # --8<-- [end:echo]


# --8<-- [start:http]
def http_conversation(
    sock: socket.socket, addr: object, site: StaticSite, console: Console, limits: Limits
) -> None:
    """Serve requests on one connection until it is closed or asks to close (keep-alive)."""
    conn = HTTPConnection()
    deadline = ReadDeadline(limits, time.monotonic())
    peer = show_peer(addr)
    try:
        while True:
            try:
                data = recv_by(sock, deadline.until, HTTP_RECV_SIZE)
            except ReadTimedOut:
                expired = deadline.expired()
                console.event(f"[{peer}] timed out waiting for a request: closed")
                if expired is not None:
                    sock.settimeout(limits.send_timeout)
                    send_plan(sock, site.respond(expired))
                return
            conn.receive_data(data)
            sock.settimeout(limits.send_timeout)
            for request in conn.events():
                plan = site.respond(request, addr)
                if console.verbose:
                    console.data(f"recv[{peer}]:{request!r} -> {plan.status}")
                send_plan(sock, plan)
                if not plan.keep_alive:
                    return
            if conn.peer_closed:
                console.event(f"[{peer}] client closed")
                return
            deadline.update(time.monotonic(), conn.in_message)
    except (*PEER_GONE, FileChanged) as error:
        console.event(describe_gone(addr, error))
    finally:
        sock.close()
        # --8<-- [end:http]


def send_plan(sock: socket.socket, plan: ResponsePlan) -> None:
    """Head and body with blocking calls: one sendall for small bodies, sendfile for files."""
    body = plan.body
    if isinstance(body, FileSlice):
        try:
            # Opened before the head goes out: a file removed since it was chosen ends the
            # connection with nothing sent, not a head without its body.
            file = open(body.path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as error:
            raise FileChanged(f"{body.path} went away before being sent: {error}") from None
        with file:
            sock.sendall(plan.head)
            sent = sock.sendfile(file, body.offset, body.length)
        if sent != body.length:
            raise FileChanged(f"{body.path} shrank while being sent")
    else:
        sock.sendall(plan.head + body)
