"""Course §10: gevent — `monkey.patch_all()`, a plain accept loop, a greenlet per connection.

Schedules: gevent's hub, an event loop (libev) in its own greenlet. `monkey.patch_all()` makes
the standard `socket` cooperative, so the §1 code is unchanged: `accept()` and `recv()` look
blocking but switch to the hub, which resumes whichever greenlet's socket is ready. Each
accepted connection gets `gevent.spawn(handle_request, conn, addr)`.
Blocks: only what does not go through the hub: CPU work, or a C library doing its own I/O,
stalls every client. Costs: a greenlet per client (a few KiB, a C stack slice copied at each
switch), one thread and one process for all of them; no preemption.
Counterpart: `modern.streams` (asyncio tasks: the switch points are the visible `await`s).

`patch_all()` comes first, before any other import, as the course says: a module that took
`from socket import socket` before patching would keep the blocking original. Started through
`rosetta serve`, the CLI has imported `socket` already; that is harmless, because patching
replaces the module's attributes and every call here looks them up at call time.

Course bug: `send` instead of `sendall`: a large echo lost what `send` did not write.
Fixed: the shared conversations use `sendall`.
Course bug: a client resetting its connection raised in its greenlet and printed a traceback.
Fixed: a reset ends only that greenlet's conversation, with one console line.
Stop: SIGINT and SIGTERM are caught by gevent signal watchers (a plain Python handler would
raise inside the hub, which prints it), which throw KeyboardInterrupt into the accept loop;
idle connections are dropped at once, a response being sent finishes within the grace time.
Out of descriptors, `accept` pauses (a gevent sleep) and retries instead of raising.
HTTPS (`--certfile`): the TLS context is made after `patch_all()`, so it is gevent's, and each
greenlet makes its client's handshake under the head deadline (`classic._tls`).
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import contextlib  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402

import gevent  # noqa: E402
from gevent.socket import cancel_wait_ex  # noqa: E402

from classic._conversation import Conversation, Ready, entry_points  # noqa: E402
from classic._descriptors import accept_one  # noqa: E402
from rosetta.console import Console, show_peer  # noqa: E402
from rosetta.net import listening_socket  # noqa: E402

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# --8<-- [start:accept]

def _serve(
    host: str, port: int, ready: Ready, console: Console, converse: Conversation, grace: float
) -> None:
    def handle_request(conn: socket.socket, addr: object) -> None:
        # At stop, a wait for the client's next request is cancelled (see _stop_clients).
        with contextlib.suppress(cancel_wait_ex):
            converse(conn, addr)

    clients: dict[gevent.Greenlet, socket.socket] = {}
    server_socket = listening_socket(host, port, 128)
    # A Python signal handler would raise inside whichever greenlet runs, often the hub, which
    # prints the exception; a gevent watcher runs in a greenlet of its own instead.
    main = gevent.getcurrent()
    watchers = [
        gevent.signal_handler(signum, gevent.kill, main, KeyboardInterrupt)
        for signum in STOP_SIGNALS
    ]
    try:
        ready(server_socket.getsockname())
        while True:
            accepted = accept_one(server_socket, console)
            if accepted is None:
                continue  # out of descriptors: paused, warned once
            conn, addr = accepted
            console.event(f"now serving [{show_peer(addr)}]")
            client = gevent.spawn(handle_request, conn, addr)
            clients[client] = conn
            client.link(lambda finished: clients.pop(finished, None))
    finally:
        # The stop is bounded by the grace time: a second signal is ignored, not fatal (a
        # cancelled watcher leaves the signal's default action, which kills).
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        for watcher in watchers:
            watcher.cancel()
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        server_socket.close()
        _stop_clients(clients, grace)
        # --8<-- [end:accept]


# --8<-- [start:stop]
def _stop_clients(clients: dict[gevent.Greenlet, socket.socket], grace: float) -> None:
    """Drop idle connections now, and let responses being sent finish within the grace time:
    gevent's `shutdown(SHUT_RD)` cancels a greenlet's wait in `recv` (`cancel_wait_ex`), and a
    later `recv` returns b"" as if the client had closed."""
    for conn in list(clients.values()):
        with contextlib.suppress(OSError):  # already closed by its greenlet
            conn.shutdown(socket.SHUT_RD)
    gevent.joinall(list(clients), timeout=grace)
    gevent.killall(list(clients))
    # --8<-- [end:stop]


serve_echo, serve_http = entry_points(_serve)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("classic.gevent_server"))
