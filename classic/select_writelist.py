"""Course §5b: `select()` with a write list: non-blocking sockets and a queue per client.

Schedules: one loop around `select.select(input_list, output_list, input_list)`. Every socket
is non-blocking. A readable client's data is answered into its queue,
`message_queue[sock]`, and the socket joins `output_list`; a writable socket sends what its
socket buffer takes and leaves `output_list` once its queue is empty. So no client can hold up
another: a slow reader only keeps its own queue waiting.
Blocks: only in `select()`, whose timeout is the nearest client deadline (`classic._timers`):
a client whose head, keep-alive wait or stalled answer runs out of time is answered or closed.
Costs: as §5a, O(clients) per call and no descriptor numbered `FD_SETSIZE` (1024) or more
(such a client is closed at once with a one-line warning); plus the queues' memory, bounded per
client (a client stops being read while more than `classic._outbox.HIGH_WATER` waits for it).
Counterpart: `modern.protocol` (an asyncio Protocol whose transport keeps the write buffer
and calls `pause_writing` / `resume_writing`).

The queue of each socket is a `classic._outbox.Outbox` rather than a `queue.Queue`: there is one
thread, so Queue's locks buy nothing, and a message sent in part must keep its rest at the head.

Course bug: the writable step iterated `output_list` (not the writable list `select` returned)
and removed from it while iterating, so it skipped sockets and tried sockets that were not
writable. Fixed: it iterates the writable list; membership changes go through one function.
Course bug: a clean close (`recv` returning b"") was never handled: the socket stayed readable
and the loop spun. Fixed: the client is closed once its queue is sent.
Course bug: the exceptional list was passed to `select` and then ignored. Fixed: a socket in it
(urgent data, which we never expect) is closed.
No HTTPS: every TLS read or write may want the other direction, which this loop's one
readiness per direction does not follow; `--certfile` is refused with exit 2 (`classic._tls`).
"""

from __future__ import annotations

import select
import socket
import time

from classic._descriptors import accept_one, raise_open_file_limit, select_can_watch
from classic._outbox import PEER_GONE, Outbox
from classic._replies import Replies, RepliesFactory, entry_points
from classic._timers import Timers
from rosetta.console import Console, describe_gone, show_data, show_peer
from rosetta.entry_points import Ready
from rosetta.net import listening_socket


# --8<-- [start:state]
def _serve(
    host: str, port: int, ready: Ready, console: Console, new_replies: RepliesFactory
) -> None:
    raise_open_file_limit()
    server = listening_socket(host, port, 128)
    input_list: list[socket.socket] = [server]
    output_list: list[socket.socket] = []
    message_queue: dict[socket.socket, Outbox] = {}
    replies: dict[socket.socket, Replies] = {}
    addresses: dict[socket.socket, object] = {}
    timers: Timers[socket.socket] = Timers()

    def drop(sock: socket.socket) -> None:
        timers.discard(sock)
        for watched in (input_list, output_list):
            if sock in watched:
                watched.remove(sock)
        queue = message_queue.pop(sock, None)
        if queue is not None:
            queue.discard()
        replies.pop(sock, None)
        addresses.pop(sock, None)
        sock.close()

    def settle(sock: socket.socket) -> None:
        """Watch `sock` for what it now needs: reading while it may, writing while its queue
        holds anything; close it once it is finished."""
        queue = message_queue[sock]
        if queue.finished:
            drop(sock)
            return
        timers.set(sock, replies[sock].deadline(queue))
        _watch(input_list, sock, queue.wants_input)
        _watch(output_list, sock, not queue.empty)
        # --8<-- [end:state]

    # --8<-- [start:read]
    try:
        server.setblocking(False)
        ready(server.getsockname())
        while True:
            readable, writable, exceptional = select.select(
                input_list, output_list, input_list, timers.timeout(time.monotonic())
            )
            for sock in readable:
                if sock is server:
                    client = _accept(server, console)
                    if client is not None:
                        input_list.append(client[0])
                        message_queue[client[0]] = Outbox()
                        replies[client[0]] = new_replies(client[1])
                        addresses[client[0]] = client[1]
                        settle(client[0])
                    continue
                if sock not in message_queue:
                    continue
                try:
                    data = sock.recv(replies[sock].recv_size)
                except BlockingIOError:
                    continue
                except PEER_GONE as error:
                    console.event(describe_gone(addresses[sock], error))
                    drop(sock)
                    continue
                queue = message_queue[sock]
                if data:
                    if console.verbose:
                        console.data(f"recv[{show_peer(addresses[sock])}]:{show_data(data)}")
                    replies[sock].receive(data, queue)
                else:
                    console.event(f"[{show_peer(addresses[sock])}] client closed")
                    queue.closing = True
                settle(sock)
                # --8<-- [end:read]
            # --8<-- [start:write]
            for sock in writable:
                if sock not in message_queue:
                    continue  # dropped while handling the readable list
                try:
                    message_queue[sock].flush(sock)
                except PEER_GONE as error:
                    console.event(describe_gone(addresses[sock], error))
                    drop(sock)
                    continue
                settle(sock)
            for sock in exceptional:
                if sock in message_queue:
                    console.event(f"[{show_peer(addresses[sock])}] exceptional condition: closed")
                    drop(sock)
            for sock in timers.expired(time.monotonic()):
                console.event(f"[{show_peer(addresses[sock])}] timed out")
                if replies[sock].expire(message_queue[sock]):
                    drop(sock)
                else:
                    settle(sock)
    finally:
        for sock in list(message_queue):
            drop(sock)
        server.close()
        # --8<-- [end:write]


def _watch(watched: list[socket.socket], sock: socket.socket, wanted: bool) -> None:
    if wanted and sock not in watched:
        watched.append(sock)
    elif not wanted and sock in watched:
        watched.remove(sock)


def _accept(server: socket.socket, console: Console) -> tuple[socket.socket, object] | None:
    accepted = accept_one(server, console)
    if accepted is None or not select_can_watch(*accepted, console):
        return None
    accepted[0].setblocking(False)
    console.event(f"now serving [{show_peer(accepted[1])}]")
    return accepted


serve_echo, serve_http = entry_points(_serve)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("classic.select_writelist"))
