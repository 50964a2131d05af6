"""Small socket helpers shared by the models (address families, the listening socket).

Kept out of `rosetta.protocol`, which never touches a socket.
"""

from __future__ import annotations

import ipaddress
import re
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


# The first line a server prints once it listens; whoever starts one reads its address here.
LISTENING_LINE = re.compile(
    r"^rosetta: listening on (?P<scheme>tcp|https?)://"
    r"(?P<host>\[[^\]]+\]|[^:/\[\]]+):(?P<port>\d+) "
    r"\(model=(?P<model>[\w.]+), pid=(?P<pid>\d+)\)$"
)


def listening_line(scheme: str, sockname: tuple, model: str, pid: int) -> str:
    """`rosetta: listening on tcp://[::1]:7788 (model=classic.blocking, pid=42)`."""
    address = f"{scheme}://{url_host(sockname)}:{sockname[1]}"
    return f"rosetta: listening on {address} (model={model}, pid={pid})"


def abortive_close(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): used by tests and by servers refusing a client."""
    import struct

    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
