"""What the echo server says: nothing but the bytes it got, in order.

Sans-I/O like the rest of the package: a model passes what it received and sends back what
this returns. Keeping even this trivial rule here means every model's echo is, by construction,
the same echo, and the parity suite checks that the drivers keep the order and lose nothing.
"""

from __future__ import annotations

# The course read with recv(1024); a model is free to read more at once.
COURSE_RECV_SIZE = 1024


class EchoSession:
    """One client's echo conversation."""

    __slots__ = ("bytes_echoed", "peer_closed")

    def __init__(self) -> None:
        self.bytes_echoed = 0
        self.peer_closed = False

    def receive_data(self, data: bytes) -> bytes:
        """The reply to `data`; b"" from the peer means it closed its side."""
        if not data:
            self.peer_closed = True
            return b""
        self.bytes_echoed += len(data)
        return data
