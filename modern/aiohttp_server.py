"""Modern counterpart of the course's static web server (the day's HTTP part, in its §10
gevent version and its §2/§3 process and thread versions): `aiohttp.web` with one static
route over the document root. HTTP only.

Schedules: the event loop (uvloop by default, `--loop asyncio`), one aiohttp request-handler
per connection and one handler task per request. Blocks: nothing; aiohttp sends files with
`loop.sendfile` and does its own flow control (the transport's write buffer limits pause
reading). Costs: aiohttp's whole HTTP stack per connection (parser, request and response
objects, middleware), more than `modern.protocol`'s bytes-in/bytes-out, in exchange for a real
framework: routing, middleware, conditional and range requests done by `web.FileResponse`.

The application is `rosetta.adapters.aiohttp_web.make_app`: one route whose handler asks
`StaticSite.choose` which file answers a request (exactly as every other model does) and lets
`web.FileResponse` send it. This module only runs it: an `AppRunner` on the listening socket
`--workers` gives, until SIGINT or SIGTERM, with aiohttp's per-request tracebacks cut to one
line on stderr. What still differs from the byte-identical models is listed, with why, in
`parity_tests/accepted_differences.py`.

Deadlines: aiohttp's own keep-alive timer is `--keepalive-timeout` (from accept, and after each
answer); the first request's head is bounded by `--header-timeout` from accept here (a timer
per connection writes the same 408 every model writes); aiohttp has no deadline for the head
of a later request, which its keep-alive timer ends silently instead (see
`parity_tests/accepted_differences.py`).

Replaces the course's web server (`classic.gevent_server` with `http`, and the process and
thread versions). Migrating from it: the accept loop, the greenlet per client and the
hand-written response disappear; a handler `async def static_file(request)` returns a response
object and aiohttp writes it; `monkey.patch_all()` is gone because nothing blocks. To use more
cores, run it with `--workers N`, or the same application under gunicorn (docs/scale-out.md).

HTTPS (`--certfile`): `create_server(ssl=context)`, the handshake within `--header-timeout`;
`web.FileResponse` then sends files through the TLS transport in chunks (sendfile cannot
encrypt, so it falls back).

Course bug: path traversal, no Content-Type, every method served like GET. Fixed: the target
is mapped by StaticSite, the media type is StaticSite's, and only GET and HEAD are served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator

from aiohttp import web

from modern._runtime import Connections, http_entry_point
from rosetta.adapters.aiohttp_web import access_log_arguments, app_for
from rosetta.console import Console
from rosetta.protocol.deadlines import REQUEST_TIMEOUT
from rosetta.protocol.static import StaticSite

# aiohttp's keep-alive timer takes seconds only (None fails in its connection_made): "off"
# (`--keepalive-timeout 0`) is a year.
KEEPALIVE_OFF = 365 * 24 * 3600.0


# --8<-- [start:accept]
@contextlib.asynccontextmanager
async def accepting(
    site: StaticSite, sock: socket.socket, connections: Connections
) -> AsyncIterator[None]:
    """aiohttp's `AppRunner` on the listening socket; aiohttp keeps its own connections and
    ends them within the grace time at `cleanup`."""
    _quiet_aiohttp_logs()
    limits = connections.limits
    runner = web.AppRunner(
        app_for(site),
        handle_signals=False,
        shutdown_timeout=limits.grace,
        keepalive_timeout=limits.keepalive or KEEPALIVE_OFF,
        **access_log_arguments(site),  # type: ignore[arg-type]
    )
    await runner.setup()
    loop = asyncio.get_running_loop()
    timeout = _head(site)

    def new_connection() -> web.RequestHandler:
        handler = runner.server()
        if limits.header > 0:
            loop.call_later(limits.header, _head_due, handler, timeout)
        return handler

    server = await loop.create_server(new_connection, sock=sock, **connections.tls_server_options)
    try:
        yield
    finally:
        server.close()
        await runner.cleanup()
        # --8<-- [end:accept]


def _head(site: StaticSite) -> bytes:
    # Rendered once, before any client: StaticSite's own respond, so an access log records
    # no request for it.
    plan = StaticSite.respond(site, REQUEST_TIMEOUT)
    return plan.head + plan.body  # type: ignore[operator]


def _head_due(handler: web.RequestHandler, timeout: bytes) -> None:
    transport = handler.transport
    # aiohttp counts the request heads it has parsed on a connection: none yet, and the
    # first one is late.
    if transport is None or transport.is_closing() or handler._request_count:
        return
    transport.write(timeout)
    transport.close()


class _OneLine(logging.Handler):
    """aiohttp logs a traceback for every malformed request; a line on stderr is enough."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.WARNING)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        detail = f": {type(error).__name__}: {error}" if error else ""
        self.console.warn(f"rosetta: aiohttp: {record.getMessage()}{detail}")


def _quiet_aiohttp_logs() -> None:
    server_log = logging.getLogger("aiohttp.server")
    server_log.handlers[:] = [_OneLine(Console())]  # warnings print whatever the volume
    server_log.propagate = False


serve_http = http_entry_point(accepting)


if __name__ == "__main__":
    import sys

    from rosetta.cli import module_main

    arguments = sys.argv[1:]
    if arguments[:1] != ["http"]:
        arguments.insert(0, "http")
    raise SystemExit(module_main("modern.aiohttp", arguments))
