"""Course §3: a thread per client — §1's accept loop, with `threading.Thread` per connection.

Schedules: the operating system, preemptively; the GIL lets one thread run Python at a time and
is released in every blocking call. The main thread blocks in `accept()`; each accepted socket
goes to `threading.Thread(target=dealWithClient, args=(sock, addr))`, which blocks in `recv`.
The parent must not close the client socket: threads share the one descriptor table.
Costs: one OS thread per client (a stack reserved per thread, 8 MiB virtual by default, and a
kernel task), so thousands of idle clients cost thousands of threads. Cheaper to start than §2's
processes; no isolation: one thread's crash or a blocking C call is everyone's.
Counterpart: `modern.streams` (an asyncio task per connection instead of a thread).

Course bug: non-daemon threads kept the process alive after Ctrl-C until every client left.
Fixed: the threads are daemons, and at stop (SIGINT or SIGTERM) the server stops accepting,
shuts the read side of every open connection (a blocked `recv` returns b"", so the conversation
ends as if the client had closed, and a response being sent is finished), and joins the
threads for at most the grace time (`--grace`).
Out of descriptors, `accept` pauses and retries (`classic._descriptors`) instead of raising.
HTTPS (`--certfile`): each thread makes the TLS handshake with its client, under the head
deadline (`classic._tls`); the accept loop never waits for one.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time

from classic._conversation import Conversation, Ready, entry_points
from classic._descriptors import accept_one
from rosetta.console import Console, show_peer
from rosetta.net import listening_socket


# --8<-- [start:accept]
def _serve(
    host: str,
    port: int,
    ready: Ready,
    console: Console,
    dealWithClient: Conversation,
    grace: float,
) -> None:
    clients: list[tuple[threading.Thread, socket.socket]] = []
    server_socket = listening_socket(host, port, 128)
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
            client = threading.Thread(
                target=dealWithClient, args=(client_socket, client_addr), daemon=True
            )
            # Known before it starts, so that a stop signal arriving during start() still
            # waits for it. No client_socket.close() here: the thread uses this very socket.
            clients = [(thread, sock) for thread, sock in clients if thread.is_alive()]
            clients.append((client, client_socket))
            client.start()
    finally:
        # The stop is bounded by the grace time: a second signal must not interrupt it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server_socket.close()
        _stop_clients(clients, grace)
        # --8<-- [end:accept]


def _stop_clients(clients: list[tuple[threading.Thread, socket.socket]], grace: float) -> None:
    """Let every conversation end as if its client had closed, within the grace time."""
    for _, sock in clients:
        with contextlib.suppress(OSError):  # already closed by its thread
            sock.shutdown(socket.SHUT_RD)
    deadline = time.monotonic() + grace
    for thread, _ in clients:
        if thread.is_alive():
            thread.join(max(0.0, deadline - time.monotonic()))


serve_echo, serve_http = entry_points(_serve)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("classic.threads"))
