"""Modern counterpart of course §1 (blocking), §3 (thread per client) and §10 (gevent):
`asyncio.start_server`, one task per connection, `StreamReader`/`StreamWriter` with `drain()`.

Schedules: the event loop (uvloop by default, `--loop asyncio` for the stock one) runs one task
per connection; a task gives the loop back at every `await reader.read()` and `await drain()`.
Blocks: nothing but the loop's wait for readiness. Costs: a task, a StreamReader buffer and a
transport per connection, a few KiB, against a thread stack (§3) or a greenlet (§10).

Migrating from the classic models: `recv()` becomes `await reader.read()`, `sendall()` becomes
`writer.write()` + `await writer.drain()` (drain is the backpressure the blocking send gave
for free), the thread or greenlet per client becomes the task `start_server` creates, and
Ctrl-C is a signal handler on the loop that stops the server instead of an exception thrown
into whatever was running. A socket timeout becomes `asyncio.timeout_at` around the read (the
connection's deadline, `rosetta.protocol.deadlines`) and `asyncio.timeout` around `drain()`;
the HTTP loop keeps one `asyncio.timeout` for the connection and `reschedule()`s it to each
read's deadline, and awaits `drain()` only when the kernel did not take the whole answer: the
same deadlines and backpressure for a sixth fewer instructions per request.
HTTPS (`--certfile`): `start_server(ssl=context, ssl_handshake_timeout=--header-timeout)`;
the streams then carry decrypted bytes, and file bodies already go in chunks.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from modern._runtime import Accepting, Connections, TaskConnection, entry_points, serving
from rosetta.protocol.deadlines import IdleDeadline, Limits, ReadDeadline
from rosetta.protocol.echo import EchoSession
from rosetta.protocol.files import FileSlice, iter_file_slice
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import StaticSite

READ_SIZE = 64 * 1024
Reader, Writer = asyncio.StreamReader, asyncio.StreamWriter
Handler = Callable[[Reader, Writer, TaskConnection, Limits], Awaitable[None]]


def drained(writer: Writer) -> bool:
    """Whether there is nothing to wait for: the kernel took every byte and the connection is
    up. Asked before awaiting `drain` on the hot path, where the await costs a coroutine."""
    transport = writer.transport
    return not transport.get_write_buffer_size() and not transport.is_closing()


async def drain(writer: Writer, limits: Limits) -> None:
    if drained(writer):
        return  # nothing buffered: no timer is set
    async with asyncio.timeout(limits.send_timeout):
        await writer.drain()


# --8<-- [start:echo]
async def echo_client(
    reader: Reader, writer: Writer, connection: TaskConnection, limits: Limits
) -> None:
    session = EchoSession()
    loop = asyncio.get_running_loop()
    idle = IdleDeadline(limits, loop.time())
    while True:
        async with asyncio.timeout_at(idle.until):
            data = await reader.read(READ_SIZE)
        if not data:
            return
        # An echo is handed to the transport whole: nothing is ever half-answered, so
        # the connection never needs to be marked busy for a graceful stop.
        writer.write(session.receive_data(data))
        await drain(writer, limits)
        idle.update(loop.time())
        # --8<-- [end:echo]


def http_client(site: StaticSite) -> Handler:
    async def serve_client(
        reader: Reader, writer: Writer, connection: TaskConnection, limits: Limits
    ) -> None:
        conn = HTTPConnection()
        loop = asyncio.get_running_loop()
        deadline = ReadDeadline(limits, loop.time())
        peer = writer.get_extra_info("peername")
        # The echo's read loop spelled for a hot path: one timeout for the connection's life,
        # moved to each read's deadline and cleared while answering, where a new
        # asyncio.timeout_at per read would cost an eighth of each request's instructions.
        timeout = asyncio.timeout(None)
        try:
            async with timeout:
                while True:
                    timeout.reschedule(deadline.until)
                    data = await reader.read(READ_SIZE)
                    timeout.reschedule(None)
                    conn.receive_data(data)
                    with connection:
                        for request in conn.events():
                            plan = site.respond(request, peer)
                            if isinstance(plan.body, FileSlice):
                                writer.write(plan.head)
                                for chunk in iter_file_slice(plan.body):
                                    writer.write(chunk)
                                    await drain(writer, limits)
                            else:
                                writer.write(plan.head + plan.body)
                                if not drained(writer):
                                    await drain(writer, limits)
                            if not plan.keep_alive:
                                return
                    if conn.peer_closed:
                        return
                    deadline.update(loop.time(), conn.in_message)
        except TimeoutError:
            if not timeout.expired():
                raise  # drain's own: a client that stopped reading
            expired = deadline.expired()
            if expired is not None:
                plan = site.respond(expired)
                writer.write(plan.head + plan.body)  # type: ignore[operator]
                await drain(writer, limits)

    return serve_client


# --8<-- [start:accept]
def accepting(sock: socket.socket, handle: Handler, connections: Connections) -> Accepting:
    """`asyncio.start_server` on the listening socket: a task per connection."""

    async def client_task(reader: Reader, writer: Writer) -> None:
        connection = TaskConnection()
        connections.add(connection)
        try:
            await handle(reader, writer, connection, connections.limits)
        except OSError:
            pass  # the peer reset or vanished: this connection ends, nobody else notices
        except asyncio.CancelledError:
            # Cancelled by our own shutdown. Python 3.11's StreamReaderProtocol logs a
            # traceback for a handler task that ends cancelled, so this one ends normally.
            pass
        finally:
            connections.discard(connection)
            writer.close()

    return serving(asyncio.start_server(client_task, sock=sock, **connections.tls_server_options))
    # --8<-- [end:accept]


serve_echo, serve_http = entry_points(
    lambda sock, connections: accepting(sock, echo_client, connections),
    lambda site, sock, connections: accepting(sock, http_client(site), connections),
)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("modern.streams"))
