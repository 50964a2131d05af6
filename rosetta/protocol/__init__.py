"""What is said on the wire, once, for every model: sans-I/O (bytes in, events and bytes out).

No socket, selector, event loop or thread is used in this package; the models in `classic/` and
`modern/` are only drivers that move bytes between a socket and these objects.
"""

from __future__ import annotations

from rosetta.protocol.echo import EchoSession
from rosetta.protocol.http import HTTPConnection, ProtocolError, Request
from rosetta.protocol.static import FileSlice, ResponsePlan, StaticSite

__all__ = [
    "EchoSession",
    "FileSlice",
    "HTTPConnection",
    "ProtocolError",
    "Request",
    "ResponsePlan",
    "StaticSite",
]
