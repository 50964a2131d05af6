"""Course §2: a process per client — §1's accept loop, with `multiprocessing.Process` per client.

Schedules: the operating system, preemptively, across cores: no GIL is shared. The parent
blocks in `accept()`; each accepted socket goes to
`multiprocessing.Process(target=dealWithClient, args=(sock, addr))`, a forked child that blocks
in `recv` for its one client. The parent closes its copy of the client socket at once: the child
has its own descriptor, and the connection ends when the last copy is closed.
Costs: a fork per client (page tables copied, memory shared copy-on-write, a millisecond or so)
and a whole process per idle client; no state is shared between clients without explicit IPC.
Counterpart: `modern.streams` (an asyncio task per connection instead of a process).

Course bug: children were never reaped, so every client that left stayed a zombie (`Z` in `ps`)
until the server died. Fixed: a SIGCHLD handler reaps them (`multiprocessing.active_children()`
waits for every child that has exited), so live children return to 0 when clients leave.
Course bug: every child kept the listening socket open. Fixed: `dealWithClient` closes it first.
Course bug: stopping the server left the children serving. Fixed: at stop (SIGINT or SIGTERM)
the parent stops accepting and sends SIGTERM to its children; a child then shuts the read side
of its connection, so its conversation ends as if the client had closed (a response being sent
is finished), and any child still alive after the grace time (`--grace`) is killed. Children ignore
SIGINT: Ctrl-C reaches the whole process group, and the parent decides how they stop.
Signals reach the parent's main thread, the one that runs Python's handlers: the access log's
writer thread blocks them all, because a SIGTERM the kernel handed to it, while the main thread
had a SIGCHLD pending, left `accept()` uninterrupted until the next client came.
With `--access-log`, SIGHUP to the parent is passed on to every child, and a child reopens the
log before its next line (its client may have been connected since before the rotation).
HTTPS (`--certfile`): each child makes the TLS handshake with its client, under the head
deadline (`classic._tls`); the parent only accepts.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import socket
import time
from collections.abc import Iterator

from classic._conversation import Conversation, Ready, entry_points
from classic._descriptors import accept_failed, accept_one
from rosetta.console import Console, show_peer
from rosetta.net import listening_socket

# The course's fork semantics, whatever the platform's default start method.
FORK = multiprocessing.get_context("fork")
# Held while a child starts, so none arrives before the child has installed its own handlers.
HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}


def dealWithClient(
    sock: socket.socket, addr: object, *, listener: socket.socket, converse: Conversation
) -> None:
    """The child: drop the parent's listener and signal handlers, then talk to one client."""
    listener.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: _shut_read(sock))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
    converse(sock, addr)


# --8<-- [start:accept]
def _serve(
    host: str, port: int, ready: Ready, console: Console, converse: Conversation, grace: float
) -> None:
    server_socket = listening_socket(host, port, 128)
    signal.signal(signal.SIGCHLD, _reap)
    try:
        ready(server_socket.getsockname())
        # §1's accept loop, repeated on purpose so that this listing reads alone; what
        # differs from §1 is only what each accepted client is given.
        while True:
            console.event("waiting for a new client")
            accepted = accept_one(server_socket, console)
            if accepted is None:
                continue  # out of descriptors: paused, warned once
            client_socket, client_addr = accepted
            console.event(f"now serving [{show_peer(client_addr)}]")
            client = FORK.Process(
                target=dealWithClient,
                args=(client_socket, client_addr),
                kwargs={"listener": server_socket, "converse": converse},
            )
            try:
                with _signals_held():
                    client.start()  # a fork and a pipe: may fail for want of descriptors
            except OSError as error:
                if not accept_failed(error, console):
                    raise
        # --8<-- [end:accept]
            finally:
                client_socket.close()
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # The stop is bounded by the grace time: a second signal must not interrupt it and
        # leave children behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server_socket.close()
        _stop_children(grace)


def _reap(signum: int, frame: object) -> None:
    multiprocessing.active_children()


def _shut_read(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # the conversation already closed it
        sock.shutdown(socket.SHUT_RD)

# --8<-- [start:stop]

@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)


def _stop_children(grace: float) -> None:
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join()
            # --8<-- [end:stop]


serve_echo, serve_http = entry_points(_serve)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("classic.forking"))
