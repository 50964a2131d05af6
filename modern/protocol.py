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

Files are sent without copying them through Python where the loop allows it
(`modern._sendfile`: `loop.sendfile` on the stock loop, `os.sendfile` on the transport's
socket on uvloop, chunks through the transport while its buffer is not empty); reading stays
paused until the body is out. Over HTTPS (`--certfile`, `ssl=` on `create_server`) the
transport encrypts, and file bodies go through it in chunks.

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
`--workers N` runs N such servers on one port (`modern._workers`).

Deadlines (`rosetta.protocol.deadlines`): one `call_at` timer per connection
(`modern._transport`); a head not complete in time gets a 408, an idle keep-alive connection is
closed, a send without progress is aborted (except inside the stock loop's `loop.sendfile`,
which reports nothing until the file is out).

Course bug (§5a/§5b/§6): partial sends, unhandled resets and stranded edge-triggered data.
Fixed: by the transport, which handles all three for every connection.
"""

from __future__ import annotations

import asyncio
import socket
import time

from modern._runtime import Accepting, Connections, entry_points, serving
from modern._transport import FileServingConnection, TransportConnection
from rosetta.protocol.deadlines import IdleDeadline
from rosetta.protocol.echo import EchoSession
from rosetta.protocol.files import FileSlice
from rosetta.protocol.http import HTTPConnection
from rosetta.protocol.static import StaticSite


# --8<-- [start:echo]
class EchoProtocol(TransportConnection):
    __slots__ = ("_idle", "_session")

    def __init__(self, connections: Connections) -> None:
        super().__init__(connections)
        self._session = EchoSession()

    def started(self, now: float) -> None:
        self._idle = IdleDeadline(self._limits, now)

    def deadline(self) -> float | None:
        return self.send_deadline() if self._writing_paused else self._idle.until

    def data_received(self, data: bytes) -> None:
        self._transport.write(self._session.receive_data(data))  # type: ignore[union-attr]
        self._idle.update(time.monotonic())

    def eof_received(self) -> bool:
        self._session.receive_data(b"")
        return False  # the transport closes after flushing what is still buffered
        # --8<-- [end:echo]


# --8<-- [start:state]
class HTTPProtocol(FileServingConnection):
    __slots__ = ("_conn",)

    def __init__(self, connections: Connections, site: StaticSite, native_sendfile: bool) -> None:
        super().__init__(connections, site, native_sendfile)
        self._conn: HTTPConnection | None = None

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
        # Keep our side open until the answers are out (_answer closes); a TLS transport
        # closes itself after a close_notify, whatever this returns.
        return self._transport.get_extra_info("sslcontext") is None  # type: ignore[union-attr]
        # --8<-- [end:state]

    def resume_writing(self) -> None:
        self._writing_paused = False
        if self._sending is None:
            self._resume_reading()
            if self._conn is not None:
                self._answer()
        else:
            self._sending.resume_writing()  # reading stays paused until the file is out

    # -- answering requests --------------------------------------------------------------

    def _answer(self) -> None:
        """Answer every complete request, in order, until one needs the socket for a while."""
        conn = self._conn
        transport = self._transport
        assert conn is not None and transport is not None
        for event in conn.events():
            plan = self._site.respond(event, transport.get_extra_info("peername"))
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
            return
        self._read.update(time.monotonic(), conn.in_message)
        self._rearm()


def _echo(sock: socket.socket, connections: Connections) -> Accepting:
    loop = asyncio.get_running_loop()
    return serving(loop.create_server(lambda: EchoProtocol(connections), sock=sock))


def _http(site: StaticSite, sock: socket.socket, connections: Connections) -> Accepting:
    loop = asyncio.get_running_loop()
    # Only the stock loop implements loop.sendfile (uvloop raises NotImplementedError).
    native_sendfile = isinstance(loop, asyncio.BaseEventLoop)
    return serving(
        loop.create_server(
            lambda: HTTPProtocol(connections, site, native_sendfile),
            sock=sock,
            **connections.tls_server_options,  # HTTPS: file bodies in chunks (modern._sendfile)
        )
    )


serve_echo, serve_http = entry_points(_echo, _http)


if __name__ == "__main__":
    from rosetta.cli import module_main

    raise SystemExit(module_main("modern.protocol"))
