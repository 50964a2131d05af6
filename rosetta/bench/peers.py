"""Servers a user might pick instead of ours, each started the way its documentation shows:

    python -m rosetta.bench.peers NAME ROOT

binds 127.0.0.1 on a free port, prints the same ready line as `rosetta serve`, and serves
until SIGTERM. `gevent-stream` is an echo server (gevent.server.StreamServer); the others serve
the static files under ROOT: `gevent-pywsgi` (gevent.pywsgi.WSGIServer with a small
file-serving WSGI app), `uvicorn` (uvicorn with Starlette's StaticFiles on uvloop and
httptools), `aiohttp-static` (aiohttp.web with add_static on uvloop) and `http.server` (what
`python -m http.server` runs: ThreadingHTTPServer, SimpleHTTPRequestHandler). nginx and granian
are started from their own command lines (`rosetta.bench.contenders`).
"""

from __future__ import annotations

import mimetypes
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def _listening() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: no peer waits on Nagle and delayed ACKs for a split write.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)
    return sock


def _ready(sock: socket.socket, name: str, scheme: str) -> None:
    port = sock.getsockname()[1]
    print(
        f"rosetta: listening on {scheme}://127.0.0.1:{port} "
        f"(model={name.replace('-', '_')}, pid={os.getpid()})",
        flush=True,
    )


def gevent_stream(root: Path) -> None:
    del root
    from gevent import monkey

    monkey.patch_all()  # before the listening socket is made, so it is gevent's
    from gevent.server import StreamServer

    def echo(client: socket.socket, address: object) -> None:
        while True:
            data = client.recv(65536)
            if not data:
                return
            client.sendall(data)

    sock = _listening()
    server = StreamServer(sock, echo)
    _ready(sock, "gevent-stream", "tcp")
    import gevent

    gevent.signal_handler(signal.SIGTERM, server.stop)
    server.serve_forever()


def static_wsgi_app(root: Path) -> Callable[..., Iterable[bytes]]:
    """A file-serving WSGI app as small as a gevent user would write: GET and HEAD of files."""
    base = root.resolve()

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = (base / environ["PATH_INFO"].lstrip("/")).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        body = path.read_bytes()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(body)))])
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]

    return app


def gevent_pywsgi(root: Path) -> None:
    from gevent import monkey

    monkey.patch_all()
    import gevent
    from gevent.pywsgi import WSGIServer

    sock = _listening()
    server = WSGIServer(sock, static_wsgi_app(root), log=None)
    _ready(sock, "gevent-pywsgi", "http")
    gevent.signal_handler(signal.SIGTERM, server.stop)
    server.serve_forever()


def uvicorn_starlette(root: Path) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    app = Starlette(routes=[Mount("/", app=StaticFiles(directory=root))])
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    sock = _listening()
    _ready(sock, "uvicorn", "http")
    uvicorn.Server(config).run(sockets=[sock])


def aiohttp_static(root: Path) -> None:
    import uvloop
    from aiohttp import web

    app = web.Application()
    app.router.add_static("/", root)
    sock = _listening()
    _ready(sock, "aiohttp-static", "http")
    uvloop.install()
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


def http_server(root: Path) -> None:
    """What `python -m http.server --directory ROOT` runs: ThreadingHTTPServer with
    SimpleHTTPRequestHandler (HTTP/1.0, a connection per request), on our own socket."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            del format, args

    handler = functools.partial(Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
    server.socket.close()
    server.socket = _listening()
    _ready(server.socket, "http.server", "http")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    server.serve_forever()


async def not_found_app(scope: dict, receive: Callable, send: Callable) -> None:
    """granian's application for paths outside its static route: 404, nothing else."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


PEERS: dict[str, Callable[[Path], None]] = {
    "gevent-stream": gevent_stream,
    "gevent-pywsgi": gevent_pywsgi,
    "uvicorn": uvicorn_starlette,
    "aiohttp-static": aiohttp_static,
    "http.server": http_server,
}


def main(argv: list[str]) -> int:
    name, root = argv[0], Path(argv[1])
    PEERS[name](root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
