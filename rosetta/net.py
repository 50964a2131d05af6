"""Small socket helpers shared by the models (address families, the listening socket).

Kept out of `rosetta.protocol`, which never touches a socket.
"""

from __future__ import annotations

import ipaddress
import socket


def family_for(host: str) -> socket.AddressFamily:
    """AF_INET6 for an IPv6 literal, AF_INET otherwise ('' and hostnames included)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return socket.AF_INET
    return socket.AF_INET6 if address.version == 6 else socket.AF_INET


def bind_address(host: str, port: int) -> tuple[str, int]:
    return (host.strip("[]"), port)


def listening_socket(
    host: str, port: int, backlog: int = 1024, *, reuse_port: bool = False
) -> socket.socket:
    """A bound, listening TCP socket with SO_REUSEADDR (and SO_REUSEPORT if asked)."""
    sock = socket.socket(family_for(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(bind_address(host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def url_host(sockname: tuple) -> str:
    host = sockname[0]
    return f"[{host}]" if ":" in host else host


def abortive_close(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): used by tests and by servers refusing a client."""
    import struct

    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
