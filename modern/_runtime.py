"""What every modern server shares: the event loop, the stop, and the scaffolding around a
model's own way of accepting connections.

`run(main, loop=...)` runs `main(stopping)` on uvloop (the default) or the stock asyncio loop;
SIGINT and SIGTERM set `stopping`. `serve(...)` is the life of a server on top of it: take the
listening socket (`modern._workers`, so `--workers N` works), accept in the model's way until
`stopping`, stop accepting, then end the open connections (`Connections`): idle ones at once,
those answering a request after their answer, within the grace time (`--grace`).
`entry_points` gives a model its `serve_echo` and `serve_http` from its two ways of accepting.

`Connections` also carries the server's deadlines (`rosetta.protocol.deadlines.Limits`),
which each model enforces in its idiom: `asyncio.timeout_at` around a read in the task
models, a `call_at` timer per protocol in `modern.protocol`, aiohttp's own keep-alive timer;
and its TLS context (`tls`, None for plain HTTP), which the asyncio servers take as `ssl=`
with the handshake bounded by the head deadline (`tls_server_options`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import signal
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from modern._workers import listening_socket, prefork
from rosetta import entry_points as job
from rosetta.entry_points import Ready, ServeEcho, ServeHttp
from rosetta.file_changes import answering_on
from rosetta.protocol.deadlines import DEFAULT_LIMITS, Limits
from rosetta.protocol.static import StaticSite

LOOPS = ("uvloop", "asyncio")


def loop_factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    if loop == "asyncio":
        return asyncio.new_event_loop
    raise ValueError(f"unknown event loop {loop!r} (choose from {', '.join(LOOPS)})")


def run(main: Callable[[asyncio.Event], Awaitable[None]], *, loop: str = "uvloop") -> None:
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        runner.get_loop().set_exception_handler(_one_line)
        runner.run(_until_signalled(main))


_said: dict[str, float] = {}
REPEAT_AFTER = 10.0


def _one_line(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
    """What the loop reports (the stock loop's accept out of descriptors, a callback that
    failed) as one line on stderr, not a traceback; the same report at most once per
    `REPEAT_AFTER` seconds, so an episode is one line, not one per retry."""
    message = str(context.get("message", "error in the event loop"))
    error = context.get("exception")
    line = f"{message}: {type(error).__name__}: {error}" if error else message
    now = loop.time()
    if now - _said.get(line, -REPEAT_AFTER) >= REPEAT_AFTER:
        _said[line] = now
        _warn(f"warning: {' '.join(line.split())}")


async def _until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await main(stopping)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


# -- open connections and a graceful stop ----------------------------------------------------


class Connection(Protocol):
    """What a stop needs of an open connection, whether a task or a protocol serves it."""

    def stop(self) -> None:
        """End as soon as no answer is under way (at once if idle)."""

    def abort(self) -> None:
        """End now: the grace time is over."""


# --8<-- [start:connections]
class Connections:
    """The open connections of one server, so that a stop can end them gracefully, and the
    deadlines they keep."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS, tls: ssl.SSLContext | None = None) -> None:
        self.limits = limits
        self.tls = tls
        self._open: set[Connection] = set()
        self._all_closed: asyncio.Future[None] | None = None

    def add(self, connection: Connection) -> None:
        self._open.add(connection)

    def discard(self, connection: Connection) -> None:
        self._open.discard(connection)
        if not self._open and self._all_closed is not None and not self._all_closed.done():
            self._all_closed.set_result(None)

    async def close(self) -> None:
        """Stop every connection; abort those still open after the grace time."""
        grace = self.limits.grace
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
            # --8<-- [end:connections]

    @property
    def tls_server_options(self) -> dict[str, object]:
        """`create_server`'s and `start_server`'s keywords for HTTPS (none for plain HTTP):
        the context, and a handshake not complete within the head deadline is given up."""
        if self.tls is None:
            return {}
        header = self.limits.header
        return {"ssl": self.tls, "ssl_handshake_timeout": header if header > 0 else None}


class TaskConnection:
    """A connection served by a task (the current one when made).

    `with connection:` around an answer marks it busy: a stop then lets it finish. Entered once
    per message, so it is a plain class (a generator-based context manager costs about 2 us).
    """

    __slots__ = ("busy", "task")

    def __init__(self) -> None:
        self.task = asyncio.current_task()
        self.busy = False

    def __enter__(self) -> None:
        self.busy = True

    def __exit__(self, *exc_info: object) -> None:
        self.busy = False

    def stop(self) -> None:
        if not self.busy:
            self.task.cancel()  # type: ignore[union-attr]

    def abort(self) -> None:
        self.task.cancel()  # type: ignore[union-attr]


class DescriptorShortage:
    """`accept` failing for want of descriptors: pause and retry rather than end the server,
    with one line on stderr when an episode starts and one when it is over."""

    ERRNOS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
    PAUSE = 0.1

    def __init__(self) -> None:
        self.short = False

    async def paused(self, error: OSError) -> bool:
        """True after a pause if `error` is a shortage; False for other errors."""
        if error.errno not in self.ERRNOS:
            return False
        if not self.short:
            self.short = True
            _warn(f"warning: cannot accept a client: {error.strerror}; retrying every 0.1 s")
        await asyncio.sleep(self.PAUSE)
        return True

    def over(self) -> None:
        if self.short:
            self.short = False
            _warn("info: accepting clients again")


def _warn(message: str) -> None:
    print(f"rosetta: {message}", file=sys.stderr, flush=True)


# -- the life of a server --------------------------------------------------------------------

# A model's way of accepting: on the listening socket, accept while the context is open.
Accepting = AbstractAsyncContextManager[object]
EchoAccepting = Callable[[socket.socket, Connections], Accepting]
HttpAccepting = Callable[[StaticSite, socket.socket, Connections], Accepting]


# --8<-- [start:serve]
def serve(
    host: str,
    port: int,
    accepting: EchoAccepting,
    *,
    ready: Ready,
    limits: Limits = DEFAULT_LIMITS,
    loop: str = "uvloop",
    tls: ssl.SSLContext | None = None,
) -> None:
    """Listen, accept in the model's way until SIGINT or SIGTERM, then stop accepting and end
    the open connections gracefully."""
    connections = Connections(limits, tls)

    async def main(stopping: asyncio.Event) -> None:
        with answering_on(asyncio.get_running_loop()), listening_socket(host, port) as sock:
            async with accepting(sock, connections):
                ready(sock.getsockname())
                await stopping.wait()
            await connections.close()

    run(main, loop=loop)
    # --8<-- [end:serve]


@contextlib.asynccontextmanager
async def serving(start: Awaitable[asyncio.AbstractServer]) -> AsyncIterator[None]:
    """Accepting through an asyncio server (`create_server`, `start_server`)."""
    server = await start
    try:
        yield
    finally:
        server.close()


def entry_points(echo: EchoAccepting, http: HttpAccepting) -> tuple[ServeEcho, ServeHttp]:
    """`serve_echo` and `serve_http` (with `loop=` and, by `prefork`, `workers=`) for a model
    whose ways of accepting are `echo(sock, connections)` and `http(site, sock, connections)`."""
    return echo_entry_point(echo), http_entry_point(http)


def echo_entry_point(echo: EchoAccepting) -> ServeEcho:
    return prefork(
        job.echo_entry_point(
            lambda host, port, ready, console, limits, loop="uvloop": serve(
                host, port, echo, ready=ready, limits=limits, loop=loop
            )
        )
    )


def http_entry_point(http: HttpAccepting) -> ServeHttp:
    return prefork(
        job.http_entry_point(
            lambda host, port, site, ready, console, limits, loop="uvloop", tls=None: serve(
                host,
                port,
                functools.partial(http, site),
                ready=ready,
                limits=limits,
                loop=loop,
                tls=tls,
            )
        )
    )
