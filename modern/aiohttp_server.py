"""Modern counterpart of the course's static web server (the day's HTTP part, in its §10
gevent version and its §2/§3 process and thread versions): `aiohttp.web` with one static
route over the document root. HTTP only.

Schedules: the event loop (uvloop by default, `--loop asyncio`), one aiohttp request-handler
per connection and one handler task per request. Blocks: nothing; aiohttp sends files with
`loop.sendfile` and does its own flow control (the transport's write buffer limits pause
reading). Costs: aiohttp's whole HTTP stack per connection (parser, request and response
objects, middleware), more than `modern.protocol`'s bytes-in/bytes-out, in exchange for a real
framework: routing, middleware, conditional and range requests done by `web.FileResponse`.

The route is the static site's, with one decision kept in the project's own code: which file a
target names. `rosetta.protocol.static.StaticSite.resolve` maps the target (percent-decoding,
`/` and directories to `index.html`, every traversal refused, symlinks only inside the root),
exactly as for every other model; `web.FileResponse` then serves that file the aiohttp way.
(`router.add_static` would serve the same files, `follow_symlinks=False` keeping symlinks
inside the root, but answers directories with 403, `//file` with 404, and reads through a
thread per request.) What still differs from the byte-identical models is listed, with why, in
`parity_tests/accepted_differences.py`.

Replaces the course's web server (`classic.gevent_server` with `http`, and the process and
thread versions). Migrating from it: the accept loop, the greenlet per client and the
hand-written response disappear; a handler `async def static_file(request)` returns a response
object and aiohttp writes it; `monkey.patch_all()` is gone because nothing blocks. To use more
cores, run it with `--workers N`, or under gunicorn (docs/scale-out.md):

    gunicorn 'modern.aiohttp_server:make_app("./html")' -k aiohttp.GunicornUVLoopWebWorker
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from http import HTTPStatus

from aiohttp import web

from modern.runtime import GRACE_SECONDS, run
from modern.workers import listening_socket, prefork
from rosetta.console import Console
from rosetta.protocol.http import (
    ALLOWED_METHODS,
    MAX_HEADER_BYTES,
    MAX_HEADER_COUNT,
    MAX_REQUEST_LINE,
    error_page,
)
from rosetta.protocol.static import StaticSite, content_type

Ready = Callable[[tuple], None]
ROOT_ENV = "ROSETTA_ROOT"
SITE_KEY = web.AppKey("site", StaticSite)
# aiohttp's parser answers 400 to anything over its limits. Set them at twice ours, so a head
# over our limits (but under twice them) reaches `static_file`, which answers 414 or 431 as
# every other model does; beyond twice, aiohttp's 400 stands (an accepted difference).
HANDLER_LIMITS = {
    "max_line_size": 2 * MAX_REQUEST_LINE,
    "max_field_size": 2 * MAX_HEADER_BYTES,
    "max_headers": 2 * MAX_HEADER_COUNT,
}


def make_app(root: str | os.PathLike[str] | None = None) -> web.Application:
    """The application: one route for every path, serving files of `root`.

    Also the app factory for gunicorn; without an argument the root comes from $ROSETTA_ROOT,
    else the bundled site.
    """
    if root is None:
        from rosetta.cli import BUNDLED_SITE

        root = os.environ.get(ROOT_ENV) or BUNDLED_SITE
    app = web.Application(handler_args=HANDLER_LIMITS)
    app[SITE_KEY] = StaticSite(root)
    app.router.add_route("*", "/{path:.*}", static_file)
    return app


async def static_file(request: web.Request) -> web.StreamResponse:
    refused = _over_limits(request)
    if refused:
        response = _error(refused)
        response.force_close()
        return response
    if request.method not in ALLOWED_METHODS:
        return _error(HTTPStatus.METHOD_NOT_ALLOWED, Allow=", ".join(ALLOWED_METHODS))
    found = request.app[SITE_KEY].resolve(request.raw_path.encode("utf-8", "surrogateescape"))
    if isinstance(found, int):
        return _error(found)
    path, _ = found
    return web.FileResponse(path, headers={"Content-Type": content_type(path).decode("ascii")})


def _over_limits(request: web.Request) -> int:
    """The status for a head over rosetta.protocol.http's limits, else 0."""
    if len(request.raw_path) > MAX_REQUEST_LINE:
        return HTTPStatus.REQUEST_URI_TOO_LONG
    headers = request.raw_headers
    if len(headers) > MAX_HEADER_COUNT:
        return HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    if sum(len(name) + len(value) + 4 for name, value in headers) > MAX_HEADER_BYTES:
        return HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    return 0


def _error(status: int, **headers: str) -> web.Response:
    # The same page as every other model's, so a browser shows the same thing.
    return web.Response(
        status=status, body=error_page(status), content_type="text/html", charset="utf-8",
        headers=headers,
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
    _quiet_aiohttp_logs(console)
    app = make_app(root)

    async def main(stopping: asyncio.Event) -> None:
        runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=GRACE_SECONDS
        )
        await runner.setup()
        try:
            sock = listening_socket(host, port)
            await web.SockSite(runner, sock).start()
            ready(sock.getsockname())
            await stopping.wait()
        finally:
            await runner.cleanup()

    run(main, loop=loop)


class _OneLine(logging.Handler):
    """aiohttp logs a traceback for every malformed request; a line on stderr is enough."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.WARNING)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        detail = f": {type(error).__name__}: {error}" if error else ""
        self.console.warn(f"rosetta: aiohttp: {record.getMessage()}{detail}")


def _quiet_aiohttp_logs(console: Console) -> None:
    server_log = logging.getLogger("aiohttp.server")
    server_log.handlers[:] = [_OneLine(console)]
    server_log.propagate = False


if __name__ == "__main__":
    import sys

    from rosetta.cli import module_main

    arguments = sys.argv[1:]
    raise SystemExit(module_main("modern.aiohttp", arguments if arguments[:1] == ["http"]
                                 else ["http", *arguments]))
