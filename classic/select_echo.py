"""Course §5a: `select()` over the listener, the clients and standard input.

Schedules: one loop around `select.select(inputs, [], [])`, with `inputs = [server, sys.stdin]`
plus every client. The kernel says which are readable: a readable listener means `accept`, a
readable client means `recv(1024)` and an answer sent at once, and a line typed on standard
input stops the server (`running = False`).
Blocks: in `select()` while nothing is readable, and in `sendall` while one client's answer
does not fit its socket buffer (everyone else waits meanwhile; a client that stops reading for
`SEND_TIMEOUT` seconds is dropped).
Costs: each call copies and scans the whole set of descriptors (O(clients) per call, in the
kernel and in Python), and `select()` cannot watch descriptor numbers of `FD_SETSIZE` (1024)
or more: such a client is closed at once with a one-line warning, and the others are served.
Counterpart: `modern.protocol` (an asyncio Protocol: the loop does the select, `data_received`
does the rest).

Standard input is watched only when it is a terminal in the foreground or a pipe: a closed
stdin, /dev/null or a file never stops the server, and a background job never reads the
terminal.

Course bug: `send` could write part of the answer and drop the rest. Fixed: `sendall` (and
`socket.sendfile` for large files).
Course bug: the clients were left open when the server stopped. Fixed: all are closed.
Course bug: a client resetting its connection raised `ConnectionResetError` out of the loop and
killed the server. Fixed: it ends that client only, with one console line.
"""

from __future__ import annotations

import os
import select
import socket
import stat
import sys
from collections.abc import Callable

from classic._conversation import send_plan
from classic._descriptors import accept_one, raise_open_file_limit, select_can_watch
from classic._outbox import PEER_GONE
from classic._replies import HTTP_RECV_SIZE
from rosetta.console import Console, describe_gone, show_data, show_peer
from rosetta.entry_points import Ready
from rosetta.net import listening_socket
from rosetta.protocol.echo import COURSE_RECV_SIZE, EchoSession
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import site_for

# Answer `data` on `sock`; False when the connection must now be closed.
Answer = Callable[[socket.socket, bytes], bool]

SEND_TIMEOUT = 30.0


def serve_echo(host: str, port: int, *, ready: Ready, console: Console) -> None:
    def new_client(peer: object = None) -> Answer:
        session = EchoSession()

        def answer(sock: socket.socket, data: bytes) -> bool:
            sock.sendall(session.receive_data(data))
            return True

        return answer

    _serve(host, port, ready, console, new_client, COURSE_RECV_SIZE)


def serve_http(
    host: str, port: int, root: str | os.PathLike[str], *, ready: Ready, console: Console
) -> None:
    site = site_for(root)

    def new_client(peer: object = None) -> Answer:
        conn = HTTPConnection()

        def answer(sock: socket.socket, data: bytes) -> bool:
            conn.receive_data(data)
            for event in conn.events():
                plan = site.respond(event, peer)
                send_plan(sock, plan)
                if not plan.keep_alive:
                    return False
            return True

        return answer

    _serve(host, port, ready, console, new_client, HTTP_RECV_SIZE)


# --8<-- [start:state]
def _serve(
    host: str,
    port: int,
    ready: Ready,
    console: Console,
    new_client: Callable[[], Answer],
    recv_size: int,
) -> None:
    raise_open_file_limit()
    server = listening_socket(host, port, 128)
    answers: dict[socket.socket, Answer] = {}
    addresses: dict[socket.socket, object] = {}
    try:
        ready(server.getsockname())
        inputs: list[object] = [server]
        if _stdin_can_stop_us():
            inputs.append(sys.stdin)
            console.event("press Enter to stop the server")

        def drop(sock: socket.socket) -> None:
            inputs.remove(sock)
            del answers[sock], addresses[sock]
            sock.close()
            # --8<-- [end:state]

        # --8<-- [start:loop]
        running = True
        while running:
            readable, _, _ = select.select(inputs, [], [])
            for ready_one in readable:
                if ready_one is server:
                    _accept(server, inputs, answers, addresses, new_client, console)
                elif ready_one is sys.stdin:
                    chunk = os.read(sys.stdin.fileno(), 1024)
                    if not chunk:
                        inputs.remove(sys.stdin)  # EOF: nobody can type the line any more
                    if b"\n" in chunk:
                        console.event("a line on stdin: stopping")
                        running = False
                else:
                    assert isinstance(ready_one, socket.socket)
                    client, addr = ready_one, addresses[ready_one]
                    try:
                        data = client.recv(recv_size)
                        if not data:
                            console.event(f"[{show_peer(addr)}] client closed")
                            drop(client)
                            continue
                        if console.verbose:
                            console.data(f"recv[{show_peer(addr)}]:{show_data(data)}")
                        keep_open = answers[client](client, data)
                    except PEER_GONE as error:
                        console.event(describe_gone(addr, error))
                        drop(client)
                        continue
                    if not keep_open:
                        drop(client)
    finally:
        for client in answers:
            client.close()
        server.close()
        # --8<-- [end:loop]


def _accept(
    server: socket.socket,
    inputs: list[object],
    answers: dict[socket.socket, Answer],
    addresses: dict[socket.socket, object],
    new_client: Callable[[], Answer],
    console: Console,
) -> None:
    accepted = accept_one(server, console)
    if accepted is None or not select_can_watch(*accepted, console):
        return
    client, addr = accepted
    # A client that stops reading may hold sendall up for this long, then it is dropped.
    client.settimeout(SEND_TIMEOUT)
    console.event(f"now serving [{show_peer(addr)}]")
    inputs.append(client)
    answers[client] = new_client(addr)
    addresses[client] = addr


def _stdin_can_stop_us() -> bool:
    """Standard input is worth watching: a pipe, or the terminal while we are in its
    foreground (a background job reading it would be stopped by SIGTTIN)."""
    try:
        descriptor = sys.stdin.fileno()
        mode = os.fstat(descriptor).st_mode
    except (AttributeError, ValueError, OSError):
        return False  # no stdin at all, or closed
    if stat.S_ISFIFO(mode):
        return True
    if os.isatty(descriptor):
        try:
            return os.tcgetpgrp(descriptor) == os.getpgrp()
        except OSError:
            return False
    return False


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("classic.select_echo"))
