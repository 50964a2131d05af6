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
into whatever was running.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

from modern.runtime import Connections, run
from modern.workers import listening_socket, prefork
from rosetta.console import Console
from rosetta.protocol.echo import EchoSession
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import FileSlice, StaticSite, iter_file_slice

READ_SIZE = 64 * 1024
Ready = Callable[[tuple], None]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@prefork
def serve_echo(
    host: str, port: int, *, ready: Ready, console: Console, loop: str = "uvloop"
) -> None:
    connections = Connections()

    async def echo_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = EchoSession()
        while data := await reader.read(READ_SIZE):
            # An echo is handed to the transport whole: nothing is ever half-answered, so
            # the connection never needs to be marked busy for a graceful stop.
            writer.write(session.receive_data(data))
            await writer.drain()

    run(lambda stopping: _serve(host, port, echo_client, connections, ready, stopping), loop=loop)


@prefork
def serve_http(
    host: str,
    port: int,
    root: str | os.PathLike[str],
    *,
    ready: Ready,
    console: Console,
    loop: str = "uvloop",
) -> None:
    site = StaticSite(root)
    connections = Connections()

    async def http_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = HTTPConnection()
        while True:
            data = await reader.read(READ_SIZE)
            conn.receive_data(data)
            with connections.busy():
                for request in conn.events():
                    plan = site.respond(request)
                    if isinstance(plan.body, FileSlice):
                        writer.write(plan.head)
                        for chunk in iter_file_slice(plan.body):
                            writer.write(chunk)
                            await writer.drain()
                    else:
                        writer.write(plan.head + plan.body)
                        await writer.drain()
                    if not plan.keep_alive:
                        return
            if conn.peer_closed:
                return

    run(lambda stopping: _serve(host, port, http_client, connections, ready, stopping), loop=loop)


async def _serve(
    host: str,
    port: int,
    handle: Handler,
    connections: Connections,
    ready: Ready,
    stopping: asyncio.Event,
) -> None:
    async def client_task(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.add()
        try:
            await handle(reader, writer)
        except OSError:
            pass  # the peer reset or vanished: this connection ends, nobody else notices
        except asyncio.CancelledError:
            # Cancelled by our own shutdown. Python 3.11's StreamReaderProtocol logs a
            # traceback for a handler task that ends cancelled, so this one ends normally.
            pass
        finally:
            connections.discard()
            writer.close()

    server = await asyncio.start_server(client_task, sock=listening_socket(host, port))
    ready(server.sockets[0].getsockname())
    async with server:
        await stopping.wait()
        server.close()
        await connections.close()


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("modern.streams"))
