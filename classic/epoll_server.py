"""Course §6: `select.epoll()`, edge-triggered like the course (`--trigger level` too).

Schedules: one loop around `epoll.poll()`. The listener and every client are registered once,
by descriptor number, and the kernel returns only the descriptors that became ready, with
their events; `connections` and `addresses` map a descriptor number back to its socket and
peer. Readable listener: accept. Readable client: recv and answer into its outgoing buffer,
sent at once and, for what the socket does not take, when `EPOLLOUT` says it is writable.
Edge-triggered (`EPOLLET`, the default, as in the course) reports a descriptor once per
change, so the server must accept and read until `EAGAIN`; level-triggered reports it for as
long as it is ready, so one accept or one recv per event is enough.
Blocks: only in `epoll.poll()`, for at most the time to the nearest client deadline.
Costs: O(ready descriptors) per wake-up, not O(clients); no `FD_SETSIZE` limit (only the
open-files limit, whose soft value this server raises to the hard one).
Counterpart: `modern.protocol` (asyncio's selector loop is this epoll loop; a Protocol is the
per-descriptor handler).

Course bug: in edge-triggered mode it accepted once and read once per event, so connections
arriving together and data arriving in one burst were stranded until the next event (which
might never come). Fixed: accept and recv loop until `EAGAIN` (`BlockingIOError`).
Course bug: it tested `events == EPOLLIN`, so an event with `EPOLLERR` or `EPOLLHUP` in it (a
reset) was never handled. Fixed: events are tested with `&`.
Course bug: it closed a socket before unregistering it (`EBADF` killed the server) and never
deleted the dict entries. Fixed: unregister, close, delete from `connections`, `addresses`.
Course bug: one `send` could write part of the answer and drop the rest. Fixed: the rest
waits in the client's outbox and goes out on `EPOLLOUT`.
No HTTPS (TLS reads and writes want either direction; `--certfile` exits 2, `classic._tls`).
"""

from __future__ import annotations

import errno
import os
import select
import socket
import time

from classic._descriptors import accept_failed, accept_recovered, raise_open_file_limit
from classic._outbox import PEER_GONE, Outbox
from classic._replies import Replies, RepliesFactory, entry_points
from classic._timers import Timers
from rosetta.console import Console, describe_gone, show_data, show_peer
from rosetta.entry_points import Ready
from rosetta.net import listening_socket

TRIGGERS = ("edge", "level")


def _serve(host: str, port: int, ready: Ready, console: Console, new_replies: RepliesFactory,
           trigger: str = "edge") -> None:  # fmt: skip
    EpollServer(console, new_replies, trigger).serve(host, port, ready)


# --8<-- [start:accept]
class EpollServer:
    def __init__(self, console: Console, new_replies: RepliesFactory, trigger: str) -> None:
        if trigger not in TRIGGERS:
            raise ValueError(f"trigger must be one of {TRIGGERS}, not {trigger!r}")
        self.console = console
        self.new_replies = new_replies
        self.edge = trigger == "edge"
        self.trigger_flag = select.EPOLLET if self.edge else 0
        # The course's two dicts, keyed by fileno(); ours adds each client's buffers and the
        # event mask it is registered with.
        self.connections: dict[int, socket.socket] = {}
        self.addresses: dict[int, object] = {}
        self.outboxes: dict[int, Outbox] = {}
        self.replies: dict[int, Replies] = {}
        self.masks: dict[int, int] = {}
        self.timers: Timers[int] = Timers()
        self.epoll = select.epoll()

    def serve(self, host: str, port: int, ready: Ready) -> None:
        raise_open_file_limit()
        server = listening_socket(host, port, 128)
        try:
            server.setblocking(False)
            self.epoll.register(server.fileno(), select.EPOLLIN | self.trigger_flag)
            ready(server.getsockname())
            while True:
                for fd, events in self.epoll.poll(self.timers.timeout(time.monotonic())):
                    if fd == server.fileno():
                        self.accept(server)
                    elif fd in self.connections:
                        self.client_event(fd, events)
                for fd in self.timers.expired(time.monotonic()):
                    self.console.event(f"{show_peer(self.addresses[fd])} timed out")
                    if self.replies[fd].expire(self.outboxes[fd]):
                        self.offline(fd, announce=False)
                    else:
                        self.client_event(fd, select.EPOLLOUT)  # the 408 goes out
                # --8<-- [end:accept]
        finally:
            for fd in list(self.connections):
                self.offline(fd, announce=False)
            self.epoll.close()
            server.close()

    def accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, addr = server.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as error:
                if not accept_failed(error, self.console):
                    raise
                # Out of descriptors, with clients still waiting: re-arming re-checks the
                # listener, so in edge mode they are tried again rather than stranded.
                self.epoll.modify(server.fileno(), select.EPOLLIN | self.trigger_flag)
                return
            accept_recovered(self.console)
            client.setblocking(False)
            fd = client.fileno()
            self.connections[fd] = client
            self.addresses[fd] = addr
            self.outboxes[fd] = Outbox()
            self.replies[fd] = self.new_replies(addr)
            self.masks[fd] = select.EPOLLIN | self.trigger_flag
            self.epoll.register(fd, self.masks[fd])
            self.timers.set(fd, self.replies[fd].deadline(self.outboxes[fd]))
            self.console.event(f"new client {show_peer(addr)}")
            if not self.edge:
                return  # level-triggered: the listener is reported again while more wait

    # --8<-- [start:event]
    def client_event(self, fd: int, events: int) -> None:
        outbox = self.outboxes[fd]
        try:
            if events & select.EPOLLERR:
                # A reset: what recv or send would raise, without reading stale data first.
                code = self.connections[fd].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                code = code or errno.ECONNRESET
                raise ConnectionResetError(code, os.strerror(code))
            if events & (select.EPOLLIN | select.EPOLLHUP) and outbox.wants_input:
                self.receive(fd, outbox)
            if not outbox.empty:
                outbox.flush(self.connections[fd])
        except PEER_GONE as error:
            self.console.event(describe_gone(self.addresses[fd], error))
            self.offline(fd, announce=False)
            return
        if outbox.finished:
            self.offline(fd)
            return
        self.timers.set(fd, self.replies[fd].deadline(outbox))
        mask = self.trigger_flag
        if outbox.wants_input:
            mask |= select.EPOLLIN
        if not outbox.empty:
            mask |= select.EPOLLOUT
        if mask != self.masks[fd]:
            # Re-arming also re-checks readiness, so in edge mode data that arrived while
            # EPOLLIN was off is reported now rather than stranded.
            self.masks[fd] = mask
            self.epoll.modify(fd, mask)
            # --8<-- [end:event]

    def receive(self, fd: int, outbox: Outbox) -> None:
        sock, replies = self.connections[fd], self.replies[fd]
        while outbox.wants_input:
            try:
                data = sock.recv(replies.recv_size)
            except BlockingIOError:
                return
            if not data:
                outbox.closing = True
                return
            if self.console.verbose:
                self.console.data(f"recv:{show_data(data)}")
            replies.receive(data, outbox)
            if not self.edge:
                return  # level-triggered: reported again while more is readable

    # --8<-- [start:offline]
    def offline(self, fd: int, *, announce: bool = True) -> None:
        # Forget the client first, so that a signal arriving half-way through (SIGTERM
        # raises KeyboardInterrupt anywhere) never leaves an entry behind to close twice.
        sock = self.connections.pop(fd)
        addr = self.addresses.pop(fd)
        self.timers.discard(fd)
        self.replies.pop(fd)
        self.masks.pop(fd)
        self.outboxes.pop(fd).discard()
        self.epoll.unregister(fd)
        sock.close()
        if announce:
            self.console.event(f"{show_peer(addr)} offline")
            # --8<-- [end:offline]


serve_echo, serve_http = entry_points(_serve)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("classic.epoll_server"))
