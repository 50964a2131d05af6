"""HTTPS for `modern.sockets`: TLS over a raw non-blocking socket driven by the loop's
`sock_recv` and `sock_sendall`, with no transport to do it.

The TLS state machine is an `ssl.SSLObject` on two memory BIOs (sans-I/O, like
`rosetta.protocol`): what it wants to send is taken from the outgoing BIO and sent with
`sock_sendall`; when it wants more bytes (`SSLWantReadError`, during the handshake or a read)
they are received with `sock_recv` into the incoming BIO. This is the want-read/want-write
dance the classic readiness models leave out; here each wait is one `await`.

`TLSSockets` offers the two calls the model makes on the loop (`sock_recv(sock, n)`,
`sock_sendall(sock, data)`) for one client socket, so the conversation reads the same over
TLS; a file body goes through it in chunks, since `sock_sendfile` cannot encrypt.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

READ_SIZE = 64 * 1024


class TLSSockets:
    """`sock_recv` and `sock_sendall` for one client socket, through TLS."""

    __slots__ = ("_incoming", "_loop", "_outgoing", "_sock", "_tls")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, context: ssl.SSLContext
    ) -> None:
        self._loop, self._sock = loop, sock
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)

    @classmethod
    async def handshake(
        cls,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        context: ssl.SSLContext,
        timeout: float | None,
    ) -> TLSSockets:
        """The server side of the handshake, within `timeout` seconds (TimeoutError, an
        OSError, past it; ssl.SSLError for a client that does not speak TLS)."""
        sockets = cls(loop, sock, context)
        async with asyncio.timeout(timeout):
            while True:
                try:
                    sockets._tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    await sockets._flush()
                    if not await sockets._fill():
                        raise ConnectionResetError("closed during the TLS handshake") from None
            await sockets._flush()
        return sockets

    async def sock_recv(self, sock: socket.socket, size: int) -> bytes:
        """Up to `size` decrypted bytes; b"" once the client closed (with or without its
        close_notify)."""
        while True:
            try:
                data = self._tls.read(size)
            except ssl.SSLWantReadError:
                await self._flush()  # what reading made it want to say (TLS 1.3 tickets)
                if not await self._fill():
                    return b""
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""
            await self._flush()
            return data

    async def sock_sendall(self, sock: socket.socket, data: bytes) -> None:
        self._tls.write(data)
        await self._flush()

    async def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            await self._loop.sock_sendall(self._sock, data)

    async def _fill(self) -> bool:
        data = await self._loop.sock_recv(self._sock, READ_SIZE)
        if not data:
            self._incoming.write_eof()
            return False
        self._incoming.write(data)
        return True
