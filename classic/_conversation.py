"""One client's conversation over a blocking socket: the echo and HTTP loops that the course's
one-client-per-flow-of-control models share (§1 blocking, §2 processes, §3 threads, §10 gevent).

Those models differ only in *how* a connection gets its own flow of control; what happens on
the connection is this, written once. Under gevent's monkey patching the same code runs on
cooperative sockets unchanged, which is the point the course makes about gevent.

`entry_points(serve)` gives such a model its `serve_echo` and `serve_http`: its own accept
loop, `serve`, handing each connection to the job's conversation.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from rosetta.console import Console, show_data, show_peer
from rosetta.entry_points import Ready, ServeEcho, ServeHttp
from rosetta.entry_points import entry_points as job_entry_points
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
# A model's accept loop: serve(host, port, ready, console, converse).
Serve = Callable[[str, int, Ready, Console, Conversation], None]


def entry_points(serve: Serve) -> tuple[ServeEcho, ServeHttp]:
    """`serve_echo` and `serve_http` for a model whose accept loop is `serve`."""
    return job_entry_points(
        lambda host, port, ready, console: serve(
            host, port, ready, console, lambda sock, addr: echo_conversation(sock, addr, console)
        ),
        lambda host, port, site, ready, console: serve(
            host,
            port,
            ready,
            console,
            lambda sock, addr: http_conversation(sock, addr, site, console),
        ),
    )


# --8<-- [start:echo]
def echo_conversation(sock: socket.socket, addr: object, console: Console) -> None:
    """recv(1024) and echo everything back until the client closes (course §1 inner loop)."""
    session = EchoSession()
    peer = show_peer(addr)
    try:
        while True:
            data = sock.recv(COURSE_RECV_SIZE)
            reply = session.receive_data(data)
            if session.peer_closed:
                console.event(f"[{peer}] client closed")
                break
            if console.verbose:
                console.data(f"recv[{peer}]:{show_data(data)}")
            sock.sendall(reply)
    except PEER_GONE:
        console.event(f"[{peer}] client reset the connection")
    finally:
        sock.close()
        # --8<-- [end:echo]


# --8<-- [start:http]
def http_conversation(
    sock: socket.socket, addr: object, site: StaticSite, console: Console
) -> None:
    """Serve requests on one connection until it is closed or asks to close (keep-alive)."""
    conn = HTTPConnection()
    peer = show_peer(addr)
    try:
        while True:
            data = sock.recv(HTTP_RECV_SIZE)
            conn.receive_data(data)
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
    except (*PEER_GONE, FileChanged):
        console.event(f"[{peer}] client reset the connection")
    finally:
        sock.close()


def send_plan(sock: socket.socket, plan: ResponsePlan) -> None:
    """Head and body with blocking calls: one sendall for small bodies, sendfile for files."""
    body = plan.body
    if isinstance(body, FileSlice):
        sock.sendall(plan.head)
        with open(body.path, "rb") as file:
            sent = sock.sendfile(file, body.offset, body.length)
        if sent != body.length:
            raise FileChanged(f"{body.path} shrank while being sent")
    else:
        sock.sendall(plan.head + body)
        # --8<-- [end:http]
