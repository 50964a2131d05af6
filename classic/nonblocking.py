"""Course §4: one process, non-blocking sockets, every socket asked in turn.

Schedules: a loop of turns. Each turn tries to `accept` one new client on the listener
(`setblocking(False)`, `listen(1000)`), then tries `recv(1024)` on every client of the global
list `g_socketList` of `(sock, addr)`; a socket with nothing to read raises `BlockingIOError`
at once instead of blocking. Clients found closed are collected during the loop and removed
from `g_socketList` after it.
Blocks: never on a socket; a turn that found nothing to do naps briefly (1 ms, doubling up to
20 ms while the server stays idle).
Costs: every turn asks every socket whether or not it is ready, O(clients) system calls per
turn, and an idle server still wakes to ask; the answer to a client waits up to one nap.
Deadlines are checked once a turn (`classic._timers`), so they are kept to within a nap. This
is the cost select/epoll (§5, §6) remove by letting the kernel say which sockets are ready.
Counterpart: `modern.sockets` (the same non-blocking sockets driven by `loop.sock_recv` /
`loop.sock_sendall`, with the event loop waiting on epoll instead of polling).

Course bug: closed clients were appended to a misspelled list, so they never left
`g_socketList` and were polled forever. Fixed: one list, `to_delete`, filled and then removed.
Course bug: the loop never waited, burning a whole core while idle. Fixed: a turn with no work
sleeps briefly (the idle CPU is measured by parity_tests/test_idle_cpu.py).
Course bug: bare `except: pass` hid every error, resets included. Fixed: only
`BlockingIOError` means "nothing now"; a reset ends that client with one console line.
Course bug: one `send` could write part of the data and the rest was lost. Fixed: each client
has an outgoing buffer (`classic._outbox.Outbox`) flushed on every turn.
No HTTPS: every TLS read or write may want the other direction, which this loop's one
readiness per direction does not follow; `--certfile` is refused with exit 2 (`classic._tls`).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from classic._descriptors import accept_one, raise_open_file_limit
from classic._outbox import PEER_GONE, Outbox
from classic._replies import Replies, RepliesFactory, entry_points
from classic._timers import Timers
from rosetta.console import Console, describe_gone, show_data, show_peer
from rosetta.entry_points import Ready
from rosetta.net import listening_socket

IDLE_NAP_MIN = 0.001
IDLE_NAP_MAX = 0.02


# --8<-- [start:accept]
@dataclass(slots=True)
class ClientState:
    replies: Replies
    outbox: Outbox


# The course's global list of connected clients, and (ours) each one's buffers by socket.
g_socketList: list[tuple[socket.socket, object]] = []
g_clientState: dict[socket.socket, ClientState] = {}
g_deadlines: Timers[socket.socket] = Timers()


def _serve(
    host: str, port: int, ready: Ready, console: Console, new_replies: RepliesFactory
) -> None:
    raise_open_file_limit()
    server_socket = listening_socket(host, port, 1000)
    try:
        server_socket.setblocking(False)
        ready(server_socket.getsockname())
        nap = 0.0
        while True:
            if _one_turn(server_socket, console, new_replies):
                nap = 0.0
            else:
                nap = min(max(nap * 2, IDLE_NAP_MIN), IDLE_NAP_MAX)
                time.sleep(nap)
    finally:
        for client_socket, _ in g_socketList:
            state = g_clientState.pop(client_socket, None)
            if state is not None:
                state.outbox.discard()
            client_socket.close()
        g_socketList.clear()
        g_deadlines.__init__()
        server_socket.close()
        # --8<-- [end:accept]


# --8<-- [start:turn]
def _one_turn(server_socket: socket.socket, console: Console, new_replies: RepliesFactory) -> bool:
    """Try accept once, then recv (and flush) every client; True if anything happened."""
    did_work = False
    accepted = accept_one(server_socket, console)
    if accepted is not None:
        client_socket, client_addr = accepted
        client_socket.setblocking(False)
        console.event(f"now serving [{show_peer(client_addr)}]")
        g_socketList.append((client_socket, client_addr))
        g_clientState[client_socket] = ClientState(new_replies(client_addr), Outbox())
        did_work = True

    to_delete: list[tuple[socket.socket, object]] = []
    for client_info in g_socketList:
        client_socket, client_addr = client_info
        state = g_clientState[client_socket]
        try:
            did_work |= _serve_client(client_socket, client_addr, state, console)
        except PEER_GONE as error:
            console.event(describe_gone(client_addr, error))
            to_delete.append(client_info)
            continue
        if state.outbox.finished:
            to_delete.append(client_info)
        else:
            g_deadlines.set(client_socket, state.replies.deadline(state.outbox))

    did_work |= _expire_deadlines(to_delete, console)

    for client_info in to_delete:
        g_deadlines.discard(client_info[0])
        g_socketList.remove(client_info)
        g_clientState.pop(client_info[0]).outbox.discard()
        client_info[0].close()
    return did_work
    # --8<-- [end:turn]


def _expire_deadlines(to_delete: list[tuple[socket.socket, object]], console: Console) -> bool:
    """Each client whose deadline passed is told so (or joins `to_delete`); True if any."""
    expired = g_deadlines.expired(time.monotonic())
    by_socket = dict(g_socketList)
    for client_socket in expired:
        if any(gone is client_socket for gone, _ in to_delete):
            continue
        console.event(f"[{show_peer(by_socket[client_socket])}] timed out")
        state = g_clientState[client_socket]
        if state.replies.expire(state.outbox):
            to_delete.append((client_socket, by_socket[client_socket]))
    return bool(expired)


def _serve_client(
    client_socket: socket.socket, client_addr: object, state: ClientState, console: Console
) -> bool:
    did_work = False
    if state.outbox.wants_input:
        try:
            data = client_socket.recv(state.replies.recv_size)
        except BlockingIOError:
            pass
        else:
            did_work = True
            if data:
                if console.verbose:
                    console.data(f"recv[{show_peer(client_addr)}]:{show_data(data)}")
                state.replies.receive(data, state.outbox)
            else:
                console.event(f"[{show_peer(client_addr)}] client closed")
                state.outbox.closing = True
    if not state.outbox.empty and state.outbox.flush(client_socket):
        did_work = True
    return did_work


serve_echo, serve_http = entry_points(_serve)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("classic.nonblocking"))
