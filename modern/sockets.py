"""Modern counterpart of course §4 (single process, non-blocking sockets): the same
non-blocking sockets, driven by `loop.sock_accept` / `loop.sock_recv` / `loop.sock_sendall`.

Schedules: the event loop (uvloop by default, `--loop asyncio` for the stock one). The listener
and every client socket are `setblocking(False)`, as in §4, but nobody polls them: one task
accepts (`await loop.sock_accept(server)`), and one task per client awaits `loop.sock_recv`;
the loop registers the socket with epoll and wakes the task when the kernel says it is ready.
Blocks: nothing but the loop's epoll wait. Costs: a task and a raw socket per connection (no
transport, no stream buffers): about the lightest asyncio server short of `asyncio.Protocol`.
Backpressure: `sock_sendall` returns only when everything is in the kernel, and the task reads
nothing meanwhile, so a client that never reads stalls only itself.

Replaces `classic.nonblocking`. Migrating from it: the global `g_socketList` and the turn that
tried `recv` on every socket become one task per client (the tasks are the list, tracked by
`modern._runtime.Connections` for a graceful stop); `BlockingIOError` handling and the nap
between turns disappear, because `await loop.sock_recv()` only returns with data (or b"" at
EOF); the outgoing buffer flushed on every turn becomes `await loop.sock_sendall()`, which
keeps the "never a partial send" rule. Files are sent with `loop.sock_sendfile` (os.sendfile)
on the asyncio loop; uvloop does not implement it, so there the file goes in chunks through
`sock_sendall`. Deadlines (`rosetta.protocol.deadlines`): `asyncio.timeout_at` around each
`sock_recv`, `asyncio.timeout` around each send.
HTTPS (`--certfile`): the same calls through `modern._tls_sockets`, an `ssl.SSLObject` on
memory BIOs fed by `sock_recv` and drained by `sock_sendall`, the handshake in the client's
task within the head deadline; file bodies then go in chunks (sendfile cannot encrypt).
Out of descriptors, `sock_accept` fails with EMFILE: the accepting task pauses and retries,
with one line on stderr per episode, instead of ending the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

from modern._runtime import Connections, DescriptorShortage, TaskConnection, entry_points
from modern._tls_sockets import TLSSockets
from rosetta.protocol.deadlines import IdleDeadline, Limits, ReadDeadline
from rosetta.protocol.echo import EchoSession
from rosetta.protocol.files import FileChanged, FileSlice, iter_file_slice
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import StaticSite

READ_SIZE = 64 * 1024
Handler = Callable[[socket.socket, TaskConnection, Limits], Awaitable[None]]
Sockets = asyncio.AbstractEventLoop | TLSSockets  # what sock_recv and sock_sendall are called on


# --8<-- [start:echo]
async def echo_client(client: socket.socket, connection: TaskConnection, limits: Limits) -> None:
    event_loop = asyncio.get_running_loop()
    session = EchoSession()
    idle = IdleDeadline(limits, event_loop.time())
    while True:
        async with asyncio.timeout_at(idle.until):
            data = await event_loop.sock_recv(client, READ_SIZE)
        if not data:
            return
        with connection:
            async with asyncio.timeout(limits.send_timeout):
                await event_loop.sock_sendall(client, session.receive_data(data))
        idle.update(event_loop.time())
        # --8<-- [end:echo]


def http_client(site: StaticSite, tls: ssl.SSLContext | None = None) -> Handler:
    async def serve_client(
        client: socket.socket, connection: TaskConnection, limits: Limits
    ) -> None:
        event_loop = asyncio.get_running_loop()
        # The loop's socket calls, or the same calls through TLS (modern._tls_sockets).
        sockets: Sockets = event_loop
        if tls is not None:
            header = limits.header if limits.header > 0 else None
            sockets = await TLSSockets.handshake(event_loop, client, tls, header)
        conn = HTTPConnection()
        deadline = ReadDeadline(limits, event_loop.time())
        while True:
            # modern.streams' loop in the sockets idiom, alike on purpose (each reads alone).
            try:
                async with asyncio.timeout_at(deadline.until):
                    data = await sockets.sock_recv(client, READ_SIZE)
            except TimeoutError:
                expired = deadline.expired()
                if expired is not None:
                    plan = site.respond(expired)
                    async with asyncio.timeout(limits.send_timeout):
                        await sockets.sock_sendall(client, plan.head + plan.body)  # type: ignore[operator]
                return
            conn.receive_data(data)
            with connection:
                for request in conn.events():
                    plan = site.respond(request, client.getpeername())
                    async with asyncio.timeout(limits.send_timeout):
                        if isinstance(plan.body, FileSlice):
                            await sockets.sock_sendall(client, plan.head)
                            await _send_file_slice(sockets, client, plan.body)
                        else:
                            await sockets.sock_sendall(client, plan.head + plan.body)
                    if not plan.keep_alive:
                        return
            if conn.peer_closed:
                return
            deadline.update(event_loop.time(), conn.in_message)

    return serve_client


async def _send_file_slice(sockets: Sockets, client: socket.socket, body: FileSlice) -> None:
    if isinstance(sockets, asyncio.BaseEventLoop):
        with open(body.path, "rb") as file:
            sent = await sockets.sock_sendfile(client, file, body.offset, body.length)
        if sent != body.length:
            raise FileChanged(f"{body.path} shrank while being sent")
        return
    # uvloop has no sock_sendfile, and TLS cannot use one: read the slice in chunks, each
    # sent whole before the next.
    for chunk in iter_file_slice(body):
        await sockets.sock_sendall(client, chunk)


# --8<-- [start:accept]
@contextlib.asynccontextmanager
async def accepting(
    server: socket.socket, handle: Handler, connections: Connections
) -> AsyncIterator[None]:
    """One task accepts (`loop.sock_accept`) and starts a task per client, until the block ends."""
    event_loop = asyncio.get_running_loop()

    async def client_task(client: socket.socket) -> None:
        connection = TaskConnection()
        connections.add(connection)
        try:
            await handle(client, connection, connections.limits)
        except OSError:
            pass  # the peer reset or vanished: this connection ends, nobody else notices
        finally:
            connections.discard(connection)
            client.close()

    async def accept_forever() -> None:
        # The loop keeps only weak references to tasks: this set keeps each client's alive.
        clients: set[asyncio.Task[None]] = set()
        shortage = DescriptorShortage()
        while True:
            try:
                client, _ = await event_loop.sock_accept(server)
            except (ConnectionAbortedError, ConnectionResetError):
                continue  # the client left the backlog before we took it
            except OSError as error:
                if not await shortage.paused(error):
                    raise
                continue
            shortage.over()
            client.setblocking(False)
            # Head and body go out in separate sends: without this, Nagle's algorithm holds
            # the body back until the peer's delayed ACK of the head.
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = event_loop.create_task(client_task(client))
            clients.add(task)
            task.add_done_callback(clients.discard)
            # --8<-- [end:accept]

    server.setblocking(False)
    acceptor = event_loop.create_task(accept_forever())
    try:
        yield
    finally:
        acceptor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await acceptor


serve_echo, serve_http = entry_points(
    lambda sock, connections: accepting(sock, echo_client, connections),
    lambda site, sock, connections: accepting(
        sock, http_client(site, connections.tls), connections
    ),
)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("modern.sockets"))
