"""Course §5a: `select()` over the listener, the clients and standard input.

Schedules: one loop around `select.select(inputs, [], [])`, with `inputs = [server, sys.stdin]`
plus every client. The kernel says which are readable: a readable listener means `accept`, a
readable client means `recv(1024)` and an answer sent at once, and a line typed on standard
input stops the server (`running = False`).
Blocks: in `select()` while nothing is readable, and in `sendall` while one client's answer
does not fit its socket buffer (everyone else waits meanwhile; a client that stops reading for
the send deadline, `--send-timeout`, is dropped). `select`'s timeout is the nearest client
deadline (`classic._timers`): a head, keep-alive or echo idle wait that runs out is closed.
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
No HTTPS: every TLS read or write may want the other direction, which this loop's one
readiness per direction does not follow; `--certfile` is refused with exit 2 (`classic._tls`).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import stat
import sys
import time
from collections.abc import Callable

from classic._descriptors import accept_one, raise_open_file_limit, select_can_watch
from classic._outbox import PEER_GONE
from classic._replies import HTTP_RECV_SIZE, SendingClient, sending_echo, sending_http
from classic._timers import Timers
from rosetta.console import Console, describe_gone, show_data, show_peer
from rosetta.entry_points import Ready
from rosetta.entry_points import entry_points as job_entry_points
from rosetta.net import listening_socket
from rosetta.protocol.deadlines import Limits
from rosetta.protocol.echo import COURSE_RECV_SIZE

# Each job is this one loop with its own clients (and read size), as `rosetta.entry_points`
# makes every model's pair.
serve_echo, serve_http = job_entry_points(
    lambda host, port, ready, console, limits: _serve(
        host, port, ready, console, lambda peer=None: sending_echo(limits), COURSE_RECV_SIZE, limits
    ),
    lambda host, port, site, ready, console, limits: _serve(
        host,
        port,
        ready,
        console,
        lambda peer=None: sending_http(site, limits, peer),
        HTTP_RECV_SIZE,
        limits,
    ),
)


# --8<-- [start:state]
def _serve(
    host: str,
    port: int,
    ready: Ready,
    console: Console,
    new_client: Callable[[object], SendingClient],
    recv_size: int,
    limits: Limits,
) -> None:
    raise_open_file_limit()
    server = listening_socket(host, port, 128)
    answers: dict[socket.socket, SendingClient] = {}
    timers: Timers[socket.socket] = Timers()
    addresses: dict[socket.socket, object] = {}
    try:
        ready(server.getsockname())
        inputs: list[object] = [server]
        if _stdin_can_stop_us():
            inputs.append(sys.stdin)
            console.event("press Enter to stop the server")

        def drop(sock: socket.socket) -> None:
            timers.discard(sock)
            inputs.remove(sock)
            del answers[sock], addresses[sock]
            sock.close()
            # --8<-- [end:state]

        # --8<-- [start:loop]
        running = True
        while running:
            readable, _, _ = select.select(inputs, [], [], timers.timeout(time.monotonic()))
            for ready_one in readable:
                if ready_one is server:
                    client = _accept(server, inputs, answers, addresses, new_client, console)
                    if client is not None:
                        client.settimeout(limits.send_timeout)
                        timers.set(client, answers[client].deadline.until)
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
                        keep_open = answers[client].answer(client, data)
                    except PEER_GONE as error:
                        console.event(describe_gone(addr, error))
                        drop(client)
                        continue
                    if not keep_open:
                        drop(client)
                    else:
                        timers.set(client, answers[client].deadline.until)
                        # --8<-- [end:loop]
            for client in timers.expired(time.monotonic()):
                console.event(f"[{show_peer(addresses[client])}] timed out")
                with contextlib.suppress(*PEER_GONE):  # it was being closed anyway
                    answers[client].timed_out(client)
                drop(client)
    finally:
        for client in answers:
            client.close()
        server.close()


def _accept(
    server: socket.socket,
    inputs: list[object],
    answers: dict[socket.socket, SendingClient],
    addresses: dict[socket.socket, object],
    new_client: Callable[[object], SendingClient],
    console: Console,
) -> socket.socket | None:
    accepted = accept_one(server, console)
    if accepted is None or not select_can_watch(*accepted, console):
        return None
    client, addr = accepted
    console.event(f"now serving [{show_peer(addr)}]")
    inputs.append(client)
    answers[client] = new_client(addr)
    addresses[client] = addr
    return client


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
