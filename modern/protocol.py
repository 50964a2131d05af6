"""Modern counterpart of course §5 (select: 5a echo, 5b with a write list) and §6 (epoll):
`asyncio.Protocol` callbacks on a transport, no task and no coroutine per connection.
Replaces `classic.select_echo` (§5a), `classic.select_writelist` (§5b) and
`classic.epoll_server` (§6).

Schedules: the event loop (uvloop by default, `--loop asyncio` for the stock one) waits for
readiness with epoll, as §6 did by hand, and calls the protocol of the connection that is
ready: `data_received(bytes)` when bytes came, `eof_received()` on a clean close,
`connection_lost(exc)` at the end, `pause_writing()`/`resume_writing()` when the transport's
write buffer crosses its high/low water marks. Blocks: nothing; a callback must return quickly.
Costs: a transport and one small protocol object per connection (the HTTP parser is created
when the first bytes arrive, so an idle connection costs well under 2 KiB), the least of any
modern model: no task, no StreamReader buffer.

Files are sent without copying them through Python where the loop allows it: the stock loop
has `loop.sendfile(transport, file)`; uvloop does not implement it (MagicStack/uvloop#228), so
on uvloop the protocol calls `os.sendfile` on the transport's socket itself, only while the
transport's write buffer is empty and reading is paused (nothing else can write or read
then), waiting for writability through a `dup()` of the descriptor. If the buffer is not
empty, the file is read in chunks written through the transport, respecting `pause_writing`.

Backpressure: when the transport pauses writing (the peer does not read), the protocol pauses
reading, so a client that sends and never reads fills its own socket buffers, not our memory.

Migrating from §5/§6: the `inputs`/`outputs` lists, the `message_queue` dict and the
`connections`/`addresses` dicts keyed by `fileno()` disappear: the loop owns registration, and
the per-connection state lives on the protocol object. `recv` becomes the `data_received`
argument; `send` + a write list becomes `transport.write()`, which buffers what the socket
did not take and flushes it when writable (so the §5b "partial send" bug cannot happen); the
write list's only other job, not reading faster than you can write, becomes
`pause_writing` -> `transport.pause_reading()`. Closing is `transport.close()`, which flushes
first and unregisters before closing the descriptor (the §6 EBADF bug cannot happen).
Edge-triggered draining, EAGAIN loops and the readiness masks are the loop's business.
§5a's "a line on stdin stops the server" becomes SIGINT/SIGTERM handled by the loop, which
stops accepting and closes idle connections at once, busy ones after their answer.
Code that awaits (a database, a timer) does not fit in a callback: use `modern.streams`.
`--workers N` runs N such servers on one port (`modern.workers`).

Course bug (§5a/§5b/§6): partial sends, unhandled resets and stranded edge-triggered data.
Fixed: by the transport, which handles all three for every connection.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from modern.runtime import GRACE_SECONDS, run
from modern.workers import listening_socket, prefork
from rosetta.console import Console
from rosetta.protocol.echo import EchoSession
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import FileSlice, StaticSite

Ready = Callable[[tuple], None]
# What the chunked fallback reads and writes at a time; it stops at pause_writing.
CHUNK_SIZE = 256 * 1024


class OpenConnections:
    """The protocols of open connections, so that a stop can close them gracefully.

    A protocol callback runs outside any task, so `modern.runtime.Connections` (which tracks
    tasks) does not apply; this is its callback-world twin: idle connections are closed at
    once, a connection mid-response after it, and whatever is left after the grace time is
    aborted.
    """

    def __init__(self) -> None:
        self._open: set[_Connection] = set()
        self._all_closed: asyncio.Future[None] | None = None

    def add(self, connection: _Connection) -> None:
        self._open.add(connection)

    def discard(self, connection: _Connection) -> None:
        self._open.discard(connection)
        if not self._open and self._all_closed is not None and not self._all_closed.done():
            self._all_closed.set_result(None)

    async def close(self, grace: float = GRACE_SECONDS) -> None:
        if not self._open:
            return
        self._all_closed = asyncio.get_running_loop().create_future()
        for connection in list(self._open):
            connection.stop()
        try:
            await asyncio.wait_for(asyncio.shield(self._all_closed), grace)
        except TimeoutError:
            for connection in list(self._open):
                connection.abort()
            await asyncio.wait([self._all_closed], timeout=grace)


class _Connection(asyncio.Protocol):
    """What the echo and HTTP protocols share: the transport, flow control and a clean stop."""

    __slots__ = ("_open", "_reading_paused", "_transport", "_writing_paused")

    def __init__(self, open_connections: OpenConnections) -> None:
        self._open = open_connections
        self._transport: asyncio.Transport | None = None
        self._writing_paused = False
        self._reading_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._open.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._open.discard(self)

    def pause_writing(self) -> None:
        # The peer is not reading what we send: stop reading what it sends.
        self._writing_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._resume_reading()

    def _pause_reading(self) -> None:
        transport = self._transport
        if not self._reading_paused and transport is not None and not transport.is_closing():
            self._reading_paused = True
            transport.pause_reading()

    def _resume_reading(self) -> None:
        transport = self._transport
        if self._reading_paused and transport is not None and not transport.is_closing():
            self._reading_paused = False
            transport.resume_reading()

    def stop(self) -> None:
        """The server stops: close (after flushing) unless a response is under way."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class EchoProtocol(_Connection):
    __slots__ = ("_session",)

    def __init__(self, open_connections: OpenConnections) -> None:
        super().__init__(open_connections)
        self._session = EchoSession()

    def data_received(self, data: bytes) -> None:
        self._transport.write(self._session.receive_data(data))  # type: ignore[union-attr]

    def eof_received(self) -> bool:
        self._session.receive_data(b"")
        return False  # the transport closes after flushing what is still buffered


class _FileSend:
    """A file body in flight: where we are in it, and what waits for the socket."""

    __slots__ = ("file", "keep_alive", "offset", "remaining", "task", "watch_fd")

    def __init__(self, file: object, body: FileSlice, keep_alive: bool) -> None:
        self.file = file
        self.offset = body.offset
        self.remaining = body.length
        self.keep_alive = keep_alive
        self.watch_fd = -1
        self.task: asyncio.Task[None] | None = None


class HTTPProtocol(_Connection):
    __slots__ = ("_conn", "_native_sendfile", "_sending", "_site", "_stopping")

    def __init__(
        self, open_connections: OpenConnections, site: StaticSite, native_sendfile: bool
    ) -> None:
        super().__init__(open_connections)
        self._site = site
        self._native_sendfile = native_sendfile
        self._conn: HTTPConnection | None = None
        self._sending: _FileSend | None = None
        self._stopping = False

    # -- the transport's callbacks ---------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        conn = self._conn
        if conn is None:
            conn = self._conn = HTTPConnection()
        conn.receive_data(data)
        if self._sending is None and not self._writing_paused:
            self._answer()

    def eof_received(self) -> bool:
        if self._conn is None:
            return False
        self._conn.receive_data(b"")
        if self._sending is None and not self._writing_paused:
            self._answer()
        return True  # keep our side open until the answers are out; _answer closes

    def resume_writing(self) -> None:
        self._writing_paused = False
        sending = self._sending
        if sending is None:
            self._resume_reading()
            if self._conn is not None:
                self._answer()
        elif sending.task is None and sending.watch_fd < 0:
            self._send_chunks()  # reading stays paused until the file is out

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish_file()
        super().connection_lost(exc)

    def stop(self) -> None:
        self._stopping = True
        if self._sending is None:
            super().stop()

    # -- answering requests --------------------------------------------------------------

    def _answer(self) -> None:
        """Answer every complete request, in order, until one needs the socket for a while."""
        conn = self._conn
        transport = self._transport
        assert conn is not None and transport is not None
        for event in conn.events():
            plan = self._site.respond(event)
            body = plan.body
            if isinstance(body, FileSlice):
                self._start_file(plan.head, body, plan.keep_alive)
                return
            transport.write(plan.head + body if body else plan.head)
            if not plan.keep_alive:
                transport.close()
                return
            if self._writing_paused:
                return  # the rest waits for resume_writing
        if conn.peer_closed or self._stopping:
            transport.close()

    def _start_file(self, head: bytes, body: FileSlice, keep_alive: bool) -> None:
        transport = self._transport
        assert transport is not None
        try:
            file = open(body.path, "rb")  # noqa: SIM115 - closed in _finish_file
        except OSError:
            transport.abort()
            return
        sending = self._sending = _FileSend(file, body, keep_alive)
        # Nothing more is read (or parsed) until this body is out.
        self._pause_reading()
        transport.write(head)
        if self._native_sendfile:
            sending.task = asyncio.get_running_loop().create_task(self._loop_sendfile(sending))
        elif transport.get_write_buffer_size() == 0:
            self._os_sendfile()
        else:
            self._send_chunks()

    async def _loop_sendfile(self, sending: _FileSend) -> None:
        """The stock loop: loop.sendfile waits for the buffer to drain and uses os.sendfile."""
        loop = asyncio.get_running_loop()
        try:
            # No fallback: the stock one reads the file in a thread pool; if os.sendfile
            # cannot serve this socket, the connection is broken anyway.
            sent = await loop.sendfile(
                self._transport,  # type: ignore[arg-type]
                sending.file,  # type: ignore[arg-type]
                sending.offset,
                sending.remaining,
                fallback=False,
            )
        except (OSError, RuntimeError, ValueError):
            sent = -1
        finally:
            sending.task = None
            if self._sending is not sending:
                sending.file.close()  # type: ignore[attr-defined]
        if sent != sending.remaining:
            self.abort()  # the file shrank, or the peer went away: the length was a promise
            return
        sending.remaining = 0
        self._file_sent()

    def _os_sendfile(self) -> None:
        """uvloop: os.sendfile straight to the socket while its transport buffer is empty."""
        sending = self._sending
        transport = self._transport
        if sending is None or transport is None or transport.is_closing():
            return
        sock_fd = transport.get_extra_info("socket").fileno()
        file_fd = sending.file.fileno()  # type: ignore[attr-defined]
        while sending.remaining:
            try:
                sent = os.sendfile(sock_fd, file_fd, sending.offset, sending.remaining)
            except BlockingIOError:
                self._wait_writable(sending, sock_fd)
                return
            except OSError:
                self.abort()
                return
            if sent == 0:
                self.abort()  # the file shrank under us
                return
            sending.offset += sent
            sending.remaining -= sent
        self._file_sent()

    def _wait_writable(self, sending: _FileSend, sock_fd: int) -> None:
        # libuv watches one handle per descriptor and the transport owns this one, so the
        # loop watches a duplicate of it (the same socket) for writability.
        if sending.watch_fd < 0:
            sending.watch_fd = os.dup(sock_fd)
            asyncio.get_running_loop().add_writer(sending.watch_fd, self._os_sendfile)

    def _send_chunks(self) -> None:
        """The fallback: read the file in chunks and write them, as long as the peer reads."""
        sending = self._sending
        transport = self._transport
        if sending is None or transport is None or transport.is_closing():
            return
        file_fd = sending.file.fileno()  # type: ignore[attr-defined]
        while sending.remaining and not self._writing_paused:
            chunk = os.pread(file_fd, min(CHUNK_SIZE, sending.remaining), sending.offset)
            if not chunk:
                self.abort()  # the file shrank under us
                return
            transport.write(chunk)
            sending.offset += len(chunk)
            sending.remaining -= len(chunk)
        if not sending.remaining:
            self._file_sent()

    def _file_sent(self) -> None:
        sending = self._sending
        transport = self._transport
        assert sending is not None and transport is not None
        self._finish_file()
        if not sending.keep_alive or self._stopping:
            transport.close()
            return
        if not self._writing_paused:
            self._resume_reading()
            self._answer()

    def _finish_file(self) -> None:
        sending = self._sending
        if sending is None:
            return
        self._sending = None
        if sending.watch_fd >= 0:
            asyncio.get_running_loop().remove_writer(sending.watch_fd)
            os.close(sending.watch_fd)
            sending.watch_fd = -1
        if sending.task is not None:
            sending.task.cancel()  # the task closes the file once loop.sendfile has let go
        else:
            sending.file.close()  # type: ignore[attr-defined]


@prefork
def serve_echo(
    host: str, port: int, *, ready: Ready, console: Console, loop: str = "uvloop"
) -> None:
    open_connections = OpenConnections()
    run(
        lambda stopping: _serve(
            host, port, lambda: EchoProtocol(open_connections), open_connections, ready, stopping
        ),
        loop=loop,
    )


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
    open_connections = OpenConnections()
    # Only the stock loop implements loop.sendfile (uvloop raises NotImplementedError).
    native_sendfile = loop == "asyncio"
    run(
        lambda stopping: _serve(
            host,
            port,
            lambda: HTTPProtocol(open_connections, site, native_sendfile),
            open_connections,
            ready,
            stopping,
        ),
        loop=loop,
    )


async def _serve(
    host: str,
    port: int,
    protocol_factory: Callable[[], asyncio.Protocol],
    open_connections: OpenConnections,
    ready: Ready,
    stopping: asyncio.Event,
) -> None:
    server = await asyncio.get_running_loop().create_server(
        protocol_factory, sock=listening_socket(host, port)
    )
    ready(server.sockets[0].getsockname())
    async with server:
        await stopping.wait()
        server.close()
        await open_connections.close()


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("modern.protocol"))
