"""Idle connections held open against a server, from as many loopback source addresses as
the ephemeral port range needs (127.0.0.1, 127.0.0.2, ...), and counted back: a connection the
server closed (select's refusal past its 1024-descriptor wall) reads as end of file.
"""

from __future__ import annotations

import contextlib
import select
import socket
from pathlib import Path

PORT_MARGIN = 2000  # ephemeral ports left to everything else on the machine


def ports_per_source() -> int:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return max(1000, high - low - PORT_MARGIN)


class IdleConnections:
    """Sockets that connect and then say nothing; `grow_to(n)` opens more, `alive()` counts
    the ones the server has not closed."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.sockets: list[socket.socket] = []
        self.failures: list[str] = []
        self._per_source = ports_per_source()

    def _source(self, index: int) -> tuple[str, int] | None:
        block = index // self._per_source
        return None if block == 0 else (f"127.0.0.{block + 1}", 0)

    def grow_to(self, count: int, timeout: float = 10.0) -> int:
        """Open connections until `count` are open (or one fails); returns how many are."""
        while len(self.sockets) < count:
            sock = socket.socket()
            source = self._source(len(self.sockets))
            try:
                if source is not None:
                    sock.bind(source)
                sock.settimeout(timeout)
                sock.connect(self.address)
            except OSError as error:
                sock.close()
                self.failures.append(f"connect {len(self.sockets) + 1}: {error}")
                break
            self.sockets.append(sock)
        return len(self.sockets)

    def alive(self) -> int:
        """Connections the server has not closed: none of them is readable (a server never
        writes first to an idle echo or HTTP client, so readable means end of file)."""
        poller = select.poll()
        for sock in self.sockets:
            poller.register(sock, select.POLLIN | select.POLLRDHUP)
        closed = len(poller.poll(0))
        return len(self.sockets) - closed

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()
        self.sockets.clear()

    def __enter__(self) -> IdleConnections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
