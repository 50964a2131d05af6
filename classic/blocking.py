"""Course §1: a single-process, blocking TCP server — one client at a time.

Schedules: not at all. The outer loop blocks in `accept()`, the inner loop blocks in
`recv(1024)` for the one client being served; the next client waits in the listen backlog
(`listen(5)`) until the current one leaves.
Blocks: everything, on every call. Costs: one socket and no concurrency; a slow or idle client
stalls everyone behind it.
Counterpart: `modern.streams` (one task per connection instead of one client at a time).

Course bug: a client that resets its connection (`ConnectionResetError`) killed the server.
Fixed: the reset ends only that client's conversation, with one console line.
Course bug: nothing was echoed back. Fixed: the server echoes (`sendall`, never a partial
`send`), and with `http` serves the static site with keep-alive through `rosetta.protocol`.
HTTPS (`--certfile`): the TLS handshake is the start of the one conversation (`classic._tls`),
bounded by the head deadline: a client that never handshakes holds the server that long.
"""

from __future__ import annotations

import socket

from classic._conversation import Conversation, Ready, entry_points
from classic._descriptors import accept_one
from rosetta.console import Console, show_peer
from rosetta.net import bind_address, family_for

# --8<-- [start:accept]

def _serve(
    host: str, port: int, ready: Ready, console: Console, converse: Conversation, grace: float
) -> None:
    # No grace: the one conversation is the server; a stop ends it.
    # The listening socket written out as §1 writes it (backlog 5); the other models take the
    # same socket, with their own backlog, from rosetta.net.listening_socket.
    server_socket = socket.socket(family_for(host), socket.SOCK_STREAM)
    try:
        server_socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server_socket.bind(bind_address(host, port))
        server_socket.listen(5)
        ready(server_socket.getsockname())
        while True:  # the course's accept loop: §2 and §3 repeat it, each listing whole
            console.event("waiting for a new client")
            accepted = accept_one(server_socket, console)
            if accepted is None:
                continue  # out of descriptors: paused, warned once
            client_socket, client_addr = accepted
            console.event(f"now serving [{show_peer(client_addr)}]")
            converse(client_socket, client_addr)
    finally:
        server_socket.close()
        # --8<-- [end:accept]


serve_echo, serve_http = entry_points(_serve)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("classic.blocking"))
