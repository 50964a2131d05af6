"""Course §4's client: open N connections to an echo server, then send on each in turn.

    python -m classic._nonblocking_client --connections 100 [--rounds 10] [--host H] [--port P]

A tool that goes with the §4 listing, not a server model, so its name starts with an
underscore like every helper of `classic/`; `python -m` runs it under that name.

Every round sends one numbered message on each connection, then reads every echo back and
checks it byte for byte. It prints one summary line and exits 0 when every echo was right,
1 when any was wrong or missing, 2 for bad arguments or a server that cannot be reached.

Course bug: the client sent `str` (Python 2), which Python 3 refuses. Fixed: bytes.
Course bug: it sent in an endless loop and never read. Fixed: a bounded number of rounds, and
every echo is read and checked.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from collections.abc import Sequence

from rosetta.cli import port_number, positive_int

TIMEOUT = 10.0


def message(connection: int, round_number: int) -> bytes:
    return b"connection %d round %d\n" % (connection, round_number)


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    received = bytearray()
    while len(received) < size:
        chunk = sock.recv(size - len(received))
        if not chunk:
            break
        received += chunk
    return bytes(received)


def connect_all(host: str, port: int, connections: int) -> list[socket.socket]:
    """N connected sockets; raises OSError (after closing the others) if one fails."""
    socket_list: list[socket.socket] = []
    try:
        for _ in range(connections):
            socket_list.append(socket.create_connection((host, port), timeout=TIMEOUT))
    except OSError:
        for sock in socket_list:
            sock.close()
        raise
    return socket_list


def exchange(socket_list: list[socket.socket], rounds: int) -> tuple[int, int]:
    """(echoes checked, echoes wrong or missing)."""
    wrong = checked = 0
    for round_number in range(rounds):
        for index, sock in enumerate(socket_list):
            try:
                sock.sendall(message(index, round_number))
            except OSError as error:
                print(
                    f"connection {index} round {round_number}: send failed: {error}",
                    file=sys.stderr,
                )
        for index, sock in enumerate(socket_list):
            expected = message(index, round_number)
            try:
                echoed = recv_exactly(sock, len(expected))
            except OSError:
                echoed = b""
            checked += 1
            if echoed != expected:
                wrong += 1
                print(
                    f"connection {index} round {round_number}: expected {expected!r}, "
                    f"got {echoed!r}",
                    file=sys.stderr,
                )
    return checked, wrong


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m classic._nonblocking_client",
        description="Open N connections to an echo server and check every echo.",
    )
    parser.add_argument("--connections", type=positive_int, required=True)
    parser.add_argument("--rounds", type=positive_int, default=10)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=7788)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        socket_list = connect_all(args.host, args.port, args.connections)
    except OSError as error:
        print(
            f"nonblocking_client: error: cannot connect to {args.host}:{args.port}: "
            f"{error.strerror or error}",
            file=sys.stderr,
        )
        return 2
    try:
        checked, wrong = exchange(socket_list, args.rounds)
    finally:
        for sock in socket_list:
            sock.close()
    elapsed = time.perf_counter() - started
    verdict = "all correct" if not wrong else f"{wrong} wrong"
    print(
        f"{args.connections} connections x {args.rounds} rounds: {checked} echoes, {verdict} "
        f"({elapsed:.2f} s)"
    )
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
