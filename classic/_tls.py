"""HTTPS for the classic models whose idiom allows it: one flow of control per client (§1
blocking, §2 processes, §3 threads, §10 gevent), where a blocking `SSLSocket` stands in for the
socket and the conversation does not change.

The handshake happens here, in the client's own process, thread or greenlet, never in the
accept loop: a client that connects and says nothing holds up only itself, and is cut when
its head is due (`--header-timeout`, the socket's timeout during the handshake). A client that
speaks plain HTTP to the TLS port, or anything else that is not a TLS handshake, gets one
console line and a close. File bodies go out through the TLS layer in chunks: an `SSLSocket`'s
`sendfile` sends with `send`, because `os.sendfile` cannot encrypt. Under gevent's
`monkey.patch_all()` the context is gevent's and every wait goes through the hub.

The TLS socket is made on a duplicate of the accepted socket's descriptor: the model keeps the
socket it accepted, and its stop (`shutdown(SHUT_RD)` on it) still ends the conversation.

The readiness models (§4 non-blocking, §5 select, §6 epoll) do not serve TLS: there a
handshake, and every read and write after it, can want the other direction
(`SSLWantReadError` on a send, `SSLWantWriteError` on a receive), which their loops,
written around one readiness per direction, do not do. They refuse `--certfile` with exit 2.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable

from rosetta.console import Console, show_peer
from rosetta.protocol.deadlines import Limits
from rosetta.tls import describe

Conversation = Callable[[socket.socket, object], None]


def secured(
    converse: Conversation, tls: ssl.SSLContext | None, limits: Limits, console: Console
) -> Conversation:
    """`converse`, over TLS when the server has a context (`tls`)."""
    if tls is None:
        return converse

    def converse_over_tls(sock: socket.socket, addr: object) -> None:
        try:
            secure = handshake(sock, addr, tls, limits, console)
            if secure is None:
                return
            try:
                converse(secure, addr)
            except ssl.SSLError as error:  # not TLS any more: the peer is gone for us
                console.event(f"[{show_peer(addr)}] TLS error ({describe(error)}): closed")
            finally:
                secure.close()
        finally:
            sock.close()

    return converse_over_tls


def handshake(
    sock: socket.socket, addr: object, tls: ssl.SSLContext, limits: Limits, console: Console
) -> ssl.SSLSocket | None:
    """The server side of the TLS handshake on `sock`, within the head deadline; None (with
    one console line) if the client did not complete it."""
    duplicate: socket.socket | None = None
    try:
        duplicate = sock.dup()
        secure = tls.wrap_socket(duplicate, server_side=True, do_handshake_on_connect=False)
    except OSError as error:  # out of descriptors, or the socket is gone already
        if duplicate is not None:
            duplicate.close()
        console.event(f"[{show_peer(addr)}] no TLS ({describe(error)}): closed")
        return None
    try:
        secure.settimeout(limits.header if limits.header > 0 else None)
        secure.do_handshake()
    except (OSError, ValueError) as error:
        reason = "timed out" if isinstance(error, TimeoutError) else describe(error)
        console.event(f"[{show_peer(addr)}] no TLS handshake ({reason}): closed")
        secure.close()
        return None
    return secure
