"""HTTPS for `rosetta serve http --certfile PEM [--keyfile PEM]`: the one server-side TLS
context every model that serves TLS is given.

TLS 1.2 at least, the certificate chain and key loaded once (a path that cannot be read, or a
key that does not match, is the user's mistake: `rosetta.serve_options` reports it in one
line), and ALPN offering `http/1.1`, the only protocol the servers speak. The context is made
by the process that serves, after the model's module is imported: under gevent's
`monkey.patch_all()` `ssl.SSLContext` is gevent's cooperative one, looked up here at call time.

What each model does with it (the handshake bounded by the head deadline, file bodies in
chunks through the TLS layer because `sendfile` cannot encrypt) is the model's idiom:
`classic._tls` for the blocking family and gevent, `ssl=` on the asyncio servers
(`modern._runtime.Connections.tls_server_options`).
"""

from __future__ import annotations

import ssl

ALPN_PROTOCOLS = ("http/1.1",)


def server_context(certfile: str, keyfile: str | None = None) -> ssl.SSLContext:
    """A server context for the certificate chain in `certfile` and its key (in `keyfile`, or
    in `certfile` too); OSError (ssl.SSLError included) if they cannot be loaded."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    context.set_alpn_protocols(list(ALPN_PROTOCOLS))
    # A stop shuts the read side of every open connection (the classic models): OpenSSL would
    # take that EOF without a close_notify for an attack and send the client a decode_error
    # alert; taken as a clean close, the client sees a clean close too. Every request is
    # framed by its head and length, so a truncated one is only an incomplete request.
    context.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    return context


def describe(error: OSError) -> str:
    """An OSError or ssl.SSLError from loading or handshaking, as a few words."""
    if isinstance(error, ssl.SSLError):
        return str(error.reason or error.strerror or error).replace("_", " ").lower()
    return str(error.strerror or error)
