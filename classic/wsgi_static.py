"""The course's static web server as a WSGI application, for `gunicorn -k gevent`.

Course: the day's web server in its gevent version (§10 applied to HTTP), scaled out the way
gevent servers are deployed: gunicorn pre-forks worker processes, each worker monkey-patches
the standard library and serves every connection in a greenlet of its own.

    gunicorn -k gevent -w 2 -b 127.0.0.1:7890 'classic.wsgi_static:make_app("./html")'

Schedules: gevent's hub in each worker switches greenlets at every socket wait; the kernel
spreads connections between the workers accepting on gunicorn's shared listening socket.
Blocks: nothing outside the hub, as long as everything is monkey-patched (gunicorn's gevent
worker does it before loading this module). Costs: a greenlet per connection plus gunicorn's
request parsing and the WSGI environ per request.
Counterpart: `modern.aiohttp` (which runs under gunicorn with `aiohttp.GunicornUVLoopWebWorker`).

Only the glue is here: gunicorn parses HTTP; `rosetta.protocol.static.StaticSite` decides, as
for every other model, which file a target names and what the answer is. The WSGI environ is
turned back into the `Request` StaticSite takes (the decoded PATH_INFO re-quoted, so StaticSite
sees the same bytes a raw socket model does), and the planned head into `start_response`.

Course bug: path traversal, no Content-Type, every method served like GET, 404 without
Content-Length. Fixed: all of them, by StaticSite. The WSGI layer adds none of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from urllib.parse import quote

from rosetta.protocol.http import ALLOWED_METHODS, ProtocolError, Request
from rosetta.protocol.static import FileSlice, StaticSite, iter_file_slice

ROOT_ENV = "ROSETTA_ROOT"
StartResponse = Callable[[str, list[tuple[str, str]]], object]
# Hop-by-hop or server-owned: the WSGI server writes these itself (PEP 3333 forbids Connection).
_SERVER_HEADERS = frozenset({b"date", b"server", b"connection"})


def make_app(root: str | os.PathLike[str] | None = None) -> Callable[..., Iterable[bytes]]:
    """A WSGI application serving `root` ($ROSETTA_ROOT, else the bundled site)."""
    if root is None:
        from rosetta.cli import BUNDLED_SITE

        root = os.environ.get(ROOT_ENV) or BUNDLED_SITE
    site = StaticSite(root)

    def static_site(environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
        plan = site.respond(request_from_environ(environ))
        status, headers = _status_and_headers(plan.head)
        start_response(status, headers)
        if isinstance(plan.body, FileSlice):
            return _file_body(plan.body)
        return [plan.body]

    return static_site


def request_from_environ(environ: dict[str, object]) -> Request | ProtocolError:
    """The event StaticSite answers, rebuilt from what the WSGI server parsed."""
    method = str(environ["REQUEST_METHOD"])
    version = str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")).removeprefix("HTTP/")
    if method not in ALLOWED_METHODS:
        return ProtocolError(
            HTTPStatus.METHOD_NOT_ALLOWED, f"method {method} not allowed",
            keep_alive=True, allow=ALLOWED_METHODS,
        )
    # PEP 3333: PATH_INFO is the percent-decoded path as latin-1 text. Quoting its bytes again
    # gives StaticSite a target that decodes to exactly those bytes.
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    target = quote(path.encode("latin-1"), safe="/").encode("ascii") or b"/"
    query = str(environ.get("QUERY_STRING", ""))
    if query:
        target += b"?" + query.encode("latin-1")
    headers = tuple(
        (key[5:].lower().replace("_", "-").encode("latin-1"), str(value).encode("latin-1"))
        for key, value in environ.items()
        if key.startswith("HTTP_")
    )
    # The WSGI server owns the connection; the plan's keep-alive is not used.
    return Request(method, target, version, headers, keep_alive=True)


def _status_and_headers(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    """Our own planned head as WSGI wants it: "200 OK" and (name, value) pairs."""
    status_line, *lines = head.rstrip(b"\r\n").split(b"\r\n")
    status = status_line.split(b" ", 1)[1].decode("latin-1")
    headers = []
    for line in lines:
        name, _, value = line.partition(b": ")
        if name.lower() not in _SERVER_HEADERS:
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
    return status, headers


def _file_body(body: FileSlice) -> Iterator[bytes]:
    yield from iter_file_slice(body)


def __getattr__(name: str) -> object:
    # `gunicorn classic.wsgi_static:application` works too (root from $ROSETTA_ROOT), built
    # on first use so that importing the module reads no environment.
    if name == "application":
        globals()["application"] = app = make_app()
        return app
    raise AttributeError(name)
